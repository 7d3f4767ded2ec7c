"""Measure the studio curves mix_and_master's EQ aims at; write aural/data/studio_curves/*.json.

A curve is the long-term third-octave spectrum of studio recordings. Speech: the clean
studio sets in ../shared/data (DAPS clean, CMU ARCTIC, VoiceBank clean, SiSEC speech, LJ
Speech, and the two full-band CC clips, the DeepFilterNet clean speech and xmas_cc0);
the GCompris and KLettres word lists are left out, being home recordings of single words.
Music: the produced mixes (SiSEC "Roads" and "Ultimate NZ Tour", the MUSDB sample).

Each file is measured as the mastering stage measures its input (active ticks only; bands
without content left out: above the file's cut-off, below its high-pass, near its pauses'
level), normalised to 0 dB mean over 200 Hz-4 kHz; files are averaged in dB within a
corpus, and corpora are averaged with weights equal to their duration, at most two
minutes each, so that no one speaker set decides the curve. Outside 200 Hz-4 kHz the curve
goes on band by band by the mean step of the corpora that reach both bands, so that a
corpus stopping at 7 kHz does not make a step where it stops. Bands no file reaches stay
unmeasured (null): the EQ makes no correction there.

Beside the curve: ``spread_db``, how far single studio recordings naturally lie from it
per band (RMS over files of their smoothed, aligned deviation; corpora weighted as above).
The EQ corrects only what lies beyond that spread, so a deep male voice is not thinned to
the average. And ``leave_one_out_rms_db``: each corpus's distance from the curve measured
without it, a check of how well one curve fits unseen voices.

Run: python scripts/measure_studio_curves.py
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: A corpus counts with its duration, at most this many seconds.
MAX_CORPUS_WEIGHT_SECONDS = 120.0
_NORMALISE_HZ = (200.0, 4000.0)
_ALIGN_HZ = (100.0, 8000.0)


def file_levels(path: Path) -> tuple[np.ndarray, float]:
    """A file's normalised active band levels (NaN: no content) and its duration."""
    from aural.audio_io import load_audio
    from aural.mastering import BAND_CENTRES_HZ, analyse
    from aural.mastering.eq import active_levels, content_bands

    audio, rate = load_audio(path)
    result = analyse(audio, rate)
    levels = active_levels(result)
    levels[~content_bands(result, levels)] = np.nan
    centres = np.asarray(BAND_CENTRES_HZ)
    middle = (centres >= _NORMALISE_HZ[0]) & (centres <= _NORMALISE_HZ[1]) & np.isfinite(levels)
    if not middle.any():
        return np.full(len(centres), np.nan), 0.0
    return levels - np.mean(levels[middle]), audio.shape[1] / rate


def corpus_of(source: str) -> str:
    """The corpus a catalogue source (speaker, song) belongs to."""
    return source.split("_")[0]


def _weighted_mean(rows: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Per band, the weighted mean of the finite values (NaN where there is none)."""
    table = np.array(rows)
    weight = np.where(np.isfinite(table), np.array(weights)[:, None], 0.0)
    total = weight.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (np.nan_to_num(table) * weight).sum(axis=0) / total, np.nan)


def _deviation(levels: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """A file's deviation from a curve as the EQ sees it: aligned at the median band of
    100 Hz-8 kHz and smoothed over three bands (NaN where either is unmeasured)."""
    from aural.mastering import BAND_CENTRES_HZ
    from aural.mastering.eq import _smooth_three

    centres = np.asarray(BAND_CENTRES_HZ)
    difference = levels - curve
    align = np.isfinite(difference) & (centres >= _ALIGN_HZ[0]) & (centres <= _ALIGN_HZ[1])
    if align.sum() < 3:
        return np.full(len(centres), np.nan)
    difference = difference - np.median(difference[align])
    smooth = _smooth_three(np.nan_to_num(difference))
    return np.where(np.isfinite(difference), smooth, np.nan)


class Corpora:
    """Per-file levels grouped by corpus, and the statistics over them."""

    def __init__(self, recordings: list) -> None:
        self.files: dict[str, list[tuple[np.ndarray, float, str]]] = defaultdict(list)
        for recording in recordings:
            levels, seconds = file_levels(recording.path)
            if seconds:
                self.files[corpus_of(recording.source)].append(
                    (levels, seconds, str(recording.path)))

    def weight(self, corpus: str) -> float:
        return min(sum(s for _, s, _ in self.files[corpus]), MAX_CORPUS_WEIGHT_SECONDS)

    def corpus_mean(self, corpus: str) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # bands no file reaches
            return np.nanmean(np.array([levels for levels, _, _ in self.files[corpus]]), axis=0)

    def curve(self, leave_out: str | None = None) -> np.ndarray:
        """The weighted mean of the corpora over 200 Hz-4 kHz (where all have content), then
        band by band outwards by the weighted mean step of the corpora that have both bands:
        corpora that stop at 7 or 10 kHz then shape the curve up to there without pulling
        the bands above down to their level."""
        from aural.mastering import BAND_CENTRES_HZ

        names = [c for c in sorted(self.files) if c != leave_out]
        means = np.array([self.corpus_mean(c) for c in names])
        weights = [self.weight(c) for c in names]
        centres = np.asarray(BAND_CENTRES_HZ)
        middle = np.flatnonzero((centres >= _NORMALISE_HZ[0]) & (centres <= _NORMALISE_HZ[1]))
        curve = np.full(len(centres), np.nan)
        curve[middle] = _weighted_mean(list(means[:, middle]), weights)
        for band, neighbour in ([(b, b - 1) for b in range(middle[-1] + 1, len(centres))]
                                + [(b, b + 1) for b in range(middle[0] - 1, -1, -1)]):
            step = _weighted_mean(list(means[:, [band]] - means[:, [neighbour]]), weights)[0]
            curve[band] = curve[neighbour] + step
        return curve

    def spread(self, curve: np.ndarray) -> np.ndarray:
        """Per band, the RMS deviation of single files from ``curve`` (corpora weighted)."""
        rows, weights = [], []
        for corpus in sorted(self.files):
            deviations = np.array([_deviation(levels, curve)
                                   for levels, _, _ in self.files[corpus]])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rows.append(np.sqrt(np.nanmean(deviations ** 2, axis=0)))
            weights.append(self.weight(corpus))
        return _weighted_mean(rows, weights)

    def leave_one_out(self) -> dict[str, float]:
        """Each corpus's files' median RMS deviation (63 Hz-8 kHz) from the curve made
        without that corpus."""
        from aural.mastering import BAND_CENTRES_HZ

        centres = np.asarray(BAND_CENTRES_HZ)
        band = (centres >= 63) & (centres <= 8000)
        out = {}
        for corpus in sorted(self.files):
            curve = self.curve(leave_out=corpus)
            rms = [np.sqrt(np.nanmean(d[band] ** 2)) for d in
                   (_deviation(levels, curve) for levels, _, _ in self.files[corpus])
                   if np.isfinite(d[band]).sum() >= 5]
            if rms:
                out[corpus] = round(float(np.median(rms)), 2)
        return out


def _rounded(values: np.ndarray) -> list:
    return [None if not np.isfinite(v) else round(float(v), 2) for v in values]


def measure(recordings: list) -> dict:
    """The curve over ``recordings`` (catalogue entries) and how it was made."""
    corpora = Corpora(recordings)
    curve = corpora.curve()
    return {"level_db": _rounded(curve), "spread_db": _rounded(corpora.spread(curve)),
            "leave_one_out_rms_db": corpora.leave_one_out(),
            "corpora": {c: {"files": len(rows), "seconds": round(sum(s for _, s, _ in rows), 1),
                            "weight_seconds": round(corpora.weight(c), 1),
                            "bands_measured": np.sum(np.isfinite(
                                [levels for levels, _, _ in rows]), axis=0).tolist()}
                        for c, rows in sorted(corpora.files.items())},
            "files": sorted(str(Path(path).relative_to(Path(path).parents[2]))
                            for rows in corpora.files.values() for _, _, path in rows)}


def speech_recordings() -> list:
    """Clean studio speech from the catalogue (every split: a curve is not a model)."""
    from aural.data.sources import catalogue

    return catalogue(kinds=("speech",), include_external=False)


def music_recordings() -> list:
    """Produced mixes (SiSEC, MUSDB): the mixture files only."""
    from aural.data.sources import catalogue

    return [r for r in catalogue(kinds=("music",), include_external=False)
            if "mix" in r.path.stem.lower() or r.path.stem == "mixture"]


def main() -> None:
    from aural.atomic import atomic_file
    from aural.mastering import BAND_CENTRES_HZ, CURVES_DIR

    CURVES_DIR.mkdir(parents=True, exist_ok=True)
    for name, choose in (("speech", speech_recordings), ("music", music_recordings)):
        payload = {"name": name, "bands_hz": [round(c, 1) for c in BAND_CENTRES_HZ]}
        payload.update(measure(choose()))
        payload["how"] = (
            "per file: third-octave levels over the active 100 ms ticks (within 20 LU of the "
            "integrated loudness), bands without content left out (above the measured cut-off, "
            "below the high-pass, within 6 dB of the pauses, 60 dB under the loudest band), "
            "normalised to 0 dB mean over 200 Hz-4 kHz; mean in dB per corpus; corpora "
            "weighted by duration (at most 120 s). Smoothing: third-octave bands; spread_db "
            "and the EQ use deviations aligned at the median band of 100 Hz-8 kHz and "
            "smoothed over three bands. scripts/measure_studio_curves.py")
        payload["measured"] = time.strftime("%Y-%m-%d")
        with atomic_file(CURVES_DIR / f"{name}.json") as temp:
            temp.write_text(json.dumps(payload, indent=1) + "\n")
        show = lambda values: " ".join("  . " if v is None else f"{v:+4.0f}" for v in values)
        print(f"{name}: {len(payload['files'])} files")
        print(f"  curve  {show(payload['level_db'])}")
        print(f"  spread {show(payload['spread_db'])}")
        print(f"  leave-one-corpus-out RMS (dB): {payload['leave_one_out_rms_db']}")


if __name__ == "__main__":
    main()

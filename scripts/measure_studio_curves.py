"""Measure the studio curves mix_and_master's EQ aims at; write aural/data/studio_curves/*.json.

A curve is the long-term third-octave spectrum of clean studio recordings from the
training and validation splits (never the test split), each file normalised to 0 dB mean
over 200 Hz-4 kHz and counted only in the bands it really has (below 0.9 x its measured
cut-off), then averaged in dB over files.
Run: python scripts/measure_studio_curves.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _curve(paths: list[Path]) -> tuple[list[float], list[int]]:
    from aural.audio_io import load_audio
    from aural.dsp.bandwidth import detect_cutoff_from_power
    from aural.mastering import BAND_CENTRES_HZ, _normalised, analyse

    centres = np.asarray(BAND_CENTRES_HZ)
    rows = []
    for path in paths:
        audio, rate = load_audio(path, mono=True)
        analysis = analyse(audio, rate)
        levels = _normalised(analysis.band_levels_db())
        cutoff = detect_cutoff_from_power(analysis.power_sum / max(analysis.frames, 1), rate)
        levels[centres > 0.9 * cutoff] = np.nan
        rows.append(levels)
    table = np.asarray(rows)
    counts = np.sum(np.isfinite(table), axis=0)
    mean = np.nanmean(np.where(np.isfinite(table), table, np.nan), axis=0)
    # Bands no file reaches keep the last measured level minus 12 dB per octave.
    for k in range(len(mean)):
        if not np.isfinite(mean[k]):
            mean[k] = mean[k - 1] - 4.0 if k else 0.0
    return [round(float(v), 2) for v in mean], counts.tolist()


def main() -> None:
    import random

    from aural.data.bandwidth_catalogue import usable_bandwidth_hz
    from aural.data.sources import catalogue
    from aural.mastering import BAND_CENTRES_HZ, CURVES_DIR

    speech_recordings = [r for r in catalogue(kinds=("speech",), collections=("gcompris",))
                         if r.split != "test" and not r.source.startswith("klettres_")]
    full = [r for r in speech_recordings if r.source.startswith("gcompris")
            and (usable_bandwidth_hz(r) or 0) >= 16_000]
    random.Random(0).shuffle(full)
    speech = [r.path for r in speech_recordings if not r.source.startswith("gcompris")]
    speech += [r.path for r in full[:300]]
    music = [r.path for r in catalogue(kinds=("music",)) if r.split != "test"
             and ("mix" in r.path.stem.lower() or r.path.stem == "mixture")]
    CURVES_DIR.mkdir(parents=True, exist_ok=True)
    for name, paths in (("speech", speech), ("music", music)):
        levels, counts = _curve(paths)
        payload = {"name": name, "bands_hz": [round(c, 1) for c in BAND_CENTRES_HZ],
                   "level_db": levels, "files_per_band": counts, "files": len(paths),
                   "sources": sorted({p.parent.name for p in paths}),
                   "how": ("long-term third-octave spectrum per file, normalised to 0 dB mean "
                           "over 200 Hz-4 kHz, bands above 0.9 x the file's measured cut-off "
                           "left out, mean in dB over files (scripts/measure_studio_curves.py)"),
                   "measured": time.strftime("%Y-%m-%d")}
        (CURVES_DIR / f"{name}.json").write_text(json.dumps(payload, indent=1) + "\n")
        print(name, len(paths), "files:", " ".join(f"{v:+.0f}" for v in levels))


if __name__ == "__main__":
    main()

"""Corrective EQ toward a target long-term spectrum: a studio curve or a reference recording.

The input's long-term spectrum is measured in third-octave bands over its active ticks
(within 20 LU of its integrated loudness, so pauses and noise between words do not count).
The correction is the target minus that, aligned at the median band of 100 Hz-8 kHz,
smoothed over three bands (an octave: broad, as a mastering engineer's EQ is), reduced by
the spread that studio recordings themselves show around the curve in each band (a deep
voice has 10 dB more at 100 Hz than a high one; that is the voice, not a fault), and bounded
to +-``max_db``. It never boosts a band where the input has no content: above its
measured cut-off, below its high-pass, or where the band's level during the recording
is within 6 dB of its level in the pauses (boosting there would raise noise, not tone).
The curve becomes a linear-phase FIR of 100 ms (resolution about 20 Hz, so the lowest
bands are shaped too), applied in blocks by :class:`aural.dsp.filters.StreamingFir`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aural.errors import AuralError

from .analysis import AnalysisResult
from .bands import BAND_CENTRES_HZ, BAND_EDGES_HZ, bands_inside

#: Where the studio curves live (written by scripts/measure_studio_curves.py).
CURVES_DIR = Path(__file__).resolve().parents[1] / "data" / "studio_curves"
#: Ticks quieter than this far below the integrated loudness do not count in the spectrum.
ACTIVE_GATE_LU = 20.0
#: A band has content when its active level is this far above its level in the pauses...
CONTENT_OVER_FLOOR_DB = 6.0
#: ...where there are pauses: the quietest tenth of the recording this far below its louder half.
PAUSE_DEPTH_DB = 10.0
#: ...and it is within this range of the loudest band.
CONTENT_RANGE_DB = 60.0
#: A detected low-pass counts when the octave above it is this far under the octave below.
CUTOFF_DEPTH_DB = 30.0
#: Ticks needed before pauses can be told from the signal (2 s).
_MIN_TICKS_FOR_FLOOR = 20
#: Length of the EQ filter.
EQ_FILTER_SECONDS = 0.1
#: Corrections smaller than this everywhere are not worth a filter.
_NEGLIGIBLE_DB = 0.1
_ALIGN_HZ = (100.0, 8000.0)


@dataclass(frozen=True)
class EqTarget:
    """A target spectrum (dB per third-octave band, NaN where unknown) and, per band, how far
    a good recording may naturally lie from it: the EQ corrects only beyond that."""

    name: str
    levels: np.ndarray
    spread: np.ndarray


def _floats(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def studio_curve(name: str) -> EqTarget:
    """A stored studio curve (``aural/data/studio_curves/<name>.json``)."""
    path = CURVES_DIR / f"{name}.json"
    if not path.exists():
        raise AuralError(f"no studio curve named {name!r} (have: "
                         f"{', '.join(sorted(p.stem for p in CURVES_DIR.glob('*.json')))})")
    data = json.loads(path.read_text())
    levels = _floats(data["level_db"])
    spread = _floats(data.get("spread_db", [0.0] * len(levels)))
    return EqTarget(name, levels, np.nan_to_num(spread))


def active_levels(result: AnalysisResult) -> np.ndarray:
    """Long-term level (dB) per third-octave band over the active ticks; NaN above Nyquist."""
    bands = result.band_energies[:, 1:-1].astype(np.float64)
    tick_lufs = result.meter.tick_lufs()
    kept = np.ones(len(bands), bool)
    if np.isfinite(result.loudness_lufs) and len(tick_lufs) == len(bands) and len(bands):
        kept = tick_lufs >= result.loudness_lufs - ACTIVE_GATE_LU
        if not kept.any():
            kept[:] = True
    with np.errstate(divide="ignore"):
        levels = 10 * np.log10(bands[kept].mean(axis=0)) if len(bands) else \
            np.full(len(BAND_CENTRES_HZ), -np.inf)
    levels[~bands_inside(result.sample_rate) | ~np.isfinite(levels)] = np.nan
    return levels


def content_bands(result: AnalysisResult, levels: np.ndarray | None = None) -> np.ndarray:
    """Which third-octave bands hold real content (see the module docstring)."""
    from aural.dsp.bandwidth import detect_cutoff_from_power, detect_highpass_from_power

    levels = active_levels(result) if levels is None else levels
    cutoff = _cutoff(detect_cutoff_from_power(result.power, result.sample_rate), levels)
    highpass = detect_highpass_from_power(result.power, result.sample_rate)
    edges = np.asarray(BAND_EDGES_HZ)
    content = np.isfinite(levels) & (edges[:, 1] <= cutoff) & (edges[:, 0] >= highpass)
    if content.any():
        content &= levels >= np.nanmax(levels) - CONTENT_RANGE_DB
    floor = _pause_levels(result)
    if floor is not None:
        with np.errstate(invalid="ignore"):
            content &= ~(levels - floor < CONTENT_OVER_FLOOR_DB)
    return content


def _cutoff(detected: float, levels: np.ndarray) -> float:
    """The detected low-pass cut-off if it is one: the octave above it lies CUTOFF_DEPTH_DB
    under the octave below (a codec's or a mic's low-pass does that within an octave; a dull
    recording's shelf of -16 dB does not, and its highs may be boosted back)."""
    edges = np.asarray(BAND_EDGES_HZ)
    below = (edges[:, 1] <= detected) & (edges[:, 0] >= detected / 2) & np.isfinite(levels)
    above = (edges[:, 0] >= detected) & (edges[:, 1] <= 2 * detected) & np.isfinite(levels)
    if not below.any() or not above.any():
        return detected
    return detected if np.mean(levels[below]) - np.mean(levels[above]) >= CUTOFF_DEPTH_DB \
        else float("inf")


def _pause_levels(result: AnalysisResult) -> np.ndarray | None:
    """Band levels (dB) in the pauses: the quietest tenth of the ticks, if the recording has
    pauses (they are at least PAUSE_DEPTH_DB below its active level); else None."""
    ticks = result.meter.tick_energies()
    bands = result.band_energies[:, 1:-1].astype(np.float64)
    if len(ticks) < _MIN_TICKS_FOR_FLOOR or len(ticks) != len(bands):
        return None
    order = np.argsort(ticks)
    quiet = order[:max(len(ticks) // 10, 1)]
    loud = order[len(ticks) // 2:]
    if ticks[quiet].mean() * 10 ** (PAUSE_DEPTH_DB / 10) > ticks[loud].mean():
        return None
    with np.errstate(divide="ignore"):
        return 10 * np.log10(bands[quiet].mean(axis=0))


def reference_target(path: str | Path) -> EqTarget:
    """A reference recording's active long-term spectrum (NaN where it has no content),
    matched closely: no spread is left alone."""
    import soundfile as sf

    from aural.audio_io import audio_info

    from .analysis import MasteringAnalysis

    info = audio_info(path)
    analysis = MasteringAnalysis(info.sample_rate, info.channels)
    for block in sf.blocks(str(info.path), blocksize=int(10 * info.sample_rate), dtype="float32",
                           always_2d=True):
        analysis.push(np.ascontiguousarray(block.T))
    result = analysis.result()
    if not np.isfinite(result.loudness_lufs):
        raise AuralError("the reference recording is silent", path=path)
    levels = active_levels(result)
    levels[~content_bands(result, levels)] = np.nan
    return EqTarget(str(path), levels, np.zeros(len(levels)))


def eq_target(eq: str) -> EqTarget:
    """The target for ``settings.eq``: a studio curve's name or a reference's path."""
    return studio_curve(eq) if eq in ("speech", "music") else reference_target(eq)


def _smooth_three(values: np.ndarray) -> np.ndarray:
    padded = np.pad(values, 1, mode="edge")
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def eq_correction_db(levels: np.ndarray, content: np.ndarray, target: EqTarget, *,
                     max_db: float) -> np.ndarray:
    """Per third-octave band, the boost (+) or cut (-) in dB that moves ``levels`` toward
    the target: aligned, smoothed, beyond the target's natural spread only, within
    +-``max_db``, and no boost without content."""
    centres = np.asarray(BAND_CENTRES_HZ)
    measured = np.isfinite(levels) & np.isfinite(target.levels)
    usable = measured & content
    align = usable & (centres >= _ALIGN_HZ[0]) & (centres <= _ALIGN_HZ[1])
    if not align.any():
        align = usable
    if not align.any():
        return np.zeros(len(centres))
    raw = np.where(measured, target.levels - levels, 0.0)
    raw -= np.median(raw[align])
    # Bands without content may be cut but never boosted, nor lend a boost to neighbours.
    raw = np.where(usable, raw, np.minimum(raw, 0.0))
    smooth = _smooth_three(np.clip(raw, -3 * max_db, 3 * max_db))
    beyond = np.sign(smooth) * np.maximum(np.abs(smooth) - target.spread, 0.0)
    correction = np.clip(beyond, -max_db, max_db)
    correction = np.where(usable, correction, np.minimum(correction, 0.0))
    return np.where(measured, correction, 0.0)


def eq_filter(correction_db: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """The linear-phase FIR realising a third-octave correction; None if it is negligible.

    Below the lowest band and above the highest one below Nyquist the gain falls back to
    at most 0 dB, so the EQ never lifts rumble or the empty top of a band-limited file.
    """
    from aural.dsp.filters import linear_phase_fir

    inside = bands_inside(sample_rate)
    if not inside.any() or np.max(np.abs(correction_db[inside])) < _NEGLIGIBLE_DB:
        return None
    centres = np.asarray(BAND_CENTRES_HZ)[inside]
    gains = np.asarray(correction_db, dtype=float)[inside]
    freqs = np.concatenate([[20.0], centres, [sample_rate / 2.0]])
    gains = np.concatenate([[min(gains[0], 0.0)], gains, [min(gains[-1], 0.0)]])
    keep = np.concatenate([[True], freqs[1:] > freqs[:-1]])   # Nyquist may equal a centre
    taps = int(round(EQ_FILTER_SECONDS * sample_rate)) | 1
    return linear_phase_fir(freqs[keep], gains[keep], sample_rate, taps=taps)


def filter_response_db(taps: np.ndarray, sample_rate: int, freqs: np.ndarray) -> np.ndarray:
    """Magnitude response (dB) of a linear-phase FIR at ``freqs``."""
    from scipy.signal import freqz

    _, response = freqz(taps, worN=np.asarray(freqs, dtype=float), fs=sample_rate)
    return 20 * np.log10(np.maximum(np.abs(response), 1e-12))

"""Classical dynamics baselines that every dynamic_compression report sets beside.

Each is ``fn(degraded, sample_rate) -> estimate`` (1-D float32, same length, aligned).

- :func:`downward_expander`: the textbook inverse of a compressor. A 10 ms / 150 ms
  envelope follower drives a 1:2 expansion below a threshold 20 dB under the loud level,
  so quiet passages (pumped-up noise floors) go down again.
- :func:`spline_declip`: clipped runs (samples at the recording's own peak, within
  0.1 %) are replaced by a cubic spline through the unclipped samples around them, which
  lets the waveform rise above the clip level.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.signal import lfilter

_THRESHOLD_BELOW_LOUD_DB = 20.0
_EXPANSION_RATIO = 2.0
_CLIP_TOLERANCE = 0.999


def _envelope_db(signal: np.ndarray, rate: int, attack_s: float = 0.01,
                 release_s: float = 0.15) -> np.ndarray:
    """A peak-ish envelope: fast rise, slow fall, from two one-pole smoothers."""
    power = signal.astype(np.float64) ** 2
    fast = lfilter([1 - np.exp(-1 / (attack_s * rate))], [1, -np.exp(-1 / (attack_s * rate))], power)
    slow = lfilter([1 - np.exp(-1 / (release_s * rate))], [1, -np.exp(-1 / (release_s * rate))],
                   power)
    return 10 * np.log10(np.maximum(fast, slow) + 1e-12)


def downward_expander(degraded: np.ndarray, sample_rate: int) -> np.ndarray:
    """1:2 downward expansion below a threshold 20 dB under the loud level."""
    signal = np.asarray(degraded, dtype=np.float32)
    if not np.any(signal):
        return signal.copy()
    level = _envelope_db(signal, sample_rate)
    threshold = np.percentile(level, 95) - _THRESHOLD_BELOW_LOUD_DB
    gain_db = np.minimum(level - threshold, 0.0) * (_EXPANSION_RATIO - 1.0)
    return (signal * 10 ** (np.maximum(gain_db, -40.0) / 20.0)).astype(np.float32)


def clipped_mask(signal: np.ndarray) -> np.ndarray:
    """Samples at the recording's own positive or negative peak (within 0.1 %)."""
    peak_pos, peak_neg = float(np.max(signal)), float(np.min(signal))
    mask = np.zeros(len(signal), bool)
    if peak_pos > 0:
        mask |= signal >= _CLIP_TOLERANCE * peak_pos
    if peak_neg < 0:
        mask |= signal <= _CLIP_TOLERANCE * peak_neg
    # A single sample at the peak is just the peak; clipping makes runs.
    runs = mask & (np.roll(mask, 1) | np.roll(mask, -1))
    return runs


def spline_declip(degraded: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cubic-spline interpolation of clipped runs through their unclipped neighbours."""
    signal = np.asarray(degraded, dtype=np.float64)
    mask = clipped_mask(signal)
    if not mask.any() or mask.all():
        return signal.astype(np.float32)
    out = signal.copy()
    # Each clipped run is bridged by a spline through 4 unclipped samples on each side.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        left = np.arange(max(start - 4, 0), start)
        right = np.arange(stop, min(stop + 4, len(signal)))
        known = np.concatenate([left, right])
        if len(left) < 2 or len(right) < 2:
            continue
        spline = CubicSpline(known, signal[known])
        values = spline(np.arange(start, stop))
        # A clipped sample can only have been louder than the clip level, never quieter.
        sign = np.sign(signal[start])
        out[start:stop] = sign * np.maximum(np.abs(values), np.abs(signal[start:stop]))
    return out.astype(np.float32)


#: Name -> baseline, in a stable order.
BASELINES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "downward_expander": downward_expander,
    "spline_declip": spline_declip,
}

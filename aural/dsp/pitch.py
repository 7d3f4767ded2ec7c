"""A cheap pitch (f0) and voicing tracker: YIN in vectorised NumPy.

YIN (de Cheveigné & Kawahara, JASA 2002) picks, for each frame, the smallest lag whose
cumulative-mean-normalised difference ``d'(tau)`` dips below an absolute threshold, and
refines it by parabolic interpolation. ``d'`` at that lag is close to 0 for a periodic
frame and close to 1 for noise, so ``1 - d'`` serves as a soft voicing probability.

Everything runs at 16 kHz (pitch needs nothing above 8 kHz and the lags stay short), on
frames centred where :mod:`aural.dsp.stft` centres its frames: frame ``i`` on sample
``i * hop`` of the input. ``scripts/compare_pitch_trackers.py`` measures it against
``librosa.pyin`` (reports/pitch_tracker.md).

Example
-------
>>> import numpy as np
>>> t = np.arange(48000) / 48000
>>> track = track_pitch(np.sin(2 * np.pi * 220 * t), 48000, hop=480, n_frames=101)
>>> round(float(np.median(track.f0_hz[5:-5])))
220
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aural.audio_io import resample

#: Rate the tracker analyses at; 16 kHz keeps the voice's harmonics that YIN needs.
ANALYSIS_RATE = 16_000
#: Analysis frame at ANALYSIS_RATE (40 ms): two periods of a 60 Hz voice, 2.4 at 800 Hz.
FRAME_LENGTH = 640
#: YIN's absolute threshold on d'; the paper finds 0.1-0.15 a good compromise.
THRESHOLD = 0.15
#: Frames quieter than this (mean square, dBFS) are unvoiced, fully voiced-capable 10 dB
#: above. An absolute gate (not relative to the file's loudest frames) gives the same
#: answer for a frame whichever block of a stream it is processed in.
SILENCE_DBFS = -65.0
GATE_WIDTH_DB = 10.0
#: Frames processed together: bounds memory to about 20 MB whatever the signal length.
FRAMES_PER_BLOCK = 512


@dataclass(frozen=True)
class PitchTrack:
    """Per-frame pitch: ``f0_hz`` (0 where unvoiced) and ``voicing`` in [0, 1], float32."""

    f0_hz: np.ndarray
    voicing: np.ndarray


def track_pitch(signal: np.ndarray, rate: int, *, hop: int, n_frames: int,
                fmin: float = 60.0, fmax: float = 800.0) -> PitchTrack:
    """Track f0 and voicing of a 1-D signal, one value per frame.

    Parameters
    ----------
    signal: 1-D audio at ``rate`` Hz, nominally within [-1, 1].
    rate: its sample rate.
    hop: frame hop in samples at ``rate``; frame ``i`` is centred on sample ``i * hop``.
    n_frames: frames to return (frames past the end of the signal come out unvoiced).
    fmin, fmax: the f0 search range in Hz.

    Returns a :class:`PitchTrack`; a frame counts as voiced where ``voicing > 0.5``.
    """
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"track_pitch expects a 1-D signal, got shape {signal.shape}")
    if rate <= 0 or hop <= 0 or n_frames < 0:
        raise ValueError("track_pitch needs rate > 0, hop > 0 and n_frames >= 0")
    if not 0 < fmin < fmax <= ANALYSIS_RATE / 4:
        raise ValueError(f"track_pitch needs 0 < fmin < fmax <= {ANALYSIS_RATE // 4} Hz")

    x = resample(signal, rate, ANALYSIS_RATE)
    if len(x) == 0:
        x = np.zeros(1, dtype=np.float32)   # an empty signal is silence
    tau_min = max(2, int(np.floor(ANALYSIS_RATE / fmax)))
    tau_max = int(np.ceil(ANALYSIS_RATE / fmin))
    # Lags up to tau_max + 1 so that the last candidate has a right neighbour.
    frame_length = max(FRAME_LENGTH, 2 * (tau_max + 1))
    window = frame_length - tau_max - 1

    centres = np.round(np.arange(n_frames) * (hop * ANALYSIS_RATE / rate)).astype(np.int64)
    # YIN compares samples [0, window) with [tau, tau + window) of a frame, so what lag
    # tau measures is centred at (window + tau) / 2: place the frame so that this is the
    # frame's centre for the middle of the lag range (off by at most 4 ms at either end).
    middle_lag = (tau_min + tau_max) // 2
    starts = centres - (window + middle_lag) // 2

    f0 = np.zeros(n_frames, dtype=np.float32)
    voicing = np.zeros(n_frames, dtype=np.float32)
    offsets = np.arange(frame_length)
    for first in range(0, n_frames, FRAMES_PER_BLOCK):
        block = slice(first, min(first + FRAMES_PER_BLOCK, n_frames))
        index = starts[block, None] + offsets
        # Samples before the start or past the end read as silence (no padded copy of
        # the signal, so memory stays flat for hour-long files).
        inside = (index >= 0) & (index < len(x))
        frames = np.where(inside, x[np.clip(index, 0, len(x) - 1)], 0.0).astype(np.float64)
        f0[block], voicing[block] = _yin(frames, window, tau_min, tau_max)
    f0[voicing <= 0.5] = 0.0
    return PitchTrack(f0_hz=f0, voicing=voicing)


def _yin(frames: np.ndarray, window: int, tau_min: int, tau_max: int
         ) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz) and soft voicing of each row of ``frames`` (``(frames, length)``)."""
    n_frames, length = frames.shape
    n_lags = tau_max + 2
    # Difference function d(tau) = sum_j (x_j - x_{j+tau})^2 over the first `window`
    # samples, expanded as E(0) + E(tau) - 2 r(tau): one FFT cross-correlation and a
    # cumulative sum instead of a loop over lags.
    n_fft = 1 << int(np.ceil(np.log2(length + window)))
    head = np.fft.rfft(frames[:, :window], n_fft)
    whole = np.fft.rfft(frames, n_fft)
    correlation = np.fft.irfft(np.conj(head) * whole, n_fft)[:, :n_lags]
    squares = np.concatenate([np.zeros((n_frames, 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    lags = np.arange(n_lags)
    energy_at_lag = squares[:, lags + window] - squares[:, lags]
    difference = np.maximum(squares[:, [window]] + energy_at_lag - 2.0 * correlation, 0.0)

    # Cumulative-mean normalisation: d'(tau) = d(tau) / mean(d(1..tau)); d'(0) = 1. It
    # removes YIN's bias toward tau = 0 and puts every frame on one scale (0 periodic, ~1 noise).
    running_sum = np.cumsum(difference[:, 1:], axis=1)
    normalised = np.ones_like(difference)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = difference[:, 1:] * lags[1:] / running_sum
    normalised[:, 1:] = np.where(running_sum > 1e-12, ratio, 1.0)

    # Absolute threshold: the first dip below THRESHOLD, walked down to its local minimum;
    # the global minimum where nothing dips (the frame is then reported weakly voiced).
    candidates = normalised[:, tau_min:tau_max + 1]
    below = candidates < THRESHOLD
    first_below = np.argmax(below, axis=1)
    rising = normalised[:, tau_min + 1:tau_max + 2] >= candidates
    past_first = np.arange(candidates.shape[1])[None, :] >= first_below[:, None]
    local_minimum = np.argmax(rising & past_first, axis=1)
    best = np.where(below.any(axis=1), local_minimum, np.argmin(candidates, axis=1)) + tau_min

    # Parabolic interpolation through the neighbours refines the lag below one sample,
    # which at 16 kHz is 2.2 % of a 360 Hz period.
    rows = np.arange(n_frames)
    left, centre, right = (normalised[rows, best - 1], normalised[rows, best],
                           normalised[rows, best + 1])
    curvature = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature > 1e-12, 0.5 * (left - right) / curvature, 0.0)
    period = best + np.clip(shift, -1.0, 1.0)
    f0 = ANALYSIS_RATE / period

    level_db = 10.0 * np.log10(squares[:, -1] / length + 1e-20)
    gate = np.clip((level_db - SILENCE_DBFS) / GATE_WIDTH_DB, 0.0, 1.0)
    voicing = np.clip(1.0 - centre, 0.0, 1.0) * gate
    return f0.astype(np.float32), voicing.astype(np.float32)


def pitch_features(track: PitchTrack, fmin: float = 60.0, fmax: float = 800.0) -> np.ndarray:
    """Model features ``(n_frames, 2)`` in [0, 1]: voicing, and voicing-gated log f0
    mapped linearly from ``[log fmin, log fmax]`` to ``[0, 1]`` (0 where unvoiced)."""
    if not 0 < fmin < fmax:
        raise ValueError("pitch_features needs 0 < fmin < fmax")
    f0 = np.asarray(track.f0_hz, dtype=np.float64)
    voicing = np.asarray(track.voicing, dtype=np.float32)
    with np.errstate(divide="ignore"):
        position = np.log(np.maximum(f0, 1e-9) / fmin) / np.log(fmax / fmin)
    position = np.where(f0 > 0, np.clip(position, 0.0, 1.0), 0.0)
    return np.stack([voicing, voicing * position.astype(np.float32)], axis=1).astype(np.float32)

"""Loudness and peaks after ITU-R BS.1770-4 and EBU Tech 3341 / 3342: the one place for them.

Audio is ``float32`` ``(channels, samples)`` or 1-D (one channel). Levels are in LUFS
(loudness), LU (loudness differences and range), dBTP (true peak) and dBFS (sample peak).

Conventions, chosen so that callers can test one thing:

- Silence (nothing above the -70 LUFS absolute gate) measures ``-inf`` LUFS, and a
  silent signal's peaks are ``-inf`` dB; callers check ``np.isfinite``.
- Audio shorter than one 400 ms gating block is measured on what is there: the whole
  signal is one block. (Zero-padding it to 400 ms would understate its loudness by
  ``10 log10(0.4 s / duration)``; refusing would make one-syllable clips an error.)
- The K-weighting filters come from ``pyloudnorm.Meter`` with its ``"DeMan"`` filter
  class: derived from analog prototypes, they reproduce the published BS.1770 48 kHz
  coefficients exactly and adapt them to any rate. (pyloudnorm's default
  ``"K-weighting"`` class is an RBJ approximation whose gain at 997 Hz is 0.04 dB low, so
  it reads a full-scale 997 Hz sine as -3.05 instead of -3.01 LUFS.)
- Blocks and windows are measured here rather than by ``Meter.integrated_loudness``: the
  filters run chunk by chunk and only 100 ms energies are kept, so an hour of 48 kHz
  stereo costs a few MB instead of pyloudnorm's several float64 copies (GBs), and any
  channel count works (pyloudnorm stops at 5). The tests check that both agree.

Example
-------
>>> import numpy as np
>>> t = np.arange(48000 * 2) / 48000
>>> round(integrated_loudness(np.sin(2 * np.pi * 997 * t), 48000), 2)
-3.01
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Absolute gate of BS.1770 and EBU Tech 3342, in LUFS.
ABSOLUTE_GATE_LUFS = -70.0
#: Relative gate of BS.1770 integrated loudness, in LU below the absolutely gated level.
INTEGRATED_RELATIVE_GATE_LU = -10.0
#: Relative gate of EBU Tech 3342 loudness range.
RANGE_RELATIVE_GATE_LU = -20.0
#: Gating block of integrated and momentary loudness, and its hop (75 % overlap).
MOMENTARY_SECONDS = 0.4
BLOCK_HOP_SECONDS = 0.1
#: Window of short-term loudness (EBU Tech 3341).
SHORT_TERM_SECONDS = 3.0
#: BS.1770 channel weights for L, R, C, Ls, Rs; further channels count with weight 1.
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
#: pyloudnorm filter class that matches the BS.1770 coefficients (see the module docstring).
_FILTER_CLASS = "DeMan"
#: Samples per channel K-weighted at a time, so memory stays flat on hour-long files.
_FILTER_CHUNK = 1 << 18
#: BS.1770's offset that makes a 997 Hz full-scale sine read -3.01 LUFS.
_LOUDNESS_OFFSET = -0.691
#: Samples of input handled per true-peak chunk, so memory stays flat on hour-long files.
_TRUE_PEAK_CHUNK = 1 << 20
#: Input samples of context either side of a chunk; scipy's polyphase filter is far shorter.
_TRUE_PEAK_CONTEXT = 256


def _as_channels(audio: np.ndarray) -> np.ndarray:
    """``audio`` as ``(channels, samples)`` without copying; 1-D is one channel."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        return audio[np.newaxis, :]
    if audio.ndim != 2:
        raise ValueError(f"audio must be 1-D or (channels, samples), got shape {audio.shape}")
    return audio


def _check_rate(sample_rate: int) -> None:
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")


def _channel_weights(n_channels: int) -> np.ndarray:
    weights = list(CHANNEL_WEIGHTS[:n_channels]) + [1.0] * max(0, n_channels - len(CHANNEL_WEIGHTS))
    return np.asarray(weights, dtype=np.float64)


def _to_lufs(mean_square: np.ndarray | float) -> np.ndarray:
    """Weighted mean square to LUFS, ``-inf`` where it is zero."""
    with np.errstate(divide="ignore"):
        return _LOUDNESS_OFFSET + 10.0 * np.log10(np.asarray(mean_square, dtype=np.float64))


def k_filter_sos(sample_rate: int) -> np.ndarray:
    """The two K-weighting biquads (high shelf, then high pass) as second-order sections
    (a fresh copy: scipy's filters want a writable array)."""
    return _k_filter_sos(sample_rate).copy()


@lru_cache(maxsize=8)
def _k_filter_sos(sample_rate: int) -> np.ndarray:
    from pyloudnorm import Meter  # local: keeps `aural --help` light

    _check_rate(sample_rate)
    # The Meter designs the biquads for any rate; there is no public accessor for them.
    stages = Meter(sample_rate, filter_class=_FILTER_CLASS)._filters.values()
    # One sosfilt pass over both sections is about twice as fast as two lfilter passes.
    return np.array([np.concatenate([np.asarray(stage.b, dtype=np.float64) / stage.a[0],
                                     np.asarray(stage.a, dtype=np.float64) / stage.a[0]])
                     for stage in stages])


def k_weighting_power(freq: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power response of the K-weighting filter at ``freq`` (Hz): about +4 dB above 2 kHz,
    falling below 100 Hz."""
    from scipy.signal import sosfreqz

    _, response = sosfreqz(k_filter_sos(sample_rate), worN=np.asarray(freq, np.float64),
                           fs=sample_rate)
    return np.abs(response) ** 2


def k_weight(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The BS.1770 K-weighted signal, float64 ``(channels, samples)``."""
    from scipy.signal import sosfilt

    return sosfilt(k_filter_sos(sample_rate), _as_channels(audio).astype(np.float64), axis=-1)


def _tick_energies(audio: np.ndarray, sample_rate: int, tick: int) -> np.ndarray:
    """Channel-weighted energy of the K-weighted signal in consecutive ``tick``-sample pieces.

    The filters run chunk by chunk with their state carried over, so memory stays a few
    MB however long the audio is (a one-hour file must fit in the pipeline's budget).
    The last piece may be shorter than ``tick``.
    """
    from scipy.signal import sosfilt

    channels = _as_channels(audio)
    n_channels, n_samples = channels.shape
    sos = k_filter_sos(sample_rate)
    state = np.zeros((sos.shape[0], n_channels, 2))
    weights = _channel_weights(n_channels)
    chunk = tick * max(1, _FILTER_CHUNK // tick)  # whole ticks, so no tick spans two chunks
    energies = []
    for start in range(0, n_samples, chunk):
        block, state = sosfilt(sos, channels[:, start:start + chunk].astype(np.float64),
                               axis=-1, zi=state)
        power = np.einsum("c,cn,cn->n", weights, block, block)
        full = (len(power) // tick) * tick
        energies.append(power[:full].reshape(-1, tick).sum(axis=-1))
        if full < len(power):
            energies.append(power[full:].sum(keepdims=True))
    return np.concatenate(energies) if energies else np.zeros(0)


def _windowed_mean_square(audio: np.ndarray, sample_rate: int, *, window_seconds: float,
                          hop_seconds: float) -> np.ndarray:
    """Channel-weighted mean square of the K-weighted audio in sliding windows.

    Windows start at 0 and advance by ``hop_seconds``, which must divide
    ``window_seconds``; only whole windows count, and audio shorter than one window gives
    one value over what is there. Window and hop are whole samples, so at rates where
    0.1 s is not (11025 Hz) the window is a few samples shorter than nominal.
    """
    if hop_seconds <= 0 or window_seconds <= 0:
        raise ValueError("window and hop must be positive")
    hops_per_window = window_seconds / hop_seconds
    if abs(hops_per_window - round(hops_per_window)) > 1e-6:
        raise ValueError(f"hop_seconds ({hop_seconds}) must divide the {window_seconds} s window")
    hops_per_window = int(round(hops_per_window))
    n_samples = _as_channels(audio).shape[-1]
    if n_samples == 0:
        return np.zeros(0)
    hop = max(1, int(round(hop_seconds * sample_rate)))
    energies = _tick_energies(audio, sample_rate, hop)
    window = hop * hops_per_window
    if n_samples < window:
        return np.array([energies.sum() / n_samples])
    full_hops = n_samples // hop
    # Window j sums hops j .. j + hops_per_window - 1: a running sum over the (short) hop list.
    cumulative = np.concatenate(([0.0], np.cumsum(energies[:full_hops])))
    sums = cumulative[hops_per_window:] - cumulative[:-hops_per_window]
    return np.maximum(sums, 0.0) / window


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated, gated loudness (BS.1770-4) in LUFS; ``-inf`` for silence.

    400 ms blocks every 100 ms, gated at -70 LUFS and then 10 LU below the mean of the
    blocks that pass. Audio shorter than 400 ms is one block over its whole length.
    """
    _check_rate(sample_rate)
    blocks = _windowed_mean_square(audio, sample_rate, window_seconds=MOMENTARY_SECONDS,
                                   hop_seconds=BLOCK_HOP_SECONDS)
    return _gated_mean_lufs(blocks)


def _gated_mean_lufs(blocks: np.ndarray) -> float:
    """BS.1770 two-stage gating of block mean squares, as LUFS."""
    loud = blocks[_to_lufs(blocks) >= ABSOLUTE_GATE_LUFS]
    if loud.size == 0:
        return float("-inf")
    relative_gate = float(_to_lufs(loud.mean())) + INTEGRATED_RELATIVE_GATE_LU
    kept = loud[_to_lufs(loud) > relative_gate]
    return float(_to_lufs(kept.mean()))


def normalize_loudness(audio: np.ndarray, sample_rate: int,
                       target_lufs: float = -23.0) -> np.ndarray:
    """``audio`` scaled to ``target_lufs`` integrated loudness (within 0.1 LU), as float32.

    Silence is returned unchanged. No limiting is applied: a large gain can push peaks
    over 0 dBFS, which is the mastering stage's job to catch.
    """
    original = np.asarray(audio, dtype=np.float32)
    loudness = integrated_loudness(original, sample_rate)
    if not np.isfinite(loudness):
        return original.copy()
    gain_db = target_lufs - loudness
    out = original * np.float32(10.0 ** (gain_db / 20.0))
    # Gain moves every block equally, but blocks may cross the fixed -70 LUFS gate, so the
    # result can miss; one correction from a fresh measurement settles it.
    achieved = integrated_loudness(out, sample_rate)
    if np.isfinite(achieved) and abs(achieved - target_lufs) > 0.05:
        out = out * np.float32(10.0 ** ((target_lufs - achieved) / 20.0))
    return out.astype(np.float32, copy=False)


def short_term_loudness(audio: np.ndarray, sample_rate: int, *,
                        hop_seconds: float = 0.1) -> np.ndarray:
    """Ungated short-term loudness (3 s windows, EBU Tech 3341) every ``hop_seconds``, in LUFS.

    Value ``i`` covers ``[i * hop, i * hop + 3 s)``; silent windows are ``-inf``.
    Audio shorter than 3 s gives one value over its whole length.
    """
    _check_rate(sample_rate)
    return _to_lufs(_windowed_mean_square(audio, sample_rate, window_seconds=SHORT_TERM_SECONDS,
                                          hop_seconds=hop_seconds))


def momentary_loudness(audio: np.ndarray, sample_rate: int, *,
                       hop_seconds: float = 0.1) -> np.ndarray:
    """Ungated momentary loudness (400 ms windows, EBU Tech 3341) every ``hop_seconds``, in LUFS."""
    _check_rate(sample_rate)
    return _to_lufs(_windowed_mean_square(audio, sample_rate, window_seconds=MOMENTARY_SECONDS,
                                          hop_seconds=hop_seconds))


def loudness_range(audio: np.ndarray, sample_rate: int) -> float:
    """Loudness range (EBU Tech 3342) in LU; ``nan`` when nothing passes the gates.

    Short-term values every 100 ms, gated at -70 LUFS and then 20 LU below their
    power mean; the range is the spread from the 10th to the 95th percentile. Only
    whole windows count: pyloudnorm appends 1.5 s of silence first, whose fading windows
    widen the range of short clips (measured: 2.0 against 1.4 LU on 10 s of speech,
    4.6 against 4.2 LU on 29 s; equal on the EBU stepped-tone case).
    """
    short_term = short_term_loudness(audio, sample_rate, hop_seconds=BLOCK_HOP_SECONDS)
    loud = short_term[short_term >= ABSOLUTE_GATE_LUFS]
    if loud.size == 0:
        return float("nan")
    # The relative gate is set on the energy mean of the values, not their mean in LUFS.
    mean_energy = np.mean(10.0 ** (loud / 10.0))
    kept = loud[loud >= 10.0 * np.log10(mean_energy) + RANGE_RELATIVE_GATE_LU]
    low, high = np.percentile(kept, [10.0, 95.0])
    return float(high - low)


def _to_db(amplitude: float) -> float:
    return float(20.0 * np.log10(amplitude)) if amplitude > 0 else float("-inf")


def sample_peak_dbfs(audio: np.ndarray) -> float:
    """Largest absolute sample over all channels, in dBFS; ``-inf`` for silence."""
    audio = np.asarray(audio)
    return _to_db(float(np.max(np.abs(audio)))) if audio.size else float("-inf")


def true_peak_oversampling(sample_rate: int) -> int:
    """Oversampling factor of BS.1770-4 Annex 2: 4x below 96 kHz, 2x below 192 kHz, else 1x."""
    if sample_rate < 96_000:
        return 4
    return 2 if sample_rate < 192_000 else 1


def true_peak_dbtp(audio: np.ndarray, sample_rate: int) -> float:
    """True peak (BS.1770-4 Annex 2) over all channels, in dBTP; ``-inf`` for silence.

    The signal is oversampled with a polyphase low-pass (scipy ``resample_poly``) in
    chunks with overlapping context, so memory does not grow with the file's length.
    """
    from scipy.signal import resample_poly

    _check_rate(sample_rate)
    channels = _as_channels(audio)
    factor = true_peak_oversampling(sample_rate)
    n_samples = channels.shape[-1]
    if n_samples == 0:
        return float("-inf")
    peak = float(np.max(np.abs(channels)))  # the true peak is never below the sample peak
    if factor == 1:
        return _to_db(peak)
    for start in range(0, n_samples, _TRUE_PEAK_CHUNK):
        stop = min(n_samples, start + _TRUE_PEAK_CHUNK)
        first = max(0, start - _TRUE_PEAK_CONTEXT)
        last = min(n_samples, stop + _TRUE_PEAK_CONTEXT)
        upsampled = resample_poly(channels[:, first:last], factor, 1, axis=-1)
        # resample_poly compensates its filter delay: output k sits at input time k / factor.
        inner = upsampled[:, (start - first) * factor:(stop - first) * factor]
        peak = max(peak, float(np.max(np.abs(inner))))
    return _to_db(peak)

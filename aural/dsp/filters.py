"""Filters: the one place AURAL designs and applies them.

Every design returns second-order sections (``sos``, shape ``(n, 6)``) in SciPy's
layout, so any of them can be cascaded with :func:`numpy.vstack` and applied with
:func:`apply_sos`. The biquads follow Robert Bristow-Johnson's "Audio EQ Cookbook";
the steep high- and low-passes are Butterworth designs from :func:`scipy.signal.butter`.

:func:`apply_sos` filters forward and backward by default (zero phase), so a filtered
signal stays sample-aligned with its source, which training pairs need. The price is
that the magnitude response is applied twice: a peak of ``g`` dB becomes ``2 g`` dB
and a Butterworth of order ``n`` rolls off like order ``2 n`` (-6 dB at its cut-off
instead of -3 dB). Designs meant for zero-phase use should ask for half the gain.

Example
-------
>>> import numpy as np
>>> sos = np.vstack([butter_highpass(200.0, 48000), peaking(2500.0, 48000, gain_db=3.0, q=2.0)])
>>> filtered = apply_sos(np.zeros(48000, dtype=np.float32), sos)
"""

from __future__ import annotations

import numpy as np
import scipy.signal


def _check_frequency(frequency: float, sample_rate: int, name: str = "frequency") -> None:
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not 0.0 < frequency < sample_rate / 2.0:
        raise ValueError(f"{name} must lie between 0 and Nyquist ({sample_rate / 2.0:g} Hz), "
                         f"got {frequency:g}")


def _biquad(b: tuple[float, float, float], a: tuple[float, float, float]) -> np.ndarray:
    """One section normalised so that ``a0 == 1``."""
    a0 = a[0]
    return np.array([[b[0] / a0, b[1] / a0, b[2] / a0, 1.0, a[1] / a0, a[2] / a0]])


def _angle(frequency: float, sample_rate: int, q: float) -> tuple[float, float, float]:
    """Cookbook intermediates: ``(cos w0, sin w0, alpha)``."""
    if q <= 0:
        raise ValueError(f"q must be positive, got {q}")
    w0 = 2.0 * np.pi * frequency / sample_rate
    return float(np.cos(w0)), float(np.sin(w0)), float(np.sin(w0) / (2.0 * q))


def highpass(cutoff: float, sample_rate: int, *, q: float = 1.0 / np.sqrt(2.0)) -> np.ndarray:
    """Second-order (12 dB/octave) high-pass biquad; ``q=1/sqrt(2)`` is maximally flat."""
    _check_frequency(cutoff, sample_rate, "cutoff")
    cos_w0, _, alpha = _angle(cutoff, sample_rate, q)
    return _biquad(((1 + cos_w0) / 2, -(1 + cos_w0), (1 + cos_w0) / 2),
                   (1 + alpha, -2 * cos_w0, 1 - alpha))


def lowpass(cutoff: float, sample_rate: int, *, q: float = 1.0 / np.sqrt(2.0)) -> np.ndarray:
    """Second-order (12 dB/octave) low-pass biquad; ``q=1/sqrt(2)`` is maximally flat."""
    _check_frequency(cutoff, sample_rate, "cutoff")
    cos_w0, _, alpha = _angle(cutoff, sample_rate, q)
    return _biquad(((1 - cos_w0) / 2, 1 - cos_w0, (1 - cos_w0) / 2),
                   (1 + alpha, -2 * cos_w0, 1 - alpha))


def peaking(frequency: float, sample_rate: int, *, gain_db: float, q: float = 1.0) -> np.ndarray:
    """Peaking (bell) EQ biquad: ``gain_db`` at ``frequency``, 0 dB far from it."""
    _check_frequency(frequency, sample_rate)
    cos_w0, _, alpha = _angle(frequency, sample_rate, q)
    amp = 10.0 ** (gain_db / 40.0)
    return _biquad((1 + alpha * amp, -2 * cos_w0, 1 - alpha * amp),
                   (1 + alpha / amp, -2 * cos_w0, 1 - alpha / amp))


def _shelf_alpha(sin_w0: float, amp: float, slope: float) -> float:
    if slope <= 0:
        raise ValueError(f"slope must be positive, got {slope}")
    return sin_w0 / 2.0 * np.sqrt((amp + 1.0 / amp) * (1.0 / slope - 1.0) + 2.0)


def low_shelf(frequency: float, sample_rate: int, *, gain_db: float,
              slope: float = 1.0) -> np.ndarray:
    """Low-shelf biquad: ``gain_db`` below ``frequency`` (its mid-point), 0 dB above."""
    _check_frequency(frequency, sample_rate)
    cos_w0, sin_w0, _ = _angle(frequency, sample_rate, 1.0)
    amp = 10.0 ** (gain_db / 40.0)
    two_root_alpha = 2.0 * np.sqrt(amp) * _shelf_alpha(sin_w0, amp, slope)
    return _biquad((amp * ((amp + 1) - (amp - 1) * cos_w0 + two_root_alpha),
                    2 * amp * ((amp - 1) - (amp + 1) * cos_w0),
                    amp * ((amp + 1) - (amp - 1) * cos_w0 - two_root_alpha)),
                   ((amp + 1) + (amp - 1) * cos_w0 + two_root_alpha,
                    -2 * ((amp - 1) + (amp + 1) * cos_w0),
                    (amp + 1) + (amp - 1) * cos_w0 - two_root_alpha))


def high_shelf(frequency: float, sample_rate: int, *, gain_db: float,
               slope: float = 1.0) -> np.ndarray:
    """High-shelf biquad: ``gain_db`` above ``frequency`` (its mid-point), 0 dB below."""
    _check_frequency(frequency, sample_rate)
    cos_w0, sin_w0, _ = _angle(frequency, sample_rate, 1.0)
    amp = 10.0 ** (gain_db / 40.0)
    two_root_alpha = 2.0 * np.sqrt(amp) * _shelf_alpha(sin_w0, amp, slope)
    return _biquad((amp * ((amp + 1) + (amp - 1) * cos_w0 + two_root_alpha),
                    -2 * amp * ((amp - 1) + (amp + 1) * cos_w0),
                    amp * ((amp + 1) + (amp - 1) * cos_w0 - two_root_alpha)),
                   ((amp + 1) - (amp - 1) * cos_w0 + two_root_alpha,
                    2 * ((amp - 1) - (amp + 1) * cos_w0),
                    (amp + 1) - (amp - 1) * cos_w0 - two_root_alpha))


def butter_highpass(cutoff: float, sample_rate: int, *, order: int = 4) -> np.ndarray:
    """Butterworth high-pass of ``order`` (6 dB/octave per order), -3 dB at ``cutoff``."""
    _check_frequency(cutoff, sample_rate, "cutoff")
    return scipy.signal.butter(order, cutoff, btype="highpass", fs=sample_rate, output="sos")


def butter_lowpass(cutoff: float, sample_rate: int, *, order: int = 4) -> np.ndarray:
    """Butterworth low-pass of ``order`` (6 dB/octave per order), -3 dB at ``cutoff``."""
    _check_frequency(cutoff, sample_rate, "cutoff")
    return scipy.signal.butter(order, cutoff, btype="lowpass", fs=sample_rate, output="sos")


def apply_sos(audio: np.ndarray, sos: np.ndarray, *, zero_phase: bool = True) -> np.ndarray:
    """Filter ``audio`` (1-D, or ``(channels, samples)``) along its last axis.

    With ``zero_phase`` (the default) the filter runs forward and backward
    (:func:`scipy.signal.sosfiltfilt`): no delay or phase shift, the magnitude
    response squared. Otherwise it runs once, causally. Returns float32.
    """
    audio = np.asarray(audio, dtype=np.float32)
    sos = np.atleast_2d(np.asarray(sos, dtype=np.float64))
    if audio.shape[-1] == 0:
        return audio.copy()
    if not zero_phase:
        return scipy.signal.sosfilt(sos, audio, axis=-1).astype(np.float32)
    # sosfiltfilt's default edge padding is longer than very short signals; shorten it.
    default_pad = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    padlen = min(default_pad, audio.shape[-1] - 1)
    return scipy.signal.sosfiltfilt(sos, audio, axis=-1, padlen=padlen).astype(np.float32)


def direct_path_index(rir: np.ndarray, *, threshold_db: float = -20.0, search: int = 32) -> int:
    """Index of a room impulse response's direct path.

    That is the first arrival within ``threshold_db`` of the response's largest sample,
    taken at its own peak (the largest sample in the ``search`` samples from where it
    crosses the threshold). It is not simply the largest sample: in the measured rooms
    we have, a reflection or a plate's build-up is often louder than the direct sound
    (up to 28 ms later, with a quarter of the energy before it), and aligning on it
    would put an echo *before* the dry signal.
    """
    magnitude = np.abs(np.asarray(rir, dtype=np.float64))
    if magnitude.ndim != 1 or len(magnitude) == 0 or not np.any(magnitude):
        raise ValueError("the impulse response must be 1-D and not silent")
    onset = int(np.argmax(magnitude >= magnitude.max() * 10.0 ** (threshold_db / 20.0)))
    return onset + int(np.argmax(magnitude[onset:onset + max(search, 1)]))


def convolve_rir(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve 1-D ``audio`` with a room impulse response, keeping it aligned.

    The output is shifted so that the RIR's direct path (:func:`direct_path_index`)
    lands on the input's own timing, and trimmed to the input's length: the
    reverberant signal lines up with the dry one, as a training pair needs. Uses FFT
    (overlap-add) convolution.
    """
    audio = np.asarray(audio, dtype=np.float32)
    rir = np.asarray(rir, dtype=np.float32)
    if audio.ndim != 1 or rir.ndim != 1:
        raise ValueError("convolve_rir expects 1-D audio and a 1-D impulse response")
    direct = direct_path_index(rir)
    if len(audio) == 0:
        return audio.copy()
    wet = scipy.signal.oaconvolve(audio, rir, mode="full") if len(rir) > 1 else audio * rir[0]
    return np.ascontiguousarray(wet[direct:direct + len(audio)], dtype=np.float32)


def synthetic_rir(sample_rate: int, rt60: float, rng: np.random.Generator, *,
                  predelay: float = 0.005, direct_to_reverberant_db: float | None = None,
                  ) -> np.ndarray:
    """A synthetic room impulse response: a direct path then exponentially decaying noise.

    Parameters
    ----------
    sample_rate: in Hz.
    rt60: reverberation time in seconds (the tail falls by 60 dB in this time).
    rng: the random generator (the same seed gives the same response).
    predelay: seconds between the direct path and the start of the diffuse tail.
    direct_to_reverberant_db: energy of the direct path over the tail's; ``None`` draws
        it from -3 to +9 dB, the range of talkers at 0.5 to 3 m in small rooms.

    Returns a 1-D float32 response of ``1.2 * rt60`` seconds (at least 50 ms) whose
    direct path is its first sample and largest, with amplitude 1. The tail is
    low-passed gently because air and walls absorb highs faster than lows.
    """
    if rt60 <= 0:
        raise ValueError(f"rt60 must be positive, got {rt60}")
    if direct_to_reverberant_db is None:
        direct_to_reverberant_db = float(rng.uniform(-3.0, 9.0))
    length = max(int(round(1.2 * rt60 * sample_rate)), int(0.05 * sample_rate))
    start = min(max(int(round(predelay * sample_rate)), 1), length - 1)
    times = np.arange(length - start) / float(sample_rate)
    # 60 dB down after rt60 seconds: amplitude exp(-3 ln(10) t / rt60).
    tail = rng.standard_normal(len(times)) * np.exp(-3.0 * np.log(10.0) * times / rt60)
    tail = scipy.signal.sosfilt(butter_lowpass(min(6000.0, 0.4 * sample_rate), sample_rate,
                                               order=1), tail)
    tail *= np.sqrt(10.0 ** (-direct_to_reverberant_db / 10.0) / np.sum(tail ** 2))
    rir = np.zeros(length, dtype=np.float64)
    rir[0] = 1.0
    rir[start:] = tail
    # Keep the direct path the largest sample, so convolve_rir aligns on it.
    peak = np.max(np.abs(rir[1:]))
    if peak >= 0.95:
        rir[1:] *= 0.95 / peak
    return rir.astype(np.float32)


def fft_highpass(audio: np.ndarray, cutoff: float, sample_rate: int, *, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth-magnitude high-pass applied in one FFT (fast on short clips).

    The magnitude is ``1 / sqrt(1 + (cutoff / f) ** (2 * order))``; no phase shift, so the
    output stays sample-aligned with the input. Circular at the ends (fine for training clips).
    """
    _check_frequency(cutoff, sample_rate, "cutoff")
    audio = np.asarray(audio, dtype=np.float32)
    spectrum = np.fft.rfft(audio, axis=-1)
    freqs = np.fft.rfftfreq(audio.shape[-1], 1.0 / sample_rate)
    with np.errstate(divide="ignore"):
        response = 1.0 / np.sqrt(1.0 + (cutoff / np.maximum(freqs, 1e-9)) ** (2 * order))
    return np.fft.irfft(spectrum * response, n=audio.shape[-1], axis=-1).astype(np.float32)


def linear_phase_fir(frequencies_hz: np.ndarray, gains_db: np.ndarray, sample_rate: int, *,
                     taps: int) -> np.ndarray:
    """A linear-phase FIR (odd length ``taps``) through the given magnitude points.

    Between the points the gain (dB) is interpolated in log-frequency, so third-octave
    points give a smooth curve; below the first point and above the last it stays flat.
    The frequency-sampled response is Hann-windowed, which smooths it over about
    ``2 * sample_rate / taps`` Hz.
    """
    frequencies_hz = np.asarray(frequencies_hz, dtype=np.float64)
    gains_db = np.asarray(gains_db, dtype=np.float64)
    taps = int(taps) | 1
    n_fft = 1 << int(np.ceil(np.log2(4 * taps)))
    grid = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    log_grid = np.log(np.maximum(grid, frequencies_hz[0]))
    response_db = np.interp(log_grid, np.log(frequencies_hz), gains_db)
    impulse = np.fft.irfft(10.0 ** (response_db / 20.0), n=n_fft)
    half = taps // 2
    centred = np.concatenate([impulse[-half:], impulse[:half + 1]])
    return centred * np.hanning(taps + 2)[1:-1]


class StreamingFir:
    """Block-by-block convolution with a linear-phase (odd-length, symmetric) FIR, its delay
    removed: :meth:`push` and :meth:`flush` together return as many samples as were pushed,
    identical to filtering the whole signal at once."""

    def __init__(self, taps: np.ndarray, channels: int) -> None:
        self.taps = np.asarray(taps, dtype=np.float64)
        self.delay = (len(self.taps) - 1) // 2
        self.channels = channels
        self._tail = np.zeros((channels, len(self.taps) - 1))
        self._to_drop = self.delay
        self._pushed = 0
        self._given = 0

    def _convolve(self, block: np.ndarray) -> np.ndarray:
        if block.shape[1]:
            full = scipy.signal.oaconvolve(block, self.taps[np.newaxis], axes=-1)
        else:
            full = np.zeros((self.channels, len(self.taps) - 1))
        full[:, :self._tail.shape[1]] += self._tail
        n = block.shape[1]
        out, self._tail = full[:, :n], full[:, n:]
        return out

    def push(self, block: np.ndarray) -> np.ndarray:
        """Filter a block; return the output ready so far (float64)."""
        block = np.asarray(block, dtype=np.float64).reshape(self.channels, -1)
        self._pushed += block.shape[1]
        out = self._convolve(block)
        drop = min(self._to_drop, out.shape[1])
        self._to_drop -= drop
        out = out[:, drop:]
        self._given += out.shape[1]
        return out

    def flush(self) -> np.ndarray:
        """The last ``delay`` samples; call once at the end."""
        rest = self._tail[:, self._to_drop:]
        out = rest[:, : self._pushed - self._given]
        self._given += out.shape[1]
        return out

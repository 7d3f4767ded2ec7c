"""Classical noise-reduction baselines that every noise_reduction report is set beside.

Each baseline is ``fn(noisy, sample_rate) -> enhanced``: 1-D float32 in, 1-D float32
out, the same length and time-aligned with the input (no delay), so metrics such as
SI-SDR and PESQ can be computed against the clean reference without re-alignment.

- :func:`spectral_subtraction`: Boll (1979) magnitude subtraction, with Berouti et al.
  (1979) over-subtraction and spectral floor.
- :func:`wiener_decision_directed`: a Wiener gain driven by the Ephraim-Malah (1984)
  decision-directed a-priori SNR estimate.
- :func:`noisereduce_stationary`, :func:`noisereduce_nonstationary`: spectral gating by
  the ``noisereduce`` library (3.x), set up as a careful user would (see each docstring).

The first two share :func:`estimate_noise_psd`, a minimum-statistics-style noise
tracker (after Martin 2001, simplified): the periodogram is smoothed over time, its
minimum over a sliding window of 2 s follows the noise floor between words,
and a fixed factor compensates the bias of taking a minimum. On clips shorter than the
window this reduces to "the noise is the quietest frames of the clip".

:data:`BASELINES` lists them by name in a stable order.

Example
-------
>>> import numpy as np
>>> noisy = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
>>> enhanced = BASELINES["wiener_decision_directed"](noisy, 16000)
>>> enhanced.shape == noisy.shape
True
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter

from aural.dsp.stft import StftConfig, istft, stft

#: Analysis frame length the STFT baselines use, in seconds.
FRAME_SECONDS = 0.032
#: Keeps divisions finite on digital silence (power of a -200 dBFS signal).
_EPS = 1e-20

# Parameters were tuned once, by hand, on sisec2011 speech (src_1..3 of both speakers)
# mixed with the three shared-data noises at 5 and 10 dB SNR, scoring SI-SDR; the held-out
# speakers and files the tests use were not looked at.
_NOISE_SMOOTHING = 0.8  # recursive smoothing coefficient of the periodogram, per frame
_NOISE_WINDOW_SECONDS = 2.0  # minimum-tracking window
_NOISE_BIAS = 2.0  # undoes the downward bias of a minimum (to within 1 dB on white noise)

_SUBTRACTION_FACTOR = 2.0  # Berouti over-subtraction at 0 dB segment SNR
_SUBTRACTION_FLOOR = 0.1  # spectral floor, as a fraction of the noisy magnitude (-20 dB)

_NR_NOISE_FRACTION = 0.1  # noise clip for noisereduce's stationary gate: quietest 10 % of blocks
_NR_NONSTATIONARY_PROP_DECREASE = 0.7  # the library's 1.0 gates too hard (see its docstring)
_NR_MIN_SAMPLES = 4 * 1024  # four of noisereduce's default 1024-point frames

_DD_ALPHA = 0.98  # decision-directed smoothing (Ephraim & Malah)
_DD_MIN_PRIOR_SNR = 10.0 ** (-25.0 / 10.0)  # a-priori SNR floor: limits musical noise


def stft_config_for(sample_rate: int, *, frame_seconds: float = FRAME_SECONDS) -> StftConfig:
    """An :class:`~aural.dsp.stft.StftConfig` of about ``frame_seconds`` at ``sample_rate``.

    ``n_fft`` is the frame length rounded to an even number of samples and ``hop`` is
    half of it (50 % overlap, perfect reconstruction); e.g. 512/256 at 16 kHz.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    n_fft = max(2, 2 * int(round(sample_rate * frame_seconds / 2.0)))
    return StftConfig(n_fft=n_fft, hop=n_fft // 2)


def estimate_noise_psd(power: np.ndarray, sample_rate: int, config: StftConfig) -> np.ndarray:
    """Track the noise power spectrum of a noisy power spectrogram ``(frames, bins)``.

    Minimum statistics, simplified: recursive smoothing of the periodogram, a centred
    sliding minimum over :data:`_NOISE_WINDOW_SECONDS` (offline, so centring costs no
    delay), bias compensation, then a moving average of the same length so that the
    estimate does not step. Returns an array of the same shape as ``power``.
    """
    # First-order recursive smoothing, started from the mean of the first few frames.
    start = power[: max(1, min(len(power), 5))].mean(axis=0)
    smoothed, _ = lfilter([1.0 - _NOISE_SMOOTHING], [1.0, -_NOISE_SMOOTHING], power, axis=0,
                          zi=(_NOISE_SMOOTHING * start)[np.newaxis, :])
    window = max(1, int(round(_NOISE_WINDOW_SECONDS * sample_rate / config.hop)))
    window = min(window, len(power))
    floor = minimum_filter1d(smoothed.astype(np.float32), size=window, axis=0, mode="nearest")
    floor = uniform_filter1d(floor, size=window, axis=0, mode="nearest")
    return (_NOISE_BIAS * floor).astype(np.float32)


def _as_signal(noisy: np.ndarray) -> np.ndarray:
    signal = np.asarray(noisy, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"baselines take 1-D audio, got shape {signal.shape}")
    return signal


def _apply_gain_rule(noisy: np.ndarray, sample_rate: int,
                     rule: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """STFT, noise estimate, ``rule(power, noise) -> gains`` per bin, inverse STFT.

    The shared frame of the classical methods: they differ only in the gain rule.
    """
    signal = _as_signal(noisy)
    if signal.size == 0:
        return signal.copy()
    config = stft_config_for(sample_rate)
    spectrum = stft(signal, config)
    power = np.square(np.abs(spectrum)).astype(np.float32)
    noise = estimate_noise_psd(power, sample_rate, config)
    gains = rule(power, noise)
    return istft(spectrum * gains.astype(np.float32), len(signal), config)


def _subtraction_gains(power: np.ndarray, noise: np.ndarray) -> np.ndarray:
    magnitude = np.sqrt(power)
    noise_magnitude = np.sqrt(noise)
    # Segmental SNR per frame sets how hard to subtract: hard in noise, gently in speech.
    segment_snr_db = 10.0 * np.log10((power.sum(axis=1) + _EPS) / (noise.sum(axis=1) + _EPS))
    factor = _SUBTRACTION_FACTOR - (3.0 / 20.0) * np.clip(segment_snr_db, -5.0, 20.0)
    factor = np.maximum(factor, 1.0)[:, np.newaxis]
    gain = 1.0 - factor * noise_magnitude / (magnitude + _EPS)
    return np.maximum(gain, _SUBTRACTION_FLOOR)


def _decision_directed_gains(power: np.ndarray, noise: np.ndarray) -> np.ndarray:
    power = power.astype(np.float64)
    noise = np.maximum(noise.astype(np.float64), _EPS)
    posterior = power / noise
    gains = np.empty_like(power)
    previous_clean = np.zeros(power.shape[1])
    for index in range(power.shape[0]):
        prior = (_DD_ALPHA * previous_clean / noise[index]
                 + (1.0 - _DD_ALPHA) * np.maximum(posterior[index] - 1.0, 0.0))
        prior = np.maximum(prior, _DD_MIN_PRIOR_SNR)
        gain = prior / (1.0 + prior)
        gains[index] = gain
        previous_clean = np.square(gain) * power[index]
    return gains


def spectral_subtraction(noisy: np.ndarray, sample_rate: int) -> np.ndarray:
    """Boll's magnitude spectral subtraction with Berouti over-subtraction and floor.

    ``|S| = max(|Y| - a * |N|, b * |Y|)`` with the noisy phase, where ``|N|`` comes from
    :func:`estimate_noise_psd`, the over-subtraction ``a = 2 - 0.15 * SNR_dB`` follows the
    frame's segmental SNR (Berouti's rule, started at 2 rather than 4: 2.75 at -5 dB, 1 from
    about 7 dB up), and ``b`` = 0.1 (-20 dB) is the spectral floor.
    """
    return _apply_gain_rule(noisy, sample_rate, _subtraction_gains)


def wiener_decision_directed(noisy: np.ndarray, sample_rate: int) -> np.ndarray:
    """Wiener filtering with the Ephraim-Malah decision-directed a-priori SNR.

    Per frame ``l``: ``xi = alpha * |S(l-1)|^2 / N + (1 - alpha) * max(gamma - 1, 0)``
    with ``gamma = |Y|^2 / N`` and ``alpha`` = 0.98, then ``G = xi / (1 + xi)`` and
    ``S = G * Y``. ``xi`` is floored at -25 dB. ``N`` comes from :func:`estimate_noise_psd`.
    """
    return _apply_gain_rule(noisy, sample_rate, _decision_directed_gains)


def quietest_blocks(signal: np.ndarray, sample_rate: int, *, fraction: float = 0.1,
                    block_seconds: float = 0.064) -> np.ndarray:
    """The quietest ``fraction`` of ``block_seconds`` blocks of ``signal``, in time order.

    A noise sample for estimators that want one (as ``noisereduce``'s stationary gate
    does); at least four blocks are kept, and short signals are returned whole.
    """
    block = max(1, int(round(block_seconds * sample_rate)))
    count = len(signal) // block
    keep = max(4, int(count * fraction))
    if count <= keep:
        return signal
    blocks = signal[: count * block].reshape(count, block)
    energy = np.mean(np.square(blocks, dtype=np.float64), axis=1)
    chosen = np.sort(np.argsort(energy, kind="stable")[:keep])
    return blocks[chosen].reshape(-1)


def _noisereduce(noisy: np.ndarray, sample_rate: int, *, stationary: bool) -> np.ndarray:
    import noisereduce  # local: only evaluation needs it

    signal = _as_signal(noisy)
    if signal.size == 0:
        return signal.copy()
    # noisereduce's STFT (1024 points) fails on shorter input: zero-pad to a few frames.
    padded = np.zeros(max(signal.size, _NR_MIN_SAMPLES), dtype=np.float32)
    padded[: signal.size] = signal
    # The non-stationary gate divides by a smoothed magnitude, which is 0/0 on digital
    # silence; a fixed -180 dBFS dither keeps it finite without audible effect.
    padded += np.random.default_rng(0).standard_normal(padded.size).astype(np.float32) * 1e-9
    if stationary:
        options = {"y_noise": quietest_blocks(padded, sample_rate, fraction=_NR_NOISE_FRACTION)}
    else:
        options = {"prop_decrease": _NR_NONSTATIONARY_PROP_DECREASE}
    out = noisereduce.reduce_noise(y=padded, sr=int(sample_rate), stationary=stationary,
                                   **options)
    out = np.nan_to_num(np.asarray(out, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    fitted = np.zeros_like(signal)
    fitted[: min(len(out), len(signal))] = out[: len(signal)]
    return fitted


def noisereduce_stationary(noisy: np.ndarray, sample_rate: int) -> np.ndarray:
    """``noisereduce.reduce_noise(stationary=True)`` given the quietest 10 % of the input.

    The stationary gate is meant to get a noise-only clip (``y_noise``); without one it
    takes its statistics from the whole signal, speech included, and gates speech away
    (-2.4 dB SI-SDR at 5 dB input SNR in our tuning). Handing it the quietest 64 ms
    blocks, as :func:`quietest_blocks` picks them, is how a user would use it
    (+2.2 dB). Other settings are the library's defaults.
    """
    return _noisereduce(noisy, sample_rate, stationary=True)


def noisereduce_nonstationary(noisy: np.ndarray, sample_rate: int) -> np.ndarray:
    """``noisereduce.reduce_noise(stationary=False, prop_decrease=0.7)``.

    At the default ``prop_decrease=1.0`` the gate removes up to all of a bin and cost
    SI-SDR in our tuning (-1.0 dB at 5 dB input SNR); 0.7 (at most about 10 dB of
    attenuation) gave +0.9 dB. Other settings are the library's defaults.
    """
    return _noisereduce(noisy, sample_rate, stationary=False)


#: Name -> baseline, in the order reports list them.
BASELINES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "spectral_subtraction": spectral_subtraction,
    "wiener_decision_directed": wiener_decision_directed,
    "noisereduce_stationary": noisereduce_stationary,
    "noisereduce_nonstationary": noisereduce_nonstationary,
}

"""Classical bandwidth-extension baselines that every frequency_expansion report sets beside.

Each is ``fn(band_limited, sample_rate) -> estimate`` (1-D float32, same length, aligned);
neither is told the cut-off: both find it with :func:`aural.dsp.bandwidth.detect_cutoff`.

- :func:`spectral_folding`: spectral band replication. The octave below the cut-off is
  copied upwards (:func:`aural.dsp.bandwidth.replicate_band`) and tilted so that it falls
  off like speech and music do (-9 dB per octave above the cut-off, from the level of the
  band just below it).
- :func:`harmonic_exciter`: the classic "exciter": the top octave below the cut-off is
  distorted (full-wave rectification makes harmonics above it), high-passed at the
  cut-off and mixed in 12 dB below that octave's level.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from aural.dsp.bandwidth import detect_cutoff, replicate_band
from aural.dsp.filters import apply_sos, butter_highpass, butter_lowpass
from aural.dsp.stft import StftConfig, istft, stft

#: Full band above this cut-off (Hz at any rate: a fraction of Nyquist is used instead).
_FULL_BAND_FRACTION = 0.79
_TILT_DB_PER_OCTAVE = -9.0


def _needs_extension(cutoff: float, sample_rate: int) -> bool:
    return cutoff < _FULL_BAND_FRACTION * sample_rate / 2.0


def spectral_folding(degraded: np.ndarray, sample_rate: int) -> np.ndarray:
    """Spectral band replication with a -9 dB/octave tilt above the detected cut-off."""
    signal = np.asarray(degraded, dtype=np.float32)
    cutoff = detect_cutoff(signal, sample_rate)
    if not _needs_extension(cutoff, sample_rate):
        return signal.copy()
    n_fft = 2 * int(round(0.016 * sample_rate))
    config = StftConfig(n_fft=n_fft, hop=n_fft // 2)
    spectrum = stft(signal, config)
    extended = replicate_band(spectrum, cutoff, sample_rate, n_fft)
    freqs = np.arange(spectrum.shape[1]) * sample_rate / n_fft
    above = freqs > cutoff
    below = (freqs > cutoff / 2) & (freqs <= cutoff)
    # Copies keep the level of the band they came from; scale them to continue the
    # spectrum's fall from just below the cut-off.
    edge = np.sqrt(np.mean(np.abs(spectrum[:, below]) ** 2, axis=1, keepdims=True) + 1e-20)
    copied = np.sqrt(np.mean(np.abs(extended[:, above]) ** 2, axis=1, keepdims=True) + 1e-20)
    octaves = np.log2(np.maximum(freqs[above], cutoff) / cutoff)
    tilt = 10 ** (_TILT_DB_PER_OCTAVE * (octaves + 0.5) / 20.0)
    extended[:, above] = extended[:, above] * (edge / copied) * tilt
    return istft(extended, len(signal), config).astype(np.float32)


def harmonic_exciter(degraded: np.ndarray, sample_rate: int) -> np.ndarray:
    """Rectified top octave, high-passed at the detected cut-off, mixed in at -12 dB."""
    signal = np.asarray(degraded, dtype=np.float32)
    cutoff = detect_cutoff(signal, sample_rate)
    if not _needs_extension(cutoff, sample_rate):
        return signal.copy()
    nyquist = sample_rate / 2.0
    top_octave = apply_sos(signal, butter_highpass(cutoff / 2, sample_rate, order=4))
    top_octave = apply_sos(top_octave, butter_lowpass(min(cutoff, 0.99 * nyquist), sample_rate,
                                                      order=4))
    harmonics = np.abs(top_octave)
    harmonics = apply_sos(harmonics, butter_highpass(min(cutoff, 0.99 * nyquist), sample_rate,
                                                     order=8))
    level = np.sqrt(np.mean(top_octave ** 2)) / (np.sqrt(np.mean(harmonics ** 2)) + 1e-12)
    return (signal + harmonics * level * 10 ** (-12.0 / 20.0)).astype(np.float32)


#: Name -> baseline, in a stable order.
BASELINES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "spectral_folding": spectral_folding,
    "harmonic_exciter": harmonic_exciter,
}

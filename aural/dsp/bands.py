"""Perceptual band layouts: pooling STFT power into bands and spreading band gains back.

A stage's network sees a few dozen to a hundred band features per frame instead of
hundreds of bins; that is what keeps the models small enough for a laptop CPU
(the idea behind DeepFilterNet's ERB features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def hz_to_erb_rate(freq: np.ndarray | float) -> np.ndarray:
    """ERB-rate scale of Glasberg & Moore (1990)."""
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(freq, dtype=np.float64))


def erb_rate_to_hz(erb: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_erb_rate`."""
    return (10.0 ** (np.asarray(erb, dtype=np.float64) / 21.4) - 1.0) / 0.00437


def _triangular_partition(centres: np.ndarray, bin_freqs: np.ndarray) -> np.ndarray:
    """Weights (bins, bands) that linearly interpolate between band centres; rows sum to one."""
    weights = np.zeros((len(bin_freqs), len(centres)), dtype=np.float64)
    index = np.searchsorted(centres, bin_freqs, side="right") - 1
    for b, f in enumerate(bin_freqs):
        k = index[b]
        if k < 0:
            weights[b, 0] = 1.0
        elif k >= len(centres) - 1:
            weights[b, -1] = 1.0
        else:
            t = (f - centres[k]) / (centres[k + 1] - centres[k])
            weights[b, k] = 1.0 - t
            weights[b, k + 1] = t
    return weights


@dataclass(frozen=True)
class BandLayout:
    """Single bins below ``linear_below_hz``, ERB-spaced bands above it.

    ``expand`` (bins x features) turns per-feature gains into per-bin gains with
    linear interpolation (each row sums to one, so a flat gain stays flat);
    ``pool`` (features x bins) averages bin power into features.
    """

    sample_rate: int
    n_fft: int
    linear_below_hz: float = 4000.0
    n_erb_bands: int = 32
    expand: np.ndarray = field(init=False, repr=False, compare=False)
    pool: np.ndarray = field(init=False, repr=False, compare=False)
    centres_hz: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bin_freqs = np.arange(self.n_fft // 2 + 1) * self.sample_rate / self.n_fft
        nyquist = self.sample_rate / 2.0
        linear = bin_freqs[bin_freqs < min(self.linear_below_hz, nyquist)]
        erb_lo = hz_to_erb_rate(linear[-1] if len(linear) else 0.0)
        erb_hi = hz_to_erb_rate(nyquist)
        upper = erb_rate_to_hz(np.linspace(erb_lo, erb_hi, self.n_erb_bands + 1)[1:])
        centres = np.concatenate([linear, upper])
        expand = _triangular_partition(centres, bin_freqs)
        pool = expand.T / np.maximum(expand.sum(axis=0)[:, None], 1e-9)
        object.__setattr__(self, "centres_hz", centres)
        object.__setattr__(self, "expand", expand.astype(np.float32))
        object.__setattr__(self, "pool", pool.astype(np.float32))

    @property
    def n_features(self) -> int:
        """Number of band features per frame."""
        return self.pool.shape[0]

    def band_power(self, spectrum: np.ndarray) -> np.ndarray:
        """Mean power per band, ``(frames, features)``, from a complex or magnitude spectrogram."""
        power = np.abs(spectrum) ** 2
        return (power @ self.pool.T).astype(np.float32)

    def bin_gains(self, band_gains: np.ndarray) -> np.ndarray:
        """Spread ``(frames, features)`` gains over the STFT bins, ``(frames, bins)``."""
        return (band_gains @ self.expand.T).astype(np.float32)


def onset_strength(log_band_power: np.ndarray) -> np.ndarray:
    """Per frame, how much the bands rose since the previous frame (half-wave rectified
    spectral flux of log band power, averaged over bands): ``(frames,)``, 0 for the first."""
    rise = np.diff(np.asarray(log_band_power, np.float32), axis=0, prepend=log_band_power[:1])
    return np.maximum(rise, 0.0).mean(axis=1).astype(np.float32)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int = 80, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Slaney-normalised mel filterbank ``(n_mels, bins)`` (librosa's, for compatibility)."""
    import librosa  # local: librosa's import is slow

    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                               fmax=fmax).astype(np.float32)


def log_mel_spectrogram(signal: np.ndarray, sample_rate: int, *, n_fft: int = 1024,
                        n_mels: int = 80) -> np.ndarray:
    """Log-mel spectrogram ``(frames, n_mels)`` in dB (floor -100 dB) of a 1-D signal, hop ``n_fft/2``."""
    from aural.dsp.stft import StftConfig, stft

    spectrum = stft(signal, StftConfig(n_fft=n_fft, hop=n_fft // 2))
    mel = (np.abs(spectrum) ** 2) @ mel_filterbank(sample_rate, n_fft, n_mels).T
    return (10.0 * np.log10(np.maximum(mel, 1e-10))).astype(np.float32)

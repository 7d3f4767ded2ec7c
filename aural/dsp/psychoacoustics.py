"""What listeners hear, per frame, from band powers: loudness (BS.1770 K-weighted level)
and sharpness (DIN 45692 weighting over the Bark scale), and a per-bin loss weighting by
the K-weighting curve.

These feed the spectral stages' ``psychoacoustic_inputs`` and ``perceptual_loss_weighting``
switches; the loudness meter itself lives in :mod:`aural.dsp.loudness`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from aural.dsp.loudness import k_weighting_power


def hz_to_bark(freq: np.ndarray | float) -> np.ndarray:
    """Critical-band rate in Bark (Traunmüller 1990)."""
    freq = np.asarray(freq, dtype=np.float64)
    return 26.81 * freq / (1960.0 + freq) - 0.53


def sharpness_weight(freq: np.ndarray | float) -> np.ndarray:
    """DIN 45692 sharpness weighting g(z): 1 up to 15.8 Bark (about 3 kHz), rising
    exponentially above, to about 4 at 24 Bark (about 15 kHz)."""
    z = hz_to_bark(freq)
    return np.where(z <= 15.8, 1.0, 0.15 * np.exp(0.42 * (z - 15.8)) + 0.85)


def frame_loudness_and_sharpness(band_power: np.ndarray, centres_hz: np.ndarray,
                                 sample_rate: int) -> np.ndarray:
    """``(frames, 2)``: K-weighted level in dB scaled by 1/60 (0 at -60 dB), and sharpness
    in acum (DIN 45692 form, with band power ** 0.23 standing in for specific loudness),
    0 for silent frames."""
    power = np.asarray(band_power, np.float64)
    level_db = 10 * np.log10(power @ k_weighting_power(centres_hz, sample_rate) + 1e-12)
    specific = power ** 0.23    # Stevens' power law: a cheap stand-in for Zwicker's N'(z)
    z = np.clip(hz_to_bark(centres_hz), 0.0, None)
    total = specific.sum(axis=1)
    weighted = specific @ (sharpness_weight(centres_hz) * z)
    sharpness = np.where(total > 1e-6, 0.11 * weighted / np.maximum(total, 1e-12), 0.0)
    return np.stack([(level_db + 60.0) / 60.0, sharpness], axis=1).astype(np.float32)


@lru_cache(maxsize=8)
def perceptual_bin_weights(sample_rate: int, n_fft: int) -> np.ndarray:
    """Per-STFT-bin loss weights ``(n_fft // 2 + 1,)``: the K-weighting power response
    (the ear's low-frequency insensitivity and presence-region emphasis), scaled to mean 1
    so that a weighted loss keeps the unweighted one's scale."""
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    power = k_weighting_power(freqs, sample_rate)
    weights = (power / power.mean()).astype(np.float32)
    weights.setflags(write=False)  # cached: every training example shares it
    return weights

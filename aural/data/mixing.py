"""Mixing primitives shared by the simulator and the stages' training-pair makers."""

from __future__ import annotations

import numpy as np


def power(signal: np.ndarray) -> float:
    """Mean power of a signal (any shape)."""
    return float(np.mean(np.square(signal, dtype=np.float64)))


def random_excerpt(audio: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``length``-sample excerpt of 1-D ``audio``, looped if it is too short."""
    if len(audio) == 0:
        raise ValueError("cannot take an excerpt of empty audio")
    if len(audio) < length:
        repeats = int(np.ceil(length / len(audio))) + 1
        audio = np.tile(audio, repeats)
    start = int(rng.integers(0, len(audio) - length + 1))
    return audio[start:start + length]


def scale_to_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``noise`` scaled so that ``clean`` over it has ``snr_db`` dB SNR (power ratio)."""
    clean_power = power(clean)
    noise_power = power(noise)
    if noise_power <= 0.0 or clean_power <= 0.0:
        return np.zeros_like(noise)
    gain = np.sqrt(clean_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (noise * gain).astype(np.float32)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + noise`` with the noise scaled to ``snr_db`` dB SNR; same length as ``clean``."""
    return (clean + scale_to_snr(clean, noise[..., :clean.shape[-1]], snr_db)).astype(np.float32)


def scale_to_rms_db(signal: np.ndarray, level_dbfs: float) -> np.ndarray:
    """``signal`` scaled to an RMS of ``level_dbfs`` (silence stays silence)."""
    p = power(signal)
    return signal if p == 0.0 else (signal * 10 ** (level_dbfs / 20) / np.sqrt(p)).astype(np.float32)


def joined_clips(rng: np.random.Generator, clips: list[np.ndarray], length: int, rate: int,
                 gap_seconds: tuple[float, float]) -> np.ndarray:
    """Random clips (of one speaker) joined with pauses drawn from ``gap_seconds``, and a
    random ``length``-sample stretch of the result."""
    pieces, total = [], 0
    while total < length:
        clip = clips[int(rng.integers(len(clips)))]
        gap = np.zeros(int(rng.uniform(*gap_seconds) * rate), np.float32)
        pieces += [clip, gap]
        total += len(clip) + len(gap)
    joined = np.concatenate(pieces)
    start = int(rng.integers(0, len(joined) - length + 1))
    return joined[start:start + length]

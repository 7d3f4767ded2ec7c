"""Short-time Fourier transform with perfect reconstruction, in NumPy.

A periodic square-root Hann window at 50 % overlap is used for analysis and
synthesis, so ``istft(stft(x)) == x`` to float precision and any real gain
applied to the spectrum is cross-faded smoothly between frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StftConfig:
    """Frame size and hop in samples; ``hop`` must be ``n_fft // 2``."""

    n_fft: int = 960
    hop: int = 480

    def __post_init__(self) -> None:
        if self.n_fft % 2 or self.hop * 2 != self.n_fft:
            raise ValueError("StftConfig needs an even n_fft and hop == n_fft // 2")

    @property
    def n_bins(self) -> int:
        """Number of non-negative frequency bins."""
        return self.n_fft // 2 + 1

    def window(self) -> np.ndarray:
        """The analysis (and synthesis) window; its square sums to one at 50 % overlap."""
        n = np.arange(self.n_fft)
        return np.sqrt(0.5 - 0.5 * np.cos(2.0 * np.pi * n / self.n_fft)).astype(np.float32)

    def n_frames(self, n_samples: int) -> int:
        """Frames :func:`stft` returns for ``n_samples`` samples."""
        return int(np.ceil((n_samples + self.hop) / self.hop))


def stft(signal: np.ndarray, config: StftConfig = StftConfig()) -> np.ndarray:
    """Complex spectrogram of a 1-D signal, shape ``(frames, bins)``."""
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError("stft expects a 1-D signal")
    n_frames = config.n_frames(len(signal))
    padded = np.zeros((n_frames + 1) * config.hop, dtype=np.float32)
    padded[config.hop:config.hop + len(signal)] = signal
    frames = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft)[::config.hop]
    frames = frames[:n_frames] * config.window()
    return np.fft.rfft(frames, axis=-1).astype(np.complex64)


def istft(spectrum: np.ndarray, n_samples: int, config: StftConfig = StftConfig()) -> np.ndarray:
    """Invert :func:`stft`; returns ``n_samples`` samples."""
    frames = np.fft.irfft(spectrum, n=config.n_fft, axis=-1).astype(np.float32) * config.window()
    n_frames = frames.shape[0]
    out = np.zeros((n_frames + 1) * config.hop, dtype=np.float32)
    # With hop = n_fft / 2 each output sample gets exactly two frames: add the halves.
    halves = frames.reshape(n_frames, 2, config.hop)
    out[: n_frames * config.hop] += halves[:, 0, :].reshape(-1)
    out[config.hop: (n_frames + 1) * config.hop] += halves[:, 1, :].reshape(-1)
    return out[config.hop:config.hop + n_samples]

"""Training augmentation: time stretch and pitch shift drawn independently (unlike a speed
change, which moves both together), so a stage meets other tempos and other voices."""

from __future__ import annotations

import numpy as np


def stretch_and_shift(signal: np.ndarray, rate: int, rng: np.random.Generator, *,
                      stretch: float, semitones: float) -> np.ndarray:
    """``signal`` played ``1 +- stretch`` times as fast with its pitch kept (phase vocoder),
    then shifted by up to ``+- semitones`` with its duration kept; cut or zero-padded back
    to its length. Either range at 0 skips that step (and draws nothing)."""
    import librosa

    out = np.asarray(signal, np.float32)
    if stretch > 0:
        out = librosa.effects.time_stretch(out, rate=1.0 + rng.uniform(-stretch, stretch))
    if semitones > 0:
        out = librosa.effects.pitch_shift(out, sr=rate, n_steps=rng.uniform(-semitones, semitones))
    return np.pad(out, (0, max(len(signal) - len(out), 0)))[: len(signal)].astype(np.float32)

"""Augmentation: time stretch keeps the pitch, pitch shift keeps the duration."""

import numpy as np
import pytest

from aural.data.augment import stretch_and_shift

RATE = 48_000


def _tone_burst(seconds_on: float = 0.5) -> np.ndarray:
    """A 440 Hz tone for ``seconds_on``, then silence, in 2 s."""
    t = np.arange(2 * RATE) / RATE
    return (0.5 * np.sin(2 * np.pi * 440 * t) * (t < seconds_on)).astype(np.float32)


def _pitch_hz(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * RATE / len(signal))


def _sounding_seconds(signal: np.ndarray) -> float:
    frames = np.abs(signal[: len(signal) // 480 * 480]).reshape(-1, 480).max(axis=1)
    return float(np.sum(frames > 0.1) * 480 / RATE)


class FixedDraw:
    """A generator stand-in whose uniform draw is always ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def uniform(self, low: float, high: float) -> float:
        return self.value


def test_stretch_keeps_pitch_and_changes_duration():
    tone = _tone_burst()
    slower = stretch_and_shift(tone, RATE, FixedDraw(-0.2), stretch=0.2, semitones=0.0)
    assert len(slower) == len(tone)
    assert _pitch_hz(slower) == pytest.approx(440, abs=5)
    assert _sounding_seconds(slower) == pytest.approx(0.5 / 0.8, abs=0.03)


def test_shift_keeps_duration_and_changes_pitch():
    tone = _tone_burst()
    higher = stretch_and_shift(tone, RATE, FixedDraw(2.0), stretch=0.0, semitones=2.0)
    assert _pitch_hz(higher) == pytest.approx(440 * 2 ** (2 / 12), abs=5)
    assert _sounding_seconds(higher) == pytest.approx(0.5, abs=0.03)


def test_off_by_default_draws_nothing():
    from aural.stages.dynamic_compression import DynamicCompression

    rng = np.random.default_rng(0)
    tone = _tone_burst()
    assert DynamicCompression().augmented(tone, rng) is tone
    assert rng.random() == np.random.default_rng(0).random()

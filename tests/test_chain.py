"""The chain streams: tiny stages in pieces give what they give on the whole signal."""

import numpy as np
import pytest

from aural.chain import run_chain
from aural.stages.base import Stage


class _Smoother(Stage):
    """A stage with memory: a 5 ms moving average (its output depends on neighbours)."""

    name = "smoother"
    outputs = ("audio",)

    def load_training_pool(self, split):  # pragma: no cover - not trained
        raise NotImplementedError

    def make_pair(self, rng, pool):  # pragma: no cover
        raise NotImplementedError

    def example(self, pair):  # pragma: no cover
        raise NotImplementedError

    def build_model(self):  # pragma: no cover
        raise NotImplementedError

    def test_items(self, split="test"):  # pragma: no cover
        return []

    def run_channel(self, signal):
        width = self.config.sample_rate // 200
        return {"audio": np.convolve(signal, np.ones(width) / width, mode="same").astype(np.float32)}


class _Splitter(_Smoother):
    """Two outputs that sum to the input: smoothed ("voice") and the rest ("background")."""

    name = "splitter"
    outputs = ("voice", "background")

    def run_channel(self, signal):
        low = super().run_channel(signal)["audio"]
        return {"voice": low, "background": (signal - low).astype(np.float32)}


def _chirp_noise(seconds: float, rate: int, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * (200 + 300 * t) * t)
    return np.stack([(tone + 0.3 * rng.standard_normal(len(t))) * (0.2 + 0.1 * c)
                     for c in range(channels)]).astype(np.float32)


@pytest.mark.parametrize("block_seconds", [0.7, 3.3, 30.0])
def test_chain_in_pieces_equals_one_piece(block_seconds):
    rate = 16_000
    audio = _chirp_noise(20.0, rate)
    a, b = _Smoother(), _Smoother()
    a.config.sample_rate = b.config.sample_rate = rate
    streamed = run_chain([a, b], audio, rate, block_seconds=block_seconds)["audio"]
    one_piece = np.stack([b.run_channel(a.run_channel(ch)["audio"])["audio"] for ch in audio])
    assert streamed.shape == audio.shape
    # Blocks carry half a second of context on each side: far beyond the filter's reach.
    np.testing.assert_allclose(streamed, one_piece, atol=1e-5)


def test_separation_in_the_chain_keeps_stems_aligned_and_summing_to_the_input():
    rate = 16_000
    audio = _chirp_noise(12.0, rate)
    splitter = _Splitter()
    splitter.config.sample_rate = rate
    out = run_chain([splitter], audio, rate, block_seconds=1.3)
    assert set(out) == {"audio", "background"}
    assert out["audio"].shape == out["background"].shape == audio.shape
    np.testing.assert_allclose(out["audio"] + out["background"], audio, atol=1e-5)


def test_stems_stay_aligned_when_stages_follow_the_separation():
    rate = 16_000
    audio = _chirp_noise(12.0, rate)
    splitter, smoother = _Splitter(), _Smoother()
    splitter.config.sample_rate = smoother.config.sample_rate = rate
    out = run_chain([splitter, smoother], audio, rate, block_seconds=2.1)
    voice = np.stack([splitter.run_channel(ch)["voice"] for ch in audio])
    background = audio - voice
    np.testing.assert_allclose(out["background"], background, atol=1e-5)
    expected = np.stack([smoother.run_channel(ch)["audio"] for ch in voice])
    np.testing.assert_allclose(out["audio"], expected, atol=1e-5)


def test_strength_zero_passes_the_input_bit_exactly_at_any_rate():
    rate = 22_050
    audio = _chirp_noise(5.0, rate)
    smoother = _Smoother()  # works at 48 kHz: strength 0 must not even resample
    out = run_chain([smoother], audio, rate, strengths={"smoother": 0.0}, block_seconds=1.0)
    assert np.array_equal(out["audio"], audio)


def test_half_strength_mixes_dry_and_wet():
    rate = 16_000
    audio = _chirp_noise(3.0, rate, channels=1)
    smoother = _Smoother()
    smoother.config.sample_rate = rate
    out = run_chain([smoother], audio, rate, strengths={"smoother": 0.5})["audio"]
    wet = smoother.run_channel(audio[0])["audio"]
    np.testing.assert_allclose(out[0], 0.5 * wet + 0.5 * audio[0], atol=1e-5)

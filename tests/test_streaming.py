"""Block processing must be seamless: the same result as processing the whole signal."""

import numpy as np
import pytest
import soundfile as sf

from aural.streaming import BlockProcessor, process_in_blocks, stream_file


def _smoother(audio: np.ndarray) -> np.ndarray:
    # Non-causal 41-tap moving average: a block function that needs context on both sides.
    kernel = np.ones(41, np.float32) / 41
    return np.stack([np.convolve(channel, kernel, mode="same") for channel in audio])


@pytest.mark.parametrize("block,context,crossfade", [(1000, 100, 50), (333, 60, 20), (5000, 200, 0)])
def test_blocks_match_whole_signal(block, context, crossfade):
    audio = np.random.default_rng(0).standard_normal((2, 10_007)).astype(np.float32)
    whole = _smoother(audio)
    pieces = process_in_blocks(audio, _smoother, block=block, context=context, crossfade=crossfade)
    assert pieces.shape == audio.shape
    # Away from the signal's own ends the result is identical to float precision.
    assert np.max(np.abs(pieces - whole)[:, 100:-100]) < 1e-6


def test_chunked_pushes_return_every_sample_in_order():
    audio = np.arange(9_000, dtype=np.float32)[np.newaxis] / 9_000
    processor = BlockProcessor(lambda x: x, block=700, context=50, crossfade=30)
    out = []
    for start in range(0, 9_000, 1_234):
        out += processor.push(audio[:, start:start + 1_234])
    out += processor.flush()
    joined = np.concatenate(out, axis=1)
    assert joined.shape == audio.shape
    np.testing.assert_allclose(joined, audio, atol=1e-6)


def test_stream_file_resamples_and_keeps_channels(tmp_path):
    rate = 44_100
    t = np.arange(rate * 3) / rate
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)])
    source = tmp_path / "in.wav"
    sf.write(source, stereo.T, rate)
    out = stream_file(source, tmp_path / "out.wav", lambda x: x * 0.5, process_rate=48_000,
                      block=48_000, context=4_800, crossfade=480, read_seconds=0.7).path
    data, out_rate = sf.read(out, always_2d=True)
    assert out_rate == rate and data.shape[1] == 2
    assert abs(len(data) - stereo.shape[1]) <= 2
    middle = slice(rate // 2, -rate // 2)
    np.testing.assert_allclose(data[middle, 0], 0.5 * stereo[0, middle], atol=2e-3)
    np.testing.assert_allclose(data[middle, 1], 0.5 * stereo[1, middle], atol=2e-3)
    assert not list(tmp_path.glob("*.part"))

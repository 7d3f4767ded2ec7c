"""BS.1770 loudness, EBU loudness range and true peak against reference values."""

from __future__ import annotations

import numpy as np
import pytest

from aural.audio_io import load_audio
from aural.data.sources import shared_data_dir
from aural.dsp.loudness import (integrated_loudness, k_weight, loudness_range, momentary_loudness,
                                normalize_loudness, sample_peak_dbfs, short_term_loudness,
                                true_peak_dbtp)


def sine(frequency: float, seconds: float, rate: int, *, amplitude: float = 1.0,
         phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t + phase)).astype(np.float32)


@pytest.fixture(scope="module")
def real_speech() -> tuple[np.ndarray, int]:
    """Real clean speech at 44.1 kHz (10 s of the DAPS studio take), as (1, samples)."""
    path = shared_data_dir() / "paired" / "daps_excerpt" / "m2_script1_clean.wav"
    audio, rate = load_audio(path, duration=10.0, mono=True)
    return audio, rate


def test_full_scale_997_hz_sine_reads_minus_3_01_lufs():
    # BS.1770-4: a 0 dBFS 997 Hz sine in one channel measures -3.01 LKFS.
    assert integrated_loudness(sine(997, 2.0, 48_000), 48_000) == pytest.approx(-3.01, abs=0.02)


@pytest.mark.parametrize("rate", [16_000, 44_100])
def test_reference_sine_reads_the_same_at_other_rates(rate):
    assert integrated_loudness(sine(997, 2.0, rate), rate) == pytest.approx(-3.01, abs=0.1)


def test_loudness_follows_gain_and_channel_count():
    tone = sine(997, 2.0, 48_000, amplitude=0.1)  # -20 dBFS peak: -23.01 LUFS
    assert integrated_loudness(tone, 48_000) == pytest.approx(-23.01, abs=0.02)
    # Two identical front channels carry twice the power: +3.01 LU.
    assert integrated_loudness(np.stack([tone, tone]), 48_000) == pytest.approx(-20.0, abs=0.02)
    # More channels than pyloudnorm supports still measure (weights 1, 1, 1, 1.41, 1.41, 1).
    six = integrated_loudness(np.tile(tone, (6, 1)), 48_000)
    expected = -23.01 + 10 * np.log10(1 + 1 + 1 + 1.41 + 1.41 + 1)
    assert six == pytest.approx(expected, abs=0.02)


def test_short_audio_is_measured_on_what_is_there():
    tone = sine(997, 2.0, 48_000, amplitude=0.1)
    assert integrated_loudness(tone[:4800], 48_000) == pytest.approx(-23.01, abs=0.1)  # 100 ms


def test_silence_measures_minus_infinity_and_is_left_alone():
    silence = np.zeros((1, 48_000), np.float32)
    assert integrated_loudness(silence, 48_000) == float("-inf")
    assert integrated_loudness(np.zeros(0, np.float32), 48_000) == float("-inf")
    np.testing.assert_array_equal(normalize_loudness(silence, 48_000), silence)
    assert sample_peak_dbfs(silence) == float("-inf")
    assert true_peak_dbtp(silence, 48_000) == float("-inf")
    assert np.isnan(loudness_range(silence, 48_000))


@pytest.mark.parametrize("target", [-23.0, -16.0, -30.0])
def test_normalize_loudness_hits_the_target_on_real_speech(real_speech, target):
    audio, rate = real_speech
    out = normalize_loudness(audio, rate, target_lufs=target)
    assert out.dtype == np.float32 and out.shape == audio.shape
    assert integrated_loudness(out, rate) == pytest.approx(target, abs=0.1)


def test_integrated_loudness_agrees_with_pyloudnorm_on_real_audio(real_speech):
    from pyloudnorm import Meter

    audio, rate = real_speech
    stereo = np.stack([audio[0], 0.5 * np.roll(audio[0], 4410)])
    for signal in (audio, stereo):
        meter = Meter(rate, filter_class="DeMan")
        reference = meter.integrated_loudness(signal.T.astype(np.float64))
        assert integrated_loudness(signal, rate) == pytest.approx(reference, abs=0.02)


def test_chunked_k_weighting_equals_filtering_in_one_piece(real_speech, monkeypatch):
    from aural.dsp import loudness

    audio, rate = real_speech
    excerpt = audio[:, : rate // 2]
    whole = np.sum(np.square(k_weight(excerpt, rate)).reshape(-1, 441), axis=-1)
    monkeypatch.setattr(loudness, "_FILTER_CHUNK", 1000)  # 441-sample ticks, 882-sample chunks
    np.testing.assert_allclose(loudness._tick_energies(excerpt, rate, 441), whole, rtol=1e-9)


def test_short_term_and_momentary_loudness_of_a_steady_tone():
    rate = 16_000
    tone = sine(997, 5.0, rate, amplitude=0.1)
    short = short_term_loudness(tone, rate)
    assert len(short) == int((5.0 - 3.0) / 0.1) + 1
    np.testing.assert_allclose(short, -23.01, atol=0.1)
    np.testing.assert_allclose(momentary_loudness(tone, rate, hop_seconds=0.2), -23.01, atol=0.1)


def test_loudness_range_of_two_levels_10_db_apart():
    rate = 8_000
    quiet = sine(997, 20.0, rate, amplitude=0.1 / np.sqrt(10.0))
    loud = sine(997, 20.0, rate, amplitude=0.1)
    assert loudness_range(np.concatenate([quiet, loud]), rate) == pytest.approx(10.0, abs=1.0)
    assert loudness_range(loud, rate) == pytest.approx(0.0, abs=0.1)


def test_true_peak_finds_the_inter_sample_peak():
    # A sine at fs/4 with 45 degree phase is sampled at +-0.707 of its true amplitude.
    rate = 48_000
    tone = sine(rate / 4, 1.0, rate, amplitude=0.5, phase=np.pi / 4)
    tone *= np.hanning(len(tone)) ** 0.05  # soft ends: an abrupt start overshoots by itself
    sample_peak = sample_peak_dbfs(tone)
    assert sample_peak == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=0.01)
    assert true_peak_dbtp(tone, rate) - sample_peak == pytest.approx(3.01, abs=0.05)


def test_true_peak_is_the_same_in_chunks_as_in_one_piece(monkeypatch):
    from scipy.signal import resample_poly

    from aural.dsp import loudness

    rate = 44_100
    noise = np.random.default_rng(0).standard_normal((2, 5000)) * 0.1
    noise[1, 2000] = 0.9  # a spike right at a chunk boundary, in the second channel
    whole = 20 * np.log10(np.max(np.abs(resample_poly(noise, 4, 1, axis=-1))))
    monkeypatch.setattr(loudness, "_TRUE_PEAK_CHUNK", 1000)
    assert true_peak_dbtp(noise, rate) == pytest.approx(whole, abs=1e-6)


def test_oversampling_factor_follows_bs1770_annex_2():
    from aural.dsp.loudness import true_peak_oversampling

    rates = (44_100, 48_000, 96_000, 192_000)
    assert [true_peak_oversampling(rate) for rate in rates] == [4, 4, 2, 1]

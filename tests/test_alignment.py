"""Alignment of device takes to studio takes, on real recordings from the shared data."""

from __future__ import annotations

import numpy as np
import pytest

from aural.audio_io import load_audio
from aural.data.alignment import (MIN_CORRELATION, align_pair, aligned_other, estimate_gain,
                                  estimate_offset, shift)
from aural.data.sources import shared_data_dir

RATE = 16_000


def _speech(relative: str, rate: int | None = RATE) -> np.ndarray:
    path = shared_data_dir() / relative
    if not path.exists():
        pytest.skip(f"shared recording missing: {relative}")
    audio, _ = load_audio(path, sample_rate=rate, mono=True)
    return audio[0]


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return _speech("speech/cmu_arctic/cmu_arctic_us_aew_a0001.wav")


def _delayed(signal: np.ndarray, delay: int) -> np.ndarray:
    """``signal`` starting ``delay`` samples later (negative: earlier), same length."""
    return shift(signal, -delay)


@pytest.mark.parametrize("delay", [0, 1, 37, 1234, -811])
def test_offset_is_recovered_to_the_sample(speech: np.ndarray, delay: int) -> None:
    other = _delayed(speech, delay)
    found = estimate_offset(speech, other, max_lag_samples=RATE // 2)
    assert found.offset == delay
    assert found.polarity == 1
    assert found.correlation > 0.999


def test_offset_with_noise_gain_and_inverted_polarity(speech: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    clean = -0.3 * _delayed(speech, 523)
    noise = rng.standard_normal(len(clean)).astype(np.float32)
    noise *= np.sqrt(np.mean(clean ** 2) / np.mean(noise ** 2)) * 10 ** (-5 / 20)  # 5 dB SNR
    other = np.concatenate([clean + noise, 0.01 * rng.standard_normal(900)])  # longer than ref

    result = align_pair(speech, other, RATE, max_lag_seconds=0.5)

    assert result.offset_samples == 523
    assert result.offset_seconds == pytest.approx(523 / RATE)
    assert result.polarity == -1
    # other = -0.3 * ref + noise at 5 dB: the LS fit of ref on other is 1/0.3 / (1 + 10^-0.5).
    assert result.gain == pytest.approx((1 / 0.3) / (1 + 10 ** -0.5), rel=0.05)
    # correlation^2 = S / (S + N) for white noise at 5 dB
    assert result.correlation == pytest.approx(np.sqrt(1 / (1 + 10 ** -0.5)), abs=0.02)
    assert result.residual_snr_db == pytest.approx(5.0 + 10 * np.log10(1 + 10 ** -0.5), abs=0.5)
    assert result.ok

    fixed = aligned_other(other, result, length=len(speech), apply_gain=True)
    error = speech - fixed
    # what is left after alignment is the (scaled) noise only
    assert 10 * np.log10(np.sum(speech ** 2) / np.sum(error ** 2)) == pytest.approx(
        result.residual_snr_db, abs=0.01)


def test_exact_copy_aligns_perfectly(speech: np.ndarray) -> None:
    result = align_pair(speech, 0.5 * _delayed(speech, 100), RATE)
    assert (result.offset_samples, result.polarity) == (100, 1)
    assert result.gain == pytest.approx(2.0, rel=1e-3)
    assert result.correlation > 0.999
    assert result.residual_snr_db > 30  # only the 100 samples pushed off the end differ


def test_estimate_gain_is_least_squares() -> None:
    rng = np.random.default_rng(1)
    other = rng.standard_normal(1000)
    reference = -2.5 * other + 0.1 * rng.standard_normal(1000)
    gain = estimate_gain(reference, other)
    brute = np.linspace(-3, -2, 10001)[np.argmin([np.sum((reference - g * other) ** 2)
                                                   for g in np.linspace(-3, -2, 10001)])]
    assert gain == pytest.approx(brute, abs=1e-4)
    assert estimate_gain(reference, np.zeros(1000)) == 0.0


def test_unrelated_recordings_are_not_ok(speech: np.ndarray) -> None:
    other = _speech("speech/cmu_arctic/cmu_arctic_us_axb_a0004.wav")
    result = align_pair(speech, other, RATE)
    assert not result.ok
    assert result.correlation < MIN_CORRELATION


def test_real_daps_pair_aligns_with_about_one_millisecond_lag() -> None:
    clean = _speech("paired/daps_excerpt/m2_script1_clean.wav", rate=None)
    ipad = _speech("paired/daps_excerpt/m2_script1_ipad_confroom1.wav", rate=None)
    result = align_pair(clean, ipad, 44_100)
    assert result.ok
    assert 0.5e-3 < abs(result.offset_seconds) < 1.5e-3
    assert result.polarity == -1          # the iPad take is inverted
    assert 0.3 < result.correlation < 0.5  # reverberant conference room: a weak but clear match
    # applying the alignment lines the takes up: the best lag is now zero
    fixed = aligned_other(ipad, result, length=len(clean))
    again = estimate_offset(clean, fixed, max_lag_samples=441)
    assert (again.offset, again.polarity) == (0, 1)

"""The classical noise-reduction baselines: length, alignment, real improvement, silence."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from aural.baselines.noise import BASELINES, stft_config_for
from aural.data.mixing import mix_at_snr
from aural.errors import AuralError

RATE = 16_000


def _shared_data():
    from aural.data.sources import shared_data_dir

    try:
        return shared_data_dir()
    except AuralError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def clean_speech() -> np.ndarray:
    """About 6 s of held-out speech (ARCTIC speaker axb, the test split), 16 kHz."""
    folder = _shared_data() / "speech" / "cmu_arctic"
    parts = [sf.read(folder / f"cmu_arctic_us_axb_{name}.wav", dtype="float32")[0]
             for name in ("a0004", "a0006")]
    return np.concatenate(parts)


def _noise(name: str, length: int) -> np.ndarray:
    noise, rate = sf.read(_shared_data() / "noise" / f"{name}.wav", dtype="float32")
    assert rate == RATE
    return noise[30 * RATE: 30 * RATE + length]


def _snr_db(clean: np.ndarray, estimate: np.ndarray) -> float:
    error = estimate.astype(np.float64) - clean
    return float(10.0 * np.log10(np.sum(np.square(clean, dtype=np.float64)) / np.sum(error ** 2)))


def _si_sdr_db(clean: np.ndarray, estimate: np.ndarray) -> float:
    clean = clean.astype(np.float64)
    estimate = estimate.astype(np.float64)
    target = clean * (np.dot(estimate, clean) / np.dot(clean, clean))
    return float(10.0 * np.log10(np.sum(target ** 2) / np.sum((estimate - target) ** 2)))


def test_registry_order_is_stable():
    assert list(BASELINES) == ["spectral_subtraction", "wiener_decision_directed",
                               "noisereduce_stationary", "noisereduce_nonstationary"]


@pytest.mark.parametrize(("rate", "n_fft"), [(8000, 256), (16000, 512), (22050, 706),
                                             (44100, 1412), (48000, 1536), (192000, 6144)])
def test_stft_config_is_about_32_ms_with_half_hop(rate, n_fft):
    config = stft_config_for(rate)
    assert config.n_fft == n_fft and config.hop == n_fft // 2
    assert abs(config.n_fft / rate - 0.032) < 0.001


@pytest.mark.parametrize("name", list(BASELINES))
@pytest.mark.parametrize("length", [1, 100, 16_001, 3 * RATE + 7])
def test_keeps_length_and_dtype(name, length):
    noisy = np.random.default_rng(1).normal(0.0, 0.05, length).astype(np.float32)
    out = BASELINES[name](noisy, RATE)
    assert out.shape == noisy.shape
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", list(BASELINES))
def test_no_delay_on_clean_speech(name, clean_speech):
    # Speech with a faint noise floor must come out time-aligned: the cross-correlation
    # peaks at lag 0 and is high there.
    floor = np.random.default_rng(2).normal(0.0, 1e-4, clean_speech.size).astype(np.float32)
    noisy = clean_speech + floor
    out = BASELINES[name](noisy, RATE)
    max_lag = 400
    lags = np.arange(-max_lag, max_lag + 1)
    core = slice(max_lag, len(noisy) - max_lag)
    corr = np.array([np.dot(out[core], noisy[core.start - lag: core.stop - lag]) for lag in lags])
    assert lags[np.argmax(corr)] == 0
    at_zero = corr[max_lag] / np.sqrt(np.dot(out[core], out[core]) * np.dot(noisy[core], noisy[core]))
    assert at_zero > 0.85


@pytest.mark.parametrize("name", ["spectral_subtraction", "wiener_decision_directed"])
def test_no_delay_on_impulse_train(name):
    # Clicks every 0.25 s over a faint noise floor stay exactly where they were.
    noisy = np.random.default_rng(3).normal(0.0, 1e-3, 2 * RATE).astype(np.float32)
    positions = np.arange(RATE // 8, 2 * RATE - RATE // 8, RATE // 4)
    noisy[positions] += 0.5
    out = BASELINES[name](noisy, RATE)
    for position in positions:
        window = out[position - 50: position + 51]
        assert np.argmax(np.abs(window)) == 50


# Minimum improvement at 5 dB input SNR on held-out speech: (measure, dB). Subtraction and
# Wiener gave +5.0 to +8.5 dB SNR on these mixes; noisereduce's gating lowers the speech
# level too, so it is judged on the scale-invariant SI-SDR (+0.8 to +3.7 dB here).
MARGINS = {
    "spectral_subtraction": ("snr", 2.0),
    "wiener_decision_directed": ("snr", 2.0),
    "noisereduce_stationary": ("si_sdr", 0.5),
    "noisereduce_nonstationary": ("si_sdr", 0.2),
}


@pytest.mark.parametrize("noise_name", ["exercise_bike", "running_tap"])
@pytest.mark.parametrize("name", list(BASELINES))
def test_improves_real_noisy_speech_at_5_db(name, noise_name, clean_speech):
    noisy = mix_at_snr(clean_speech, _noise(noise_name, clean_speech.size), 5.0)
    out = BASELINES[name](noisy, RATE)
    measure, margin = MARGINS[name]
    score = _snr_db if measure == "snr" else _si_sdr_db
    gain = score(clean_speech, out) - score(clean_speech, noisy)
    assert gain > margin, f"{name} on {noise_name}: {measure} improved by {gain:+.2f} dB"


@pytest.mark.parametrize("name", list(BASELINES))
def test_digital_silence_stays_silent(name):
    out = BASELINES[name](np.zeros(RATE, dtype=np.float32), RATE)
    assert np.all(np.isfinite(out))
    assert np.max(np.abs(out)) < 1e-6


@pytest.mark.parametrize("name", list(BASELINES))
def test_quiet_noise_is_not_amplified(name):
    hiss = _noise("running_tap", 2 * RATE) * np.float32(10.0 ** (-60.0 / 20.0))
    out = BASELINES[name](hiss, RATE)
    assert np.sqrt(np.mean(out.astype(np.float64) ** 2)) <= np.sqrt(np.mean(hiss.astype(np.float64) ** 2))


@pytest.mark.parametrize("name", list(BASELINES))
def test_rejects_multichannel(name):
    with pytest.raises(ValueError):
        BASELINES[name](np.zeros((2, 100), dtype=np.float32), RATE)

"""Quality metrics: published known answers and the behaviour each metric promises."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from aural.audio_io import load_audio
from aural.data.mixing import mix_at_snr
from aural.data.sources import shared_data_dir
from aural.metrics import (METRICS, RealTimeFactor, align, estoi, evaluate_pair,
                           log_spectral_distance, measure_rtf, pesq_nb, pesq_wb, si_sdr_db,
                           snr_db, stoi)

RATE = 16_000


@pytest.fixture(scope="module")
def known_answer_pair() -> tuple[np.ndarray, np.ndarray]:
    """python-pesq's own test pair: clean speech and the same with babble at 0 dB (16 kHz)."""
    folder = shared_data_dir() / "known_answer"
    clean, rate = load_audio(folder / "speech.wav")
    noisy, _ = load_audio(folder / "speech_bab_0dB.wav")
    assert rate == RATE
    return clean[0], noisy[0]


@pytest.fixture(scope="module")
def speech(known_answer_pair) -> np.ndarray:
    """Three seconds of real clean speech at 16 kHz."""
    return known_answer_pair[0]


def test_pesq_matches_python_pesq_reference_values(known_answer_pair):
    clean, noisy = known_answer_pair
    assert pesq_wb(clean, noisy, RATE) == pytest.approx(1.0832337141036987, abs=1e-6)
    assert pesq_nb(clean, noisy, RATE) == pytest.approx(1.6072081327438354, abs=1e-6)


def test_pesq_of_a_clean_copy_is_near_the_top_of_the_scale(speech):
    assert pesq_wb(speech, speech, RATE) > 4.5


def test_pesq_returns_nan_where_the_score_does_not_exist(speech):
    assert np.isnan(pesq_wb(speech[:1000], speech[:1000], RATE))       # shorter than 0.25 s
    assert np.isnan(pesq_wb(np.zeros(RATE), speech[:RATE], RATE))       # silent reference
    assert np.isnan(pesq_nb(speech, np.zeros_like(speech), RATE))       # silent estimate


def test_si_sdr_ignores_the_estimate_gain():
    rng = np.random.default_rng(1)
    clean = rng.standard_normal(RATE)
    estimate = clean + 0.3 * rng.standard_normal(RATE)
    assert si_sdr_db(clean, 0.1 * estimate) == pytest.approx(si_sdr_db(clean, estimate), abs=1e-9)
    assert si_sdr_db(clean, 7.0 * estimate) == pytest.approx(si_sdr_db(clean, estimate), abs=1e-9)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0])
def test_si_sdr_of_white_noise_mix_equals_its_snr(speech, snr):
    noise = np.random.default_rng(2).standard_normal(len(speech)).astype(np.float32)
    mixture = mix_at_snr(speech, noise, snr)
    # Noise uncorrelated with the speech projects almost nothing onto it.
    assert si_sdr_db(speech, mixture) == pytest.approx(snr, abs=0.3)
    assert snr_db(speech, mixture) == pytest.approx(snr, abs=0.05)


def test_identical_signals_score_very_high_but_finite(speech):
    for metric in (si_sdr_db, snr_db):
        value = metric(speech, speech)
        assert np.isfinite(value) and value > 100.0


def test_si_sdr_of_silent_reference_is_nan():
    assert np.isnan(si_sdr_db(np.zeros(100), np.ones(100)))


def test_lsd_of_identical_signals_is_zero(speech):
    assert log_spectral_distance(speech, speech, RATE) == pytest.approx(0.0, abs=1e-6)


def test_lsd_of_low_passed_signal_grows_above_the_cut_off(speech):
    low_passed = sosfiltfilt(butter(10, 4000, fs=RATE, output="sos"), speech)
    below = log_spectral_distance(speech, low_passed, RATE, max_hz=3000.0)
    above = log_spectral_distance(speech, low_passed, RATE, min_hz=4500.0)
    assert below < 1.0
    assert above > 10.0 * below and above > 10.0
    assert np.isnan(log_spectral_distance(speech, low_passed, RATE, min_hz=8000.0))


def test_stoi_of_a_copy_is_one_and_falls_with_heavy_noise(speech):
    noise = np.random.default_rng(3).standard_normal(len(speech)).astype(np.float32)
    noisy = mix_at_snr(speech, noise, -10.0)
    assert stoi(speech, speech, RATE) == pytest.approx(1.0, abs=1e-6)
    assert estoi(speech, speech, RATE) == pytest.approx(1.0, abs=1e-6)
    assert stoi(speech, noisy, RATE) < 0.75
    assert estoi(speech, noisy, RATE) < 0.5


def test_stoi_of_too_short_audio_is_nan(speech):
    assert np.isnan(stoi(speech[:2000], speech[:2000], RATE))


@pytest.mark.parametrize("delay", [0, 1, 37, 320])
def test_align_recovers_an_integer_delay(speech, delay):
    delayed = np.concatenate([np.zeros(delay, np.float32), speech])[: len(speech)]
    aligned, lag = align(speech, delayed, max_lag=800)
    assert lag == delay
    np.testing.assert_array_equal(aligned[: len(speech) - delay], speech[: len(speech) - delay])


def test_align_finds_an_early_estimate_and_corrects_polarity(speech):
    early = -speech[25:]
    aligned, lag = align(speech, early, max_lag=100, correct_polarity=True)
    assert lag == -25 and len(aligned) == len(speech)
    np.testing.assert_array_equal(aligned[25:], speech[25:])


def test_evaluate_pair_trims_lengths_and_computes_the_named_metrics(known_answer_pair):
    clean, noisy = known_answer_pair
    scores = evaluate_pair(clean, np.concatenate([noisy, np.zeros(500, np.float32)]), RATE,
                           metrics=("pesq_wb", "si_sdr", "lsd"))
    assert list(scores) == ["pesq_wb", "si_sdr", "lsd"]
    assert scores["pesq_wb"] == pytest.approx(1.0832337141036987, abs=1e-6)
    assert scores["si_sdr"] == pytest.approx(si_sdr_db(clean, noisy), abs=1e-9)
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_pair(clean, noisy, RATE, metrics=("mos",))


def test_evaluate_pair_gives_nan_for_a_broken_estimate(speech):
    broken = speech.copy()
    broken[100] = np.nan
    scores = evaluate_pair(speech, broken, RATE, metrics=("si_sdr", "stoi"))
    assert all(np.isnan(value) for value in scores.values())


def test_every_registered_metric_runs_on_real_speech(speech):
    noisy = mix_at_snr(speech, np.random.default_rng(4).standard_normal(len(speech)), 5.0)
    names = [name for name in METRICS if name != "lsd_above_8khz"]  # no band above 8 kHz here
    scores = evaluate_pair(speech, noisy, RATE, metrics=names)
    assert all(np.isfinite(value) for value in scores.values()), scores


def test_measure_rtf_times_the_call():
    result, rtf = measure_rtf(lambda: 42, audio_seconds=2.0)
    assert result == 42 and isinstance(rtf, RealTimeFactor)
    assert 0.0 <= rtf.value < 0.01 and float(rtf) == rtf.value
    assert np.isnan(RealTimeFactor(1.0, 0.0).value)


def test_tonal_excess_finds_an_added_buzz_but_not_a_change_of_timbre(held_out_speech):
    from scipy.signal import butter, sosfilt

    from aural.metrics import tonal_excess_db

    rate = 48_000
    speech = held_out_speech[: 5 * rate]
    t = np.arange(len(speech)) / rate
    rms = np.sqrt(np.mean(speech ** 2))
    buzz = speech + rms * 10 ** (-20 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 1000 * t)
    hiss = speech + 0.01 * rms * np.random.default_rng(0).standard_normal(len(speech))
    duller = sosfilt(butter(2, 3000, "low", fs=rate, output="sos"), speech)
    measure = lambda estimate: tonal_excess_db(speech, estimate, rate, max_hz=8000.0)
    assert measure(speech) < 0.5
    assert measure(duller) < 3.0
    assert measure(hiss) < 3.0
    assert measure(buzz) > 10.0


def test_visqol_is_high_for_a_copy_and_falls_when_the_band_is_cut(shared_data):
    from scipy.signal import sosfiltfilt as zero_phase

    from aural.metrics import visqol

    rate = 48_000
    studio, _ = load_audio(shared_data / "paired/daps_excerpt/m2_script1_clean.wav",
                           sample_rate=rate, mono=True, duration=4.0)   # full band
    speech = studio[0]
    phone = zero_phase(butter(8, 4000, "low", fs=rate, output="sos"), speech)
    same, cut = visqol(speech, speech, rate), visqol(speech, phone, rate)
    assert same > 4.5 and cut < same - 1.5, (same, cut)
    assert np.isnan(visqol(np.zeros(rate), speech[:rate], rate))


def test_best_baseline_is_the_lowest_where_lower_is_better():
    from aural.evaluation import best_baseline

    report = {"metrics": ["lsd", "pesq_wb"],
              "summary": {"input (unprocessed)": {"lsd": 30.0, "pesq_wb": 1.0},
                          "folding": {"lsd": 10.9, "pesq_wb": 3.0},
                          "exciter": {"lsd": 11.7, "pesq_wb": 3.5},
                          "AURAL": {"lsd": 10.5, "pesq_wb": 3.2}}}
    assert best_baseline(report) == "folding"
    assert best_baseline(report, "pesq_wb") == "exciter"


def test_best_setting_keeps_to_values_that_do_not_lose_the_guard_metric():
    from aural.evaluation import best_setting

    results = {0: {"lsd": 17.0, "pesq_wb": 3.00}, 0.5: {"lsd": 16.9, "pesq_wb": 3.01},
               1: {"lsd": 16.8, "pesq_wb": 2.95}}
    assert best_setting(results, "lsd", lower_is_better=True) == 1
    assert best_setting(results, "lsd", lower_is_better=True, guard="pesq_wb") == 0.5
    assert best_setting(results, "pesq_wb") == 0.5

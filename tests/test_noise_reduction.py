"""The shipped noise_reduction model on held-out speech and noise."""

import numpy as np
import pytest
import soundfile as sf

from aural.data.mixing import scale_to_snr
from aural.metrics import si_sdr_db

RATE = 48_000


def test_shipped_model_improves_si_sdr_on_held_out_audio(noise_reduction, held_out_speech,
                                                         held_out_noise):
    clean = held_out_speech
    noisy = clean + scale_to_snr(clean, held_out_noise[: len(clean)], 5.0)
    enhanced = noise_reduction.process(noisy[np.newaxis], RATE)[0]
    before, after = si_sdr_db(clean, noisy), si_sdr_db(clean, enhanced)
    assert after - before > 6.0, (before, after)


def test_pesq_validation_score_is_the_models_pesq_gain(noise_reduction, held_out_speech,
                                                       held_out_noise, monkeypatch):
    """The validation score that picks weights by PESQ-wb: positive for the shipped model
    on a noisy held-out sentence, and clean pairs (nothing to gain) are left out."""
    from aural.metrics import pesq_wb
    from aural.stages.base import TrainingPair

    clean = held_out_speech.astype(np.float32)
    noisy = (clean + scale_to_snr(clean, held_out_noise[: len(clean)], 5.0)).astype(np.float32)
    gain = noise_reduction.pesq_wb_gain([TrainingPair(noisy, clean), TrainingPair(clean, clean)])
    enhanced = noise_reduction.run_channel(noisy)["audio"]
    expected = pesq_wb(clean, enhanced, RATE) - pesq_wb(clean, noisy, RATE)
    assert gain == pytest.approx(expected, abs=1e-6) and gain > 0.3
    assert np.isnan(noise_reduction.pesq_wb_gain([TrainingPair(clean, clean)]))
    # Each epoch scores the same inputs again: their PESQ-wb is computed once.
    import aural.metrics

    calls = []
    real = aural.metrics.pesq_wb
    monkeypatch.setattr(aural.metrics, "pesq_wb", lambda *a: calls.append(1) or real(*a))
    assert noise_reduction.pesq_wb_gain([TrainingPair(noisy, clean)]) == pytest.approx(gain)
    assert len(calls) == 1


def test_sidecar_records_evaluation_metrics(noise_reduction):
    sidecar = noise_reduction.sidecar
    assert sidecar["stage"] == "noise_reduction" and sidecar["sample_rate"] == RATE
    metrics = sidecar["metrics"]
    assert metrics["improvement_over_input"]["pesq_wb"] > 0.0
    assert sidecar["training"]["steps"] > 100


def test_silence_stays_silent(noise_reduction):
    silence = np.zeros((1, RATE * 2), np.float32)
    assert np.max(np.abs(noise_reduction.process(silence, RATE))) < 1e-6
    hiss = (1e-4 * np.random.default_rng(0).standard_normal((1, RATE * 2))).astype(np.float32)
    out = noise_reduction.process(hiss, RATE)
    # Faint hiss alone is noise: it must come out quieter, never louder.
    assert np.sqrt(np.mean(out ** 2)) < np.sqrt(np.mean(hiss ** 2))


@pytest.mark.parametrize("name", ["cmu_arctic/cmu_arctic_us_axb_a0004.wav",
                                  "cmu_arctic/cmu_arctic_us_axb_a0006.wav",
                                  "../paired/voicebank_demand/clean/p232_005.wav",
                                  "../paired/voicebank_demand/clean/p257_033.wav"])
def test_clean_speech_is_left_alone(noise_reduction, shared_data, name):
    from aural.audio_io import load_audio
    from aural.dsp.filters import fft_highpass

    clean = load_audio(shared_data / "speech" / name, sample_rate=RATE, mono=True)[0][0]
    out = noise_reduction.process(clean[np.newaxis], RATE)[0]
    # By design the stage also removes rumble below 50 Hz (its training target has none),
    # so "no harm" is measured against the input without that rumble.
    rumble_free = fft_highpass(clean, noise_reduction.config.target_highpass_hz, RATE)
    assert si_sdr_db(rumble_free, out) > 25.0


def test_strength_zero_is_identity(noise_reduction, held_out_speech, held_out_noise):
    noisy = (held_out_speech + 0.05 * held_out_noise[: len(held_out_speech)])[np.newaxis]
    out = noise_reduction.process(noisy, RATE, strength=0.0)
    np.testing.assert_array_equal(out, noisy)  # the input samples, exactly


def test_streaming_matches_one_piece(noise_reduction, held_out_speech, held_out_noise):
    noisy = held_out_speech + scale_to_snr(held_out_speech, held_out_noise[: len(held_out_speech)], 5)
    long = np.tile(noisy, 4)  # > one 8 s block, so the cross-fades are exercised
    streamed = noise_reduction.process(long[np.newaxis], RATE)[0]
    whole = noise_reduction.run_channel(long)["audio"]
    assert si_sdr_db(whole, streamed) > 40.0


def test_apply_file_any_rate_and_channels(noise_reduction, tmp_path, held_out_speech,
                                          held_out_noise):
    from aural.audio_io import resample

    noisy = held_out_speech + scale_to_snr(held_out_speech, held_out_noise[: len(held_out_speech)], 5)
    stereo = resample(np.stack([noisy, 0.8 * noisy]), RATE, 22_050)
    source = tmp_path / "memo.flac"
    sf.write(source, stereo.T, 22_050)
    before = source.read_bytes()
    out = noise_reduction.apply_file(source, tmp_path / "clean.wav").path
    data, rate = sf.read(out, always_2d=True)
    assert rate == 22_050 and data.shape[1] == 2
    assert abs(data.shape[0] - stereo.shape[1]) <= 2
    assert source.read_bytes() == before


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_out_of_range_is_refused(noise_reduction, strength):
    from aural.errors import AuralError

    with pytest.raises(AuralError, match="strength"):
        noise_reduction.process(np.zeros((1, 100), np.float32), RATE, strength=strength)


@pytest.mark.slow
def test_evaluation_report_sets_stage_beside_input_and_baselines(noise_reduction, tmp_path):
    import json

    from aural.baselines import BASELINES
    from aural.evaluation import AURAL, INPUT, evaluate_stage

    report = evaluate_stage(noise_reduction, tmp_path, limit=2, progress=False)
    assert set(BASELINES) <= set(noise_reduction.baselines())
    assert set(report["summary"]) == {INPUT, AURAL, *noise_reduction.baselines()}
    assert report["summary"][AURAL]["si_sdr"] > report["summary"][INPUT]["si_sdr"]
    for name in ("report.json", "report.md", "spectrograms.png", "distributions.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text())["items"] == 2
    assert "| **AURAL** |" in (tmp_path / "report.md").read_text()

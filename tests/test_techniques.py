"""The paper's techniques as switches: each changes what it claims, and nothing when off."""

import numpy as np
import pytest

from aural.stages.noise_reduction import NoiseReduction
from aural.stages.base import TrainingPair
from aural.stages.spectral import TECHNIQUES_OFF

RATE = 48_000
# Every switch off unless a test turns it on (whatever the shipped recipe switches on).
TINY = {**TECHNIQUES_OFF, "max_files_per_kind": 4, "segment_seconds": 1.0, "batch_size": 4,
        "steps_per_epoch": 4, "validation_examples": 4, "max_epochs": 1, "learning_rate": 3e-3,
        "network": {"channels": [8, 8, 8, 8], "bottleneck_units": 16, "dilations": [1, 2]}}


def _stage(**switches) -> NoiseReduction:
    return NoiseReduction(NoiseReduction.config_class().with_overrides(**{**TINY, **switches}))


def _voice_then_hiss(seconds: float = 1.0) -> np.ndarray:
    """A 150 Hz harmonic 'voice' for the first half, quiet hiss for the second."""
    t = np.arange(int(seconds * RATE)) / RATE
    voice = sum(0.3 / k * np.sin(2 * np.pi * 150 * k * t) for k in range(1, 8))
    hiss = 0.01 * np.random.default_rng(0).standard_normal(len(t))
    return np.where(t < seconds / 2, voice, hiss).astype(np.float32)


def test_switches_off_change_nothing():
    stage = _stage()
    assert stage.n_conditioning == 0
    assert stage.build_model().input_shape[-1] == 1
    assert stage.loss().bin_weights is None


def test_pitch_conditioning_reaches_the_model():
    stage = _stage(condition_on_pitch=True)
    signal = _voice_then_hiss()
    x, _ = stage.example(TrainingPair(signal, signal))
    model = stage.build_model()
    assert x.shape[-1] == model.input_shape[-1] == 4
    frames = x.shape[0]
    voicing, log_f0 = x[:, 0, 1], x[:, 0, 2]
    assert np.all(x[:, 0, 1:] == x[:, -1, 1:])          # one value per frame, on every band
    assert voicing[5:frames // 2 - 5].mean() > 0.8
    assert voicing[frames // 2 + 5:].mean() < 0.3
    assert np.ptp(log_f0[5:frames // 2 - 5]) < 0.05      # a steady pitch
    # Onset strength peaks where a sound starts: silence, then the voice at 0.5 s.
    late = np.concatenate([np.zeros(RATE // 2, np.float32), signal[: RATE // 2]])
    onset = stage.example(TrainingPair(late, late))[0][:, 0, 3]
    assert abs(int(np.argmax(onset)) - RATE // 2 / stage.stft_config.hop) <= 2
    # The network's output depends on the conditioning channels.
    blanked = x.copy()
    blanked[..., 1:] = 0.0
    out, out_blanked = model.predict(np.stack([x, blanked]), verbose=0)
    assert np.abs(out - out_blanked).max() > 1e-4


def test_psychoacoustic_inputs_follow_level_and_brightness():
    stage = _stage(psychoacoustic_inputs=True)
    rng = np.random.default_rng(1)
    from scipy.signal import butter, sosfilt

    noise = rng.standard_normal(RATE).astype(np.float32) * 0.05
    dull = sosfilt(butter(4, 1000, "low", fs=RATE, output="sos"), noise).astype(np.float32)
    bright = sosfilt(butter(4, 6000, "high", fs=RATE, output="sos"), noise).astype(np.float32)

    def channels(signal):
        x = stage.conditioned(stage.features(stage.spectrum(signal)), signal)
        assert x.shape[-1] == 3
        return np.median(x[5:-5, 0, 1]), np.median(x[5:-5, 0, 2])

    level_dull, sharp_dull = channels(dull)
    level_louder, sharp_louder = channels(dull * 2.0)
    _, sharp_bright = channels(bright)
    assert level_louder - level_dull == pytest.approx(20 * np.log10(2) / 60, abs=0.01)
    assert sharp_louder == pytest.approx(sharp_dull, rel=0.1)  # sharpness ignores level ...
    assert sharp_bright > 2 * sharp_dull                          # ... and follows brightness


def test_perceptual_weighting_counts_low_rumble_less_than_presence():
    stage = _stage(perceptual_loss_weighting=True)
    weights = stage.loss_bin_weights()
    freqs = np.arange(len(weights)) * RATE / stage.config.n_fft
    assert weights.mean() == pytest.approx(1.0, abs=1e-5)
    at = lambda hz: weights[np.argmin(np.abs(freqs - hz))]
    assert at(40) < 0.5 * at(1000) < at(3000)
    # The same error costs less in a low bin than at 3 kHz, and the same as before on average.
    loss, plain = stage.loss(), _stage().loss()
    bands = stage.bands.n_features
    bins = len(weights)

    def cost(loss_fn, hz):
        noisy = np.zeros((1, 1, bins), np.float32)
        noisy[..., np.argmin(np.abs(freqs - hz))] = 1.0
        y_true = np.stack([noisy, np.zeros_like(noisy), np.ones_like(noisy)], axis=-1)
        return float(loss_fn(y_true, np.ones((1, 1, bands), np.float32)))

    assert cost(loss, 40) < 0.5 * cost(loss, 3000)
    assert cost(plain, 40) == pytest.approx(cost(plain, 3000), rel=1e-4)


@pytest.mark.slow
def test_auxiliary_heads_train_and_are_absent_from_the_shipped_model(tmp_path):
    import h5py

    from aural.training import train_stage

    # With the conditioning switches on too: the training loop feeds their channels.
    stage = _stage(auxiliary_pitch_weight=0.5, auxiliary_voice_weight=0.5, condition_on_pitch=True,
                   psychoacoustic_inputs=True)
    summary = train_stage(stage, tmp_path / "run", progress=False, log=lambda _: None)
    assert np.isfinite(summary["history"][0]["val_loss"])
    path = stage.save(tmp_path / "nr.h5", training=summary)
    with h5py.File(path) as handle:
        layer_names = list(handle["model_weights"].keys())
        assert "head" in layer_names and not any("aux" in name for name in layer_names)
        assert "aux_" not in str(handle.attrs["model_config"])
    loaded = NoiseReduction.load(path)
    assert len(loaded.model.outputs) == 1
    assert all("aux" not in layer.name for layer in loaded.model.layers)
    signal = _voice_then_hiss()
    out = loaded.run_channel(signal)["audio"]
    np.testing.assert_allclose(out, stage.run_channel(signal)["audio"], atol=1e-5)


def test_auxiliary_targets_are_the_clean_signal_pitch():
    stage = _stage(auxiliary_pitch_weight=0.5)
    clean = _voice_then_hiss()
    noisy = clean + 0.05 * np.random.default_rng(2).standard_normal(len(clean)).astype(np.float32)
    x, (y, pitch) = stage.training_example(TrainingPair(noisy, clean))
    assert pitch.shape == (x.shape[0], 2)
    frames = x.shape[0]
    assert pitch[5:frames // 2 - 5, 0].mean() > 0.8 and pitch[frames // 2 + 5:, 0].mean() < 0.3
    model = stage.training_model()
    assert [o.shape[-1] for o in model.outputs] == [stage.bands.n_features, 2]
    assert len(stage.inference_model(model).outputs) == 1


def test_auxiliary_voice_targets_are_the_voice_share_of_each_band():
    """The voice head's target: near 1 where the voice dominates a band, near 0 where the
    noise does; the head is a second per-band output, dropped for inference."""
    stage = _stage(auxiliary_voice_weight=0.5)
    clean = _voice_then_hiss()
    noise = 0.05 * np.random.default_rng(2).standard_normal(len(clean)).astype(np.float32)
    x, (y, voice) = stage.training_example(TrainingPair(clean + noise, clean))
    assert voice.shape == x.shape[:2] and voice.min() >= 0.0 and voice.max() <= 1.0
    frames, harmonic = x.shape[0], np.argmin(np.abs(stage.bands.centres_hz - 300.0))
    high = np.argmin(np.abs(stage.bands.centres_hz - 10_000.0))
    assert voice[5:frames // 2 - 5, harmonic].mean() > 0.9      # a harmonic of the voice
    assert voice[5:frames // 2 - 5, high].mean() < 0.1          # only noise up there
    model = stage.training_model()
    assert [o.shape[-1] for o in model.outputs] == [stage.bands.n_features] * 2
    assert len(stage.inference_model(model).outputs) == 1
    both = _stage(auxiliary_voice_weight=0.5, auxiliary_pitch_weight=0.5)
    assert [o.shape[-1] for o in both.training_model().outputs] == [both.bands.n_features, 2,
                                                                   both.bands.n_features]


def test_the_voice_head_is_refused_where_the_target_is_not_a_voice():
    from aural.errors import AuralError
    from aural.stages.frequency_expansion import FrequencyExpansion

    stage = FrequencyExpansion(FrequencyExpansion.config_class().with_overrides(
        auxiliary_voice_weight=0.5, network=TINY["network"]))
    with pytest.raises(AuralError, match="not a voice"):
        stage.training_model()


def test_noise_reduction_data_switches_add_rooms_and_speakers():
    plain = _stage()
    rooms = _stage(reverb_probability=1.0, clean_probability=1.0)
    pool = rooms.load_training_pool("train")
    assert pool.rirs and not plain.load_training_pool("train").rirs
    pair = rooms.make_pair(np.random.default_rng(3), pool)
    # Clean of noise but reverberant: the input carries a tail the dry target lacks.
    assert not np.allclose(pair.degraded, pair.target, atol=1e-3)
    more = _stage(speech_collections=["gcompris"], max_files_per_kind=None)
    assert len(more.load_training_pool("validation").sentences) > len(
        _stage(max_files_per_kind=None).load_training_pool("validation").sentences)


def test_pesq_selection_scores_in_pesq_units():
    from aural.errors import AuralError

    stage = _stage(validation_metric="pesq_wb")
    assert "PESQ" in stage.score_name
    with pytest.raises(AuralError):
        _stage(validation_metric="loudness")

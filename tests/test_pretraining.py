"""Self-supervised pre-training: masked-spectrogram reconstruction, saved like any model,
and a stage's training starts from its weights."""

import json
import subprocess
import sys

import numpy as np
import pytest

from aural.pretraining import MaskedSpectrogramPretraining

NETWORK = {"channels": [8, 8, 8, 8], "bottleneck_units": 16, "dilations": [1, 2]}
TINY = {"max_files_per_kind": 2, "segment_seconds": 1.0, "batch_size": 4, "steps_per_epoch": 6,
        "validation_examples": 8, "learning_rate": 3e-3, "max_epochs": 3, "network": NETWORK}


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A tiny pre-training run for noise_reduction, saved: (stage, summary, model path)."""
    from aural.training import train_stage

    folder = tmp_path_factory.mktemp("pretraining")
    stage = MaskedSpectrogramPretraining.for_stage("noise_reduction", **TINY)
    summary = train_stage(stage, folder / "run", progress=False, log=lambda _: None)
    path = stage.save(folder / "noise_reduction_pretrained.h5", training=summary)
    return stage, summary, path


def test_the_loss_counts_only_the_masked_cells():
    from aural.pretraining import MaskedReconstructionLoss

    target = np.zeros((2, 4, 3), np.float32)
    mask = np.zeros((2, 4, 3), np.float32)
    mask[0, 0, 0] = mask[0, 1, 2] = 1.0            # example 0: two hidden cells
    mask[1, 3, 1] = 1.0                            # example 1: one
    prediction = np.full((2, 4, 3), 100.0, np.float32)   # far off wherever the input was seen
    prediction[0, 0, 0], prediction[0, 1, 2], prediction[1, 3, 1] = 1.0, 3.0, 2.0
    y_true = np.stack([target, mask], axis=-1)
    loss = MaskedReconstructionLoss()
    per_example = np.asarray(loss.call(y_true, prediction))
    np.testing.assert_allclose(per_example, [(1.0 + 9.0) / 2, 4.0], rtol=1e-6)
    np.testing.assert_allclose(float(loss(y_true, prediction)), (5.0 + 4.0) / 2, rtol=1e-6)


def test_an_example_hides_the_masked_cells_and_keeps_their_values_as_the_target():
    stage = MaskedSpectrogramPretraining.for_stage("noise_reduction", **TINY)
    pool = stage.load_training_pool("train")
    pair = stage.make_pair(np.random.default_rng(1), pool)
    np.testing.assert_array_equal(pair.degraded, pair.target)
    x, y = stage.example(pair)
    features, mask = y[..., 0], y[..., 1]
    assert x.shape == (*features.shape, 1)
    assert 0.05 < mask.mean() < 0.95 and set(np.unique(mask)) == {0.0, 1.0}
    np.testing.assert_array_equal(x[..., 0][mask == 1], 0.0)     # -60 dB where hidden
    np.testing.assert_array_equal(x[..., 0][mask == 0], features[mask == 0])
    assert np.abs(features[mask == 1]).max() > 0.1               # something really was hidden
    # The same pair gives the same masks (validation is scored alike every epoch).
    np.testing.assert_array_equal(stage.example(pair)[1], y)


def test_for_stage_copies_the_representation_and_the_input_channels():
    from aural.stages.frequency_expansion import FrequencyExpansionConfig

    stage = MaskedSpectrogramPretraining.for_stage("frequency_expansion", network=NETWORK)
    target = FrequencyExpansionConfig()
    assert (stage.config.n_fft, stage.config.n_erb_bands, stage.config.linear_below_hz) == \
        (target.n_fft, target.n_erb_bands, target.linear_below_hz)
    assert stage.config.n_inputs == 2                     # features and the missing-band mask
    assert stage.build_model().input_shape[-1] == 2


def test_a_tiny_run_trains_and_its_loss_falls(pretrained):
    _, summary, _ = pretrained
    history = summary["history"]
    assert [entry["epoch"] for entry in history] == [1, 2, 3]
    assert all(np.isfinite(entry["loss"]) for entry in history)
    assert history[-1]["loss"] < 0.7 * history[0]["loss"], history
    assert summary["best_validation_score"] == pytest.approx(-summary["best_val_loss"], rel=1e-4)


def test_the_saved_model_and_sidecar_load(pretrained):
    stage, _, path = pretrained
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["stage"] == "pretrained_encoder" and sidecar["for_stage"] == "noise_reduction"
    assert sidecar["pretraining"]["objective"] == "masked spectrogram reconstruction"
    loaded = MaskedSpectrogramPretraining.load(path)
    assert loaded.config.for_stage == "noise_reduction" and loaded.config.n_inputs == 1
    for mine, theirs in zip(stage.model.get_weights(), loaded.model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(Exception, match="starting point for training"):
        loaded.run_channel(np.zeros(48_000, np.float32))


def test_noise_reduction_starts_from_the_pretrained_weights(pretrained):
    from aural.modelfile import load_model
    from aural.stages.noise_reduction import NoiseReduction
    from aural.training import _initial_weights

    _, _, path = pretrained
    donor, _ = load_model(path)
    config = NoiseReduction.config_class().with_overrides(network=NETWORK, init_from=str(path))
    stage = NoiseReduction(config)
    stage.model = stage.build_model()
    encoder = [layer.name for layer in stage.model.layers if layer.name.startswith("enc")
               and layer.weights]
    assert encoder == ["enc0_conv", "enc1_conv", "enc2_conv", "enc3_conv"]
    fresh = stage.model.get_layer("enc0_conv").get_weights()[0]
    assert not np.allclose(fresh, donor.get_layer("enc0_conv").get_weights()[0])
    messages = []
    # Another model's encoder is a start, not a fine-tune: it is no candidate to keep.
    assert _initial_weights(stage, messages.append) is False
    weighted = [layer for layer in stage.model.layers if layer.weights]
    assert f"initialised {len(weighted)} of {len(weighted)} layers" in messages[0]
    for layer in weighted:
        for mine, theirs in zip(layer.get_weights(), donor.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)


def test_pretrain_help_and_a_bad_stage_is_one_line(capsys):
    from aural.cli import main

    main(["pretrain", "--help"])
    out = capsys.readouterr().out
    assert "Usage: aural pretrain" in out
    assert "aural train noise_reduction --init-from models/pretrained/" in out
    # Refused before TensorFlow loads: one line, non-zero status.
    code = ("import sys\nfrom aural.cli import main\n"
            "try:\n    main(['pretrain', 'no_such_stage'])\n"
            "except SystemExit as e:\n    assert 'tensorflow' not in sys.modules\n    raise\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown stage 'no_such_stage'")


@pytest.mark.slow
def test_pretrain_then_train_from_it_on_the_command_line(tmp_path):
    """`aural pretrain noise_reduction`, then `aural train noise_reduction --init-from` it."""
    import os

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    settings = [f"--set={key}={json.dumps(value)}" for key, value in TINY.items()
                if key != "max_epochs"]
    output = tmp_path / "pre.h5"
    pretrain = subprocess.run(
        [sys.executable, "-m", "aural", "pretrain", "noise_reduction", "--run-dir",
         str(tmp_path / "pre_run"), "--output", str(output), "--no-progress",
         "--set=max_epochs=1", *settings], env=env, capture_output=True, text=True, timeout=600)
    assert pretrain.returncode == 0, pretrain.stderr[-2000:]
    assert f"next: aural train noise_reduction --init-from {output}" in pretrain.stdout
    train = subprocess.run(
        [sys.executable, "-m", "aural", "train", "noise_reduction", "--init-from", str(output),
         "--run-dir", str(tmp_path / "run"), "--output", str(tmp_path / "nr.h5"),
         "--no-progress", "--set=max_epochs=1", *settings],
        env=env, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    # Every layer with weights: 4 encoder, 3 up-sampling and 3 decoder convolutions, 2 dense
    # around 2 temporal convolutions, and the head.
    assert "initialised 15 of 15 layers from" in train.stdout, train.stdout

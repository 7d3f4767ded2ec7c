"""Training really trains, checkpoints, and survives kill -9."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from aural.stages.noise_reduction import NoiseReduction
from aural.stages.spectral import TECHNIQUES_OFF

TINY = {"max_files_per_kind": 4, "segment_seconds": 1.0, "batch_size": 4, "steps_per_epoch": 8,
        "validation_examples": 8, "learning_rate": 3e-3,
        "network": {"channels": [8, 8, 8, 8], "bottleneck_units": 16, "dilations": [1, 2]}}


def test_a_few_steps_lower_the_loss():
    import keras
    import numpy as np

    from aural.training import _example

    # One output, one target: the shipped voice head's multi-task targets are test_techniques'.
    stage = NoiseReduction(NoiseReduction.config_class().with_overrides(
        **TINY, **TECHNIQUES_OFF))
    pool = stage.load_training_pool("train")
    rng = np.random.default_rng(0)
    examples = [_example(stage, rng, pool) for _ in range(8)]
    x, y = np.stack([e[0] for e in examples]), np.stack([e[1] for e in examples])
    keras.utils.set_random_seed(0)
    model = stage.build_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=stage.loss())
    before = float(model.evaluate(x, y, verbose=0))
    for _ in range(80):
        model.train_on_batch(x, y)
    after = float(model.evaluate(x, y, verbose=0))
    assert after < 0.75 * before, (before, after)


def test_training_runs_numpy_blas_on_one_thread():
    from threadpoolctl import threadpool_info

    from aural.training import single_threaded_blas

    np.ones((64, 64)) @ np.ones((64, 64))       # BLAS loaded
    with single_threaded_blas():
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_echoing_uses_each_example_about_echo_times():
    from itertools import islice

    from aural.training import echoed

    made = []

    def make():
        made.append(len(made))
        return made[-1]

    rng = np.random.default_rng(0)
    drawn = list(islice(echoed(make, rng, 4.0, 50), 4050))
    assert drawn[:50] == list(range(50))            # the buffer fills with fresh examples
    fresh_after_fill = len(made) - 50
    assert 900 < fresh_after_fill < 1100            # then one in four is fresh (1000 expected)
    assert set(drawn) <= set(made) and len(set(drawn[50:])) > 900
    made.clear()
    assert list(islice(echoed(make, rng, 1.0, 50), 10)) == list(range(10))   # off: all fresh


def test_learning_rate_decays_over_the_step_budget_when_it_ends_training_first():
    import keras

    from aural.training import _Monitor

    config = dict(TINY, max_epochs=2, steps_per_epoch=10, max_minutes=1000.0)
    stage = NoiseReduction(NoiseReduction.config_class().with_overrides(**config))
    model = stage.build_model()
    model.compile(optimizer=keras.optimizers.Adam(1.0), loss="mse")
    state = {"step": 0, "elapsed_seconds": 0.0}
    monitor = _Monitor(stage, None, state, (None, None, None), progress=False, log=print)
    monitor.set_model(model)
    rates = []
    for step in (0, 10, 20):
        state["step"] = step
        monitor.on_train_batch_begin(0)
        rates.append(float(model.optimizer.learning_rate.numpy()) / stage.config.learning_rate)
    floor = stage.config.final_learning_rate_fraction
    np.testing.assert_allclose(rates, [1.0, floor + (1 - floor) / 2, floor], atol=1e-3)


@pytest.mark.slow
def test_training_run_validates_checkpoints_and_keeps_the_best(tmp_path):
    from aural.training import train_stage

    stage = NoiseReduction(NoiseReduction.config_class().with_overrides(max_epochs=3, **TINY))
    summary = train_stage(stage, tmp_path / "run", progress=False, log=lambda _: None)
    assert [entry["epoch"] for entry in summary["history"]] == [1, 2, 3]
    assert summary["steps"] == 3 * TINY["steps_per_epoch"]
    assert all(np.isfinite(entry["val_loss"]) for entry in summary["history"])
    assert (tmp_path / "run" / "state.json").exists()
    assert (tmp_path / "run" / "best.weights.h5").exists()
    assert summary["selected_by"] == NoiseReduction.score_name


@pytest.mark.slow
@pytest.mark.parametrize("scores, kept_epoch", [((1.0, 0.5), 0), ((0.0, 0.5), 1)])
def test_a_fine_tune_keeps_the_model_it_started_from_unless_an_epoch_beats_it(
        tmp_path, scores, kept_epoch):
    """Fine-tuning this stage's own model: the start is a candidate like every epoch (the
    validation scores are set here, so the choice is the only thing under test)."""
    from aural.modelfile import save_model
    from aural.training import train_stage

    config = NoiseReduction.config_class().with_overrides(max_epochs=1, **TINY, **TECHNIQUES_OFF)
    donor = NoiseReduction(config)
    donor.model = donor.build_model()
    path = save_model(donor.model, tmp_path / "start.h5", {"stage": "noise_reduction"})
    stage = NoiseReduction(config.with_overrides(init_from=str(path)))
    told = iter(scores)
    stage.validation_score = lambda pairs: next(told)
    summary = train_stage(stage, tmp_path / "run", progress=False, log=lambda _: None)
    assert summary["best_epoch"] == kept_epoch and summary["initial_validation_score"] == scores[0]
    assert summary["best_validation_score"] == max(scores)
    same = [np.array_equal(a, b) for a, b in zip(stage.model.get_weights(),
                                                 donor.model.get_weights())]
    assert all(same) if kept_epoch == 0 else not all(same)


def _train_command(run_dir: Path, output: Path, *extra: str) -> list[str]:
    settings = [f"--set={key}={json.dumps(value)}" for key, value in TINY.items()]
    return [sys.executable, "-m", "aural", "train", "noise_reduction", "--run-dir", str(run_dir),
            "--output", str(output), "--no-progress", "--set=checkpoint_minutes=0",
            "--set=max_epochs=3", *settings, *extra]


def _training_at_step_3(run_dir: Path, output: Path, **streams) -> subprocess.Popen:
    """A tiny training run, returned once its checkpoint state says step 3."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(_train_command(run_dir, output), env=env, **streams)
    state_file = run_dir / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if state_file.exists() and json.loads(state_file.read_text())["step"] >= 3:
            break
        time.sleep(0.2)
    assert process.poll() is None, "training ended before it could be stopped"
    return process


@pytest.mark.slow
def test_a_terminated_training_ends_at_once_with_one_line(tmp_path):
    """SIGTERM mid-training: exit 130 with "error: interrupted" within seconds (a normal
    interpreter exit could hang for good in TensorFlow's tf.data teardown), no model file."""
    output = tmp_path / "model.h5"
    process = _training_at_step_3(tmp_path / "run", output, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the terminated training did not exit within 60 s")
    assert process.returncode == 130
    assert process.stderr.read().decode().strip().endswith("error: interrupted")
    assert not output.exists() and not output.with_suffix(".json").exists()


@pytest.mark.slow
def test_resume_after_kill_9(tmp_path):
    run_dir, output = tmp_path / "run", tmp_path / "model.h5"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    state_file = run_dir / "state.json"
    process = _training_at_step_3(run_dir, output, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed = json.loads(state_file.read_text())
    killed_at = killed["step"]
    assert killed_at >= 3 and not output.exists()

    resumed = subprocess.run(_train_command(run_dir, output, "--resume"), env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed at step {killed_at}" in resumed.stdout
    final = json.loads(state_file.read_text())
    # It continued from the checkpoint (weights, optimizer, step count) rather than starting
    # over; an epoch cut short is run again from its start, up to 3 epochs in total.
    assert final["epoch"] == 3
    assert final["step"] == killed_at + (3 - killed["epoch"]) * TINY["steps_per_epoch"]
    assert output.exists() and output.with_suffix(".json").exists()


@pytest.mark.slow
def test_fine_tuning_on_a_users_paired_recordings_improves_on_held_out_takes(tmp_path, shared_data):
    """`aural preprocess --paired` then `aural train --from-shipped --data`: the held-out takes
    of the user's own material score better after a few minutes than the shipped model."""
    import soundfile as sf

    from aural.audio_io import load_audio

    raw = tmp_path / "raw"
    for side in ("studio", "phone"):
        (raw / side).mkdir(parents=True)
    for index, path in enumerate(sorted((shared_data / "speech" / "sisec2011").glob("*.wav"))[:6]):
        clean = load_audio(path, sample_rate=48_000, mono=True)[0][0]
        t = np.arange(len(clean)) / 48_000
        # This user's phone whines (a coil at 2.95 kHz and its harmonic): damage the shipped
        # model never met.
        whine = np.sin(2 * np.pi * 2950 * t) + 0.7 * np.sin(2 * np.pi * 5900 * t + 1.0)
        sf.write(raw / "studio" / f"take{index}.wav", clean, 48_000)
        sf.write(raw / "phone" / f"take{index}.wav",
                 clean + whine * np.std(clean) / np.std(whine), 48_000)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    prepared = subprocess.run([sys.executable, "-m", "aural", "preprocess", str(raw), "--paired",
                               "--out-root", str(tmp_path / "mine"), "--no-progress"],
                              env=env, capture_output=True, text=True, timeout=300)
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    output = tmp_path / "mine.h5"
    trained = subprocess.run(
        [sys.executable, "-m", "aural", "train", "noise_reduction", "--from-shipped", "--data",
         str(tmp_path / "mine"), "--run-dir", str(tmp_path / "run"), "--output", str(output),
         "--no-progress", "--set=steps_per_epoch=12", "--set=max_epochs=2", "--set=batch_size=8",
         "--set=validation_examples=8", "--set=real_pair_probability=0.9",
         "--set=max_files_per_kind=4", "--minutes", "5"],
        env=env, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "2 held out for validation" in trained.stdout
    summary = json.loads(output.with_suffix(".json").read_text())["training"]
    assert summary["initialised_from"] == "shipped" and summary["user_files"] == 12
    assert summary["best_validation_score"] > summary["initial_validation_score"] + 1.0, summary

"""Training really trains, checkpoints, and survives kill -9."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aural.stages.noise_reduction import NoiseReduction

TINY = {"max_files_per_kind": 4, "segment_seconds": 1.0, "batch_size": 4, "steps_per_epoch": 8,
        "validation_examples": 8, "learning_rate": 3e-3,
        "network": {"channels": [8, 8, 8, 8], "bottleneck_units": 16, "dilations": [1, 2]}}


@pytest.mark.slow
def test_tiny_training_lowers_the_validation_loss(tmp_path):
    from aural.training import train_stage

    stage = NoiseReduction(NoiseReduction.config_class().with_overrides(max_epochs=4, **TINY))
    summary = train_stage(stage, tmp_path / "run", progress=False, log=lambda _: None)
    losses = [entry["val_loss"] for entry in summary["history"]]
    assert len(losses) == 4
    assert losses[-1] < 0.9 * losses[0], losses
    assert (tmp_path / "run" / "state.json").exists()
    assert summary["steps"] == 4 * TINY["steps_per_epoch"]


def _train_command(run_dir: Path, output: Path, *extra: str) -> list[str]:
    settings = [f"--set={key}={json.dumps(value)}" for key, value in TINY.items()]
    return [sys.executable, "-m", "aural", "train", "noise_reduction", "--run-dir", str(run_dir),
            "--output", str(output), "--no-progress", "--set=checkpoint_minutes=0",
            "--set=max_epochs=3", *settings, *extra]


@pytest.mark.slow
def test_resume_after_kill_9(tmp_path):
    run_dir, output = tmp_path / "run", tmp_path / "model.h5"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(_train_command(run_dir, output), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = run_dir / "state.json"
    deadline = time.monotonic() + 120
    step = 0
    while time.monotonic() < deadline and process.poll() is None:
        if state_file.exists():
            step = json.loads(state_file.read_text())["step"]
            if step >= 3:
                break
        time.sleep(0.2)
    assert process.poll() is None, "training ended before it could be killed"
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

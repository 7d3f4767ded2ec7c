"""Scaling out, on this machine as a cluster: `aural regenerate --cluster` on a Ray head
and two worker nodes on the loopback address (one of them lost mid-run), and
`aural train --workers 2` with tf.distribute."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import time

import pytest
import soundfile as sf

from aural.audio_io import load_audio

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed (pip install 'ray[default]', the "
                                      "'cluster' extra): the Ray cluster test cannot run")
TINY_TRAINING = {"max_files_per_kind": 3, "steps_per_epoch": 2, "batch_size": 2,
                 "validation_examples": 4, "segment_seconds": 1.0,
                 "network": {"channels": [8, 8, 8, 8], "bottleneck_units": 16,
                             "dilations": [1, 2]}}


def _aural(*args: str, timeout: float = 150, preamble: str = "") -> subprocess.CompletedProcess:
    code = f"{preamble}import sys; from aural.cli import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def _folder_of_memos(shared_data, folder, count: int, seconds: float = 3.0) -> list[str]:
    """``count`` short recordings (some in a subfolder) and one broken file."""
    audio, _ = load_audio(shared_data / "paired/voicebank_demand/noisy/p232_005.wav",
                          sample_rate=16_000, duration=seconds)
    names = [f"memo{i}.wav" if i % 3 else f"sub/memo{i}.wav" for i in range(count)]
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(folder / name, audio.T, 16_000)
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really")
    return names


@pytest.mark.parametrize("preamble, args, message", [
    ("sys.modules['ray'] = None; ", ["--cluster", "local"], "pip install 'ray[default]'"),
    ("", ["--cluster", "not an address"], "--cluster must be local, auto, HOST:PORT"),
])
def test_cluster_option_errors_are_one_line(tmp_path, preamble, args, message):
    (tmp_path / "in").mkdir()
    result = _aural("regenerate", str(tmp_path / "in"), str(tmp_path / "out"), *args,
                    timeout=60, preamble="import sys; " + preamble)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def ray_cluster(tmp_path, monkeypatch):
    """A Ray head (no CPU of its own) and two one-CPU worker nodes, all on 127.0.0.1."""
    from ray.cluster_utils import Cluster

    # Ray replaces a loopback address by the machine's own when it connects; this setting
    # (inherited by the nodes and the driver) keeps every address on the loopback.
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    scratch = tmp_path / "worker_tmp"   # what a killed worker leaves behind stays in tmp_path
    scratch.mkdir()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    try:
        nodes = [cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1",
                                  env_vars={"TMPDIR": str(scratch)}) for _ in range(2)]
        yield cluster, nodes
    finally:
        cluster.shutdown()


@needs_ray
@pytest.mark.slow
def test_a_ray_cluster_regenerates_a_folder_and_survives_a_lost_worker(shared_data, tmp_path,
                                                                       ray_cluster):
    cluster, nodes = ray_cluster
    source, target = tmp_path / "in", tmp_path / "out"
    names = _folder_of_memos(shared_data, source, count=8)
    command = [sys.executable, "-m", "aural", "regenerate", str(source), str(target),
               "--cluster", cluster.address, "--stages", "noise_reduction",
               "--sample-rate", "input"]
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    manifest = target / "aural-manifest.jsonl"
    try:
        deadline = time.monotonic() + 90
        while driver.poll() is None and time.monotonic() < deadline:
            if manifest.exists() and manifest.read_text().strip():
                break
            time.sleep(0.1)
        assert driver.poll() is None, "the run ended before a worker could be lost"
        cluster.remove_node(nodes[1], allow_graceful=False)   # a machine lost mid-run
        stdout, stderr = driver.communicate(timeout=90)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.communicate()

    assert driver.returncode == 1, stderr                  # the broken file failed ...
    assert "broken.wav" in stderr
    assert f"{len(names)} regenerated, 0 skipped (already there), 1 failed" in stdout, stdout
    assert re.search(r"\[\d+/9 files, [0-9.]+ h of audio, [0-9.]+x real time", stdout)
    # ... and every other output is there exactly once, complete; nothing else is.
    expected = {name for name in names} | {manifest.name}
    written = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert written == expected, written ^ expected
    for name in names:
        info = sf.info(target / name)
        assert info.samplerate == 16_000 and abs(info.duration - 3.0) < 0.01, name
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert sorted(line["output"] for line in lines) == sorted(names)

    # A rerun skips what the manifest lists and tries only the failed file again.
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert f"0 regenerated, {len(names)} skipped (already there), 1 failed" in rerun.stdout, \
        rerun.stderr


def _training_command(tmp_path, *extra: str) -> list[str]:
    settings = [f"--set={key}={json.dumps(value)}" for key, value in TINY_TRAINING.items()]
    return ["train", "noise_reduction", "--workers", "2", "--run-dir", str(tmp_path / "run"),
            "--output", str(tmp_path / "model.h5"), "--no-progress", *settings, *extra]


def _fingerprints(output: str) -> dict[str, str]:
    return dict(re.findall(r"worker (\d) of 2: final weights sha256 (\w+)", output))


@pytest.mark.slow
def test_two_training_workers_agree_on_the_weights_and_resume(tmp_path):
    first = _aural(*_training_command(tmp_path, "--minutes", "0.2"))
    assert first.returncode == 0, first.stderr[-3000:]
    weights = _fingerprints(first.stdout)
    assert set(weights) == {"0", "1"} and weights["0"] == weights["1"], first.stdout
    assert (tmp_path / "model.h5").exists() and (tmp_path / "run" / "state.json").exists()
    step = json.loads((tmp_path / "run" / "state.json").read_text())["step"]

    resumed = _aural(*_training_command(tmp_path, "--minutes", "0.35", "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed at step {step}" in resumed.stdout
    weights = _fingerprints(resumed.stdout)
    assert set(weights) == {"0", "1"} and weights["0"] == weights["1"], resumed.stdout
    assert json.loads((tmp_path / "run" / "state.json").read_text())["step"] > step


def test_a_batch_the_workers_cannot_share_is_refused_before_any_starts(tmp_path):
    result = _aural("train", "noise_reduction", "--workers", "2", "--set", "batch_size=3",
                    "--run-dir", str(tmp_path / "run"), timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: batch_size 3 does not split evenly across 2 "
                                     "workers (--set batch_size=...)"), result.stderr
    assert not (tmp_path / "run").exists()

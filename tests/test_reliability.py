"""Issue 8: every command answers bad input in one line, never clips or truncates silently,
and cleans up after being killed."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _aural(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "aural", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=ENV)


def _one_line_error(result, *fragments):
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture()
def tone(tmp_path):
    path = tmp_path / "tone.wav"
    t = np.arange(16_000 * 2) / 16_000
    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), 16_000, subtype="PCM_16")
    return path


@pytest.mark.parametrize("rate", ["1", "4000", "1000000", "0", "-5", "fast"])
def test_sample_rate_is_validated_everywhere(tone, tmp_path, rate):
    for command in (["convert", tone, tmp_path / "o.wav"],
                    ["apply", "noise_reduction", tone, tmp_path / "o.wav"],
                    ["regenerate", tone, tmp_path / "o.wav"]):
        result = _aural(*command, "--sample-rate", rate, timeout=60)
        _one_line_error(result, "--sample-rate")
        assert result.returncode == 2
        assert not (tmp_path / "o.wav").exists()


def test_usage_errors_are_one_line_with_status_2(tone, tmp_path):
    _one_line_error(_aural("convert", tone, timeout=60), "OUTPUT")
    result = _aural("apply", "noise_reduction", tone, tmp_path / "o.wav", "--no-such-option",
                    timeout=60)
    _one_line_error(result, "--no-such-option")
    assert result.returncode == 2


def test_bad_input_is_reported_before_tensorflow_loads(tmp_path):
    started = time.perf_counter()
    result = _aural("apply", "noise_reduction", tmp_path / "missing.wav", tmp_path / "o.wav",
                    timeout=60)
    _one_line_error(result, "no such file")
    # TensorFlow alone takes about 4 s to import on this machine.
    assert time.perf_counter() - started < 3.5


def test_fifo_is_named_as_what_it_is(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    _one_line_error(_aural("convert", fifo, tmp_path / "o.wav", timeout=60), "named pipe")


def test_truncated_wav_is_refused_or_processed_on_request(tone, tmp_path):
    data = tone.read_bytes()
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(data[: len(data) // 2])
    _one_line_error(_aural("convert", truncated, tmp_path / "o.wav", timeout=60),
                    "truncated", "1.00 s")
    assert not (tmp_path / "o.wav").exists()
    allowed = _aural("convert", truncated, tmp_path / "o.wav", "--allow-truncated", timeout=60)
    assert allowed.returncode == 0 and "warning:" in allowed.stderr
    assert abs(sf.info(tmp_path / "o.wav").duration - 1.0) < 0.01


def test_existing_outputs_are_refused_without_overwrite(tone, tmp_path):
    out = tmp_path / "o.wav"
    out.write_bytes(b"precious")
    _one_line_error(_aural("convert", tone, out, timeout=60), "--overwrite")
    assert out.read_bytes() == b"precious"
    assert _aural("convert", tone, out, "--overwrite", timeout=60).returncode == 0
    assert sf.info(out).frames == sf.info(tone).frames


def test_float_peaks_above_full_scale_are_never_clipped_silently(tmp_path):
    loud = tmp_path / "loud.wav"
    t = np.arange(48_000) / 48_000
    sf.write(loud, 1.6 * np.sin(2 * np.pi * 200 * t), 48_000, subtype="FLOAT")
    result = _aural("convert", loud, tmp_path / "int.wav", "--bit-depth", "24", timeout=60)
    assert result.returncode == 0 and "limited by up to" in result.stderr
    limited, _ = sf.read(tmp_path / "int.wav")
    assert np.max(np.abs(limited)) <= 1.0
    # Not hard clipping, which would flatten over half of every cycle of this sine at 1.0:
    # a limiter scales the waveform down and keeps its shape.
    assert np.mean(np.abs(limited) > 0.999) < 0.1
    original = 1.6 * np.sin(2 * np.pi * 200 * t)
    assert np.corrcoef(original[4800:-4800], limited[4800:-4800])[0, 1] > 0.999
    kept = _aural("convert", loud, tmp_path / "float.wav", "--bit-depth", "float", timeout=60)
    assert kept.returncode == 0 and "limited" not in kept.stderr
    assert np.max(np.abs(sf.read(tmp_path / "float.wav")[0])) > 1.5


def test_strength_zero_returns_the_input_samples_exactly(tmp_path):
    source = tmp_path / "memo.wav"
    rng = np.random.default_rng(0)
    sf.write(source, (rng.standard_normal((22_050 * 2, 2)) * 0.1).astype(np.float32), 22_050,
             subtype="PCM_16")
    result = _aural("apply", "noise_reduction", source, tmp_path / "dry.wav", "--strength", "0",
                    "--bit-depth", "16")
    assert result.returncode == 0, result.stderr
    before, _ = sf.read(source, dtype="int16")
    after, rate = sf.read(tmp_path / "dry.wav", dtype="int16")
    assert rate == 22_050 and np.array_equal(before, after)


def test_preprocess_of_a_folder_without_audio_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("no audio here")
    result = _aural("preprocess", tmp_path, "--out-root", tmp_path / "out", timeout=60)
    assert result.returncode != 0 and "no audio" in result.stderr.lower()


def _long_file(path, seconds=240, rate=16_000):
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as out:
        for _ in range(int(seconds / 10)):
            out.write((rng.standard_normal(rate * 10) * 0.05).astype(np.float32))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_a_killed_run_leaves_nothing_half_written(tmp_path, sig):
    source = tmp_path / "long.wav"
    _long_file(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "aural", "apply", "noise_reduction",
                                str(source), str(out_dir / "clean.wav"), "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(out_dir.iterdir()):
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    time.sleep(0.3)
    process.send_signal(sig)
    process.wait(timeout=60)
    assert not (out_dir / "clean.wav").exists()
    leftovers = list(out_dir.iterdir())
    if sig == signal.SIGKILL:
        assert leftovers, "a kill -9 leaves the temporary file (nothing can remove it then)"
        _long_file(tmp_path / "short.wav", seconds=10)
        again = _aural("convert", tmp_path / "short.wav", out_dir / "short.wav", timeout=60)
        assert again.returncode == 0
        assert sorted(p.name for p in out_dir.iterdir()) == ["short.wav"]
    else:
        assert leftovers == []
        assert process.returncode != 0 and "interrupted" in process.stderr.read().decode()


def test_a_signal_whose_interrupt_was_swallowed_still_keeps_the_file_unpublished(tmp_path,
                                                                                  monkeypatch):
    """The handler's KeyboardInterrupt can be lost in a callback that swallows exceptions;
    the remembered signal still stops the rename (a flake of the SIGHUP case above)."""
    from aural import termination
    from aural.atomic import atomic_file

    monkeypatch.setattr(termination, "_RECEIVED", [])
    with atomic_file(tmp_path / "before.txt") as temp:
        temp.write_text("done")
    try:
        termination._interrupt(signal.SIGHUP, None)
    except KeyboardInterrupt:
        pass  # ...and imagine it swallowed here
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(tmp_path / "after.txt") as temp:
            temp.write_text("done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["before.txt"]


def _extreme(name, folder):
    rate, channels, subtype = 16_000, 1, "PCM_16"
    t = np.arange(rate) / rate
    if name == "silence":
        audio = np.zeros(rate)
    elif name == "dc_offset":
        audio = 0.3 + 0.05 * np.sin(2 * np.pi * 300 * t)
    elif name == "full_scale_square":
        audio = np.sign(np.sin(2 * np.pi * 100 * t)) * 0.99997
    elif name == "one_sample":
        audio = np.array([0.5])
    elif name == "8_khz":
        rate, audio = 8_000, 0.3 * np.sin(2 * np.pi * 300 * np.arange(8_000) / 8_000)
    elif name == "192_khz":
        rate = 192_000
        audio = 0.3 * np.sin(2 * np.pi * 300 * np.arange(rate // 2) / rate)
    elif name == "8_channels":
        channels, audio = 8, np.stack([0.1 * (c + 1) * np.sin(2 * np.pi * 200 * t)
                                       for c in range(8)]).T
    else:  # 64-bit float
        subtype, audio = "DOUBLE", 0.3 * np.sin(2 * np.pi * 300 * t)
    path = folder / f"{name}.wav"
    sf.write(path, audio, rate, subtype=subtype)
    return path, rate, channels, len(audio)


EXTREMES = ["silence", "dc_offset", "full_scale_square", "one_sample", "8_khz", "192_khz",
            "8_channels", "float64"]


@pytest.mark.parametrize("name", EXTREMES)
def test_extreme_but_valid_inputs_give_a_valid_output(tmp_path, name):
    """The documented result, not an error: same length and channels (apply, convert) or
    48 kHz mastered audio (regenerate), finite samples within full scale."""
    from aural.cli import main

    path, rate, channels, frames = _extreme(name, tmp_path)
    before = path.read_bytes()
    runs = {"convert": (["convert", str(path), str(tmp_path / "c.wav")], rate),
            "apply": (["apply", "noise_reduction", str(path), str(tmp_path / "a.wav"),
                       "--no-progress"], rate),
            "regenerate": (["regenerate", str(path), str(tmp_path / "r.wav"), "--no-progress",
                            "--stages", "noise_reduction,frequency_expansion"], 48_000)}
    for command, (argv, out_rate) in runs.items():
        main(argv)
        out, written_rate = sf.read(tmp_path / f"{command[0]}.wav", always_2d=True)
        assert written_rate == out_rate, command
        assert out.shape[1] == channels, command
        assert abs(out.shape[0] - frames * out_rate / rate) <= 2, command
        assert np.all(np.isfinite(out)) and np.max(np.abs(out)) <= 1.0, command
        if name == "silence":
            assert np.max(np.abs(out)) == 0.0, command
    assert path.read_bytes() == before

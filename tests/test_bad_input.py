"""Every command that reads a file and writes one fails cleanly on bad input.

For each bad case the CLI must print ONE line, ``error: <file>: <problem>``, exit non-zero,
print no traceback, leave no output or temporary file behind, and leave the input
byte-identical. Commands are listed in :data:`COMMANDS`; a new file-to-file command is
one more line there.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf

from aural.cli import main

IN, OUT = "{input}", "{output}"

#: name -> argv template; ``IN`` and ``OUT`` are replaced by the case's paths.
COMMANDS = {
    "convert": ["convert", IN, OUT],
    "apply": ["apply", "noise_reduction", IN, OUT, "--no-progress"],
    "regenerate": ["regenerate", IN, OUT, "--stages", "none", "--no-progress"],
}

RATE = 16_000
REPO_ROOT = Path(__file__).resolve().parents[1]


def _good_wav(path: Path) -> None:
    t = np.arange(RATE // 4) / RATE
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32), RATE)


@dataclass
class Case:
    """Where the input and output go, and what the one-line error must say."""

    input: Path
    output: Path
    names: str        # the file (or folder) the message must name
    problem: str      # words the message must contain


# Each maker builds its input under ``inputs`` and chooses an output under ``outputs``;
# makers that simulate a fault install their monkeypatches after creating the input.
def _missing(inputs, outputs, monkeypatch):
    path = inputs / "missing.wav"
    return Case(path, outputs / "out.wav", path.name, "no such file")


def _folder(inputs, outputs, monkeypatch):
    path = inputs / "folder.wav"
    path.mkdir()
    return Case(path, outputs / "out.wav", path.name, "is a folder")


def _empty(inputs, outputs, monkeypatch):
    path = inputs / "empty.wav"
    path.write_bytes(b"")
    return Case(path, outputs / "out.wav", path.name, "empty")


def _truncated_header(inputs, outputs, monkeypatch):
    whole = inputs / "whole.wav"
    _good_wav(whole)
    path = inputs / "truncated.wav"
    path.write_bytes(whole.read_bytes()[:30])
    whole.unlink()
    return Case(path, outputs / "out.wav", path.name, "not a readable audio file")


def _text_named_wav(inputs, outputs, monkeypatch):
    path = inputs / "notes.wav"
    path.write_text("Meeting notes, not audio.\nSecond line.\n")
    return Case(path, outputs / "out.wav", path.name, "not a readable audio file")


def _zero_samples(inputs, outputs, monkeypatch):
    path = inputs / "no_frames.wav"
    sf.write(path, np.zeros((0, 1), dtype=np.float32), RATE)
    return Case(path, outputs / "out.wav", path.name, "no samples")


def _non_finite(value):
    def make(inputs, outputs, monkeypatch):
        audio = np.zeros(RATE // 4, dtype=np.float32)
        audio[100] = value
        path = inputs / "non_finite.wav"
        sf.write(path, audio, RATE, subtype="FLOAT")
        return Case(path, outputs / "out.wav", path.name, "NaN or infinite")
    return make


def _low_rate(inputs, outputs, monkeypatch):
    path = inputs / "low_rate.wav"
    sf.write(path, np.zeros(4000, dtype=np.float32) + 0.1, 4000)
    return Case(path, outputs / "out.wav", path.name, "sample rate 4000 Hz")


def _unwritable_folder(inputs, outputs, monkeypatch):
    path = inputs / "good.wav"
    _good_wav(path)
    folder = outputs / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    # Tests often run as root, which ignores permission bits: make os.access say what
    # the permission bits say, as it would for an ordinary user.
    real_access = os.access

    def access(target, mode, *args, **kwargs):
        if Path(target).resolve() == folder.resolve() and mode & os.W_OK:
            return False
        return real_access(target, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    return Case(path, folder / "out.wav", folder.name, "not writable")


def _output_is_folder(inputs, outputs, monkeypatch):
    path = inputs / "good.wav"
    _good_wav(path)
    folder = outputs / "exists.wav"
    folder.mkdir()
    return Case(path, folder, folder.name, "is a folder")


def _output_is_input(inputs, outputs, monkeypatch):
    path = inputs / "good.wav"
    _good_wav(path)
    return Case(path, path, path.name, "same as the input")


def _write_fails(code, problem):
    def make(inputs, outputs, monkeypatch):
        path = inputs / "good.wav"
        _good_wav(path)

        def failing_write(file, *args, **kwargs):
            Path(file).write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt half a header")
            raise OSError(code, os.strerror(code))

        def failing_stream_write(self, data):
            # The streaming writer (aural apply) has already created its temporary file.
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(sf, "write", failing_write)
        monkeypatch.setattr(sf.SoundFile, "write", failing_stream_write)
        return Case(path, outputs / "out.wav", "out.wav", problem)
    return make


def _fifo(inputs, outputs, monkeypatch):
    path = inputs / "pipe.wav"
    os.mkfifo(path)
    return Case(path, outputs / "out.wav", path.name, "named pipe")


def _truncated_data(inputs, outputs, monkeypatch):
    whole = inputs / "whole.wav"
    _good_wav(whole)
    path = inputs / "cut.wav"
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    whole.unlink()
    return Case(path, outputs / "out.wav", path.name, "truncated")


def _random_mp3(inputs, outputs, monkeypatch):
    path = inputs / "noise.mp3"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    return Case(path, outputs / "out.wav", path.name, "not a readable audio file")


def _existing_output(inputs, outputs, monkeypatch):
    path = inputs / "good.wav"
    _good_wav(path)
    (outputs / "out.wav").write_bytes(b"keep")
    return Case(path, outputs / "out.wav", "out.wav", "--overwrite")


CASES: dict[str, Callable] = {
    "fifo": _fifo,
    "truncated_data": _truncated_data,
    "random_bytes_mp3": _random_mp3,
    "existing_output": _existing_output,
    "missing_path": _missing,
    "folder_as_input": _folder,
    "empty_file": _empty,
    "truncated_header": _truncated_header,
    "text_named_wav": _text_named_wav,
    "zero_samples": _zero_samples,
    "nan_samples": _non_finite(np.nan),
    "infinite_samples": _non_finite(np.inf),
    "rate_under_8k": _low_rate,
    "unwritable_output_folder": _unwritable_folder,
    "output_is_folder": _output_is_folder,
    "output_is_input": _output_is_input,
    "disk_full_during_write": _write_fails(errno.ENOSPC, "No space left on device"),
    "permission_denied_during_write": _write_fails(errno.EACCES, "Permission denied"),
}


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` (hidden ones included) with its bytes."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("case_name", list(CASES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input_gives_one_line_error(tmp_path, monkeypatch, capsys, command, case_name):
    if command == "regenerate" and case_name == "folder_as_input":
        pytest.skip("a folder is regenerate's folder mode (tests/test_regenerate.py)")
    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    inputs.mkdir()
    outputs.mkdir()
    case = CASES[case_name](inputs, outputs, monkeypatch)
    before = {"inputs": _snapshot(inputs), "outputs": _snapshot(outputs)}
    argv = [str(case.input) if arg == IN else str(case.output) if arg == OUT else arg
            for arg in COMMANDS[command]]
    try:
        with pytest.raises(SystemExit) as exited:
            main(argv)
    finally:
        for folder in outputs.iterdir():
            if folder.is_dir():
                folder.chmod(0o700)
    assert exited.value.code not in (0, None)

    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err and "internal error" not in err
    assert case.names in lines[0], f"the message should name {case.names}: {lines[0]}"
    assert case.problem.lower() in lines[0].lower(), lines[0]

    # Nothing written (no output, no temporary file) and the input untouched.
    assert _snapshot(inputs) == before["inputs"]
    assert _snapshot(outputs) == before["outputs"]


def test_real_process_prints_one_line_and_fails(tmp_path):
    missing = tmp_path / "missing.wav"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    result = subprocess.run([sys.executable, "-m", "aural", "convert", str(missing),
                             str(tmp_path / "out.wav")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {missing}: no such file"], result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []

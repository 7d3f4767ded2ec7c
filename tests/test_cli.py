"""The command line as a user meets it."""

import subprocess
import sys

import numpy as np
import soundfile as sf

from aural.cli import COMMANDS, main


def test_help_does_not_import_tensorflow():
    code = ("import sys; from aural.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert name in result.stdout


def test_every_command_has_help(capsys):
    for name in COMMANDS:
        main([name, "--help"])
        assert "Usage: aural " + name in capsys.readouterr().out


def test_models_lists_the_shipped_model(capsys):
    main(["models"])
    out = capsys.readouterr().out
    assert "noise_reduction" in out and "pesq_wb" in out


def test_apply_on_the_bundled_example(tmp_path, capsys):
    from pathlib import Path

    from aural.metrics import snr_db  # noqa: F401  (metrics module is importable)

    example = Path(__file__).resolve().parents[1] / "examples" / "voice_memo_noisy.flac"
    before = example.read_bytes()
    main(["apply", "noise_reduction", str(example), str(tmp_path / "clean.wav"), "--no-progress"])
    assert "wrote" in capsys.readouterr().out
    noisy, rate = sf.read(example)
    clean, out_rate = sf.read(tmp_path / "clean.wav")
    assert out_rate == rate and len(clean) == len(noisy)
    # The example's noise is a running tap: the quietest tenth of frames must get much quieter.
    frames = lambda x: np.sqrt(np.mean(x[: len(x) // 320 * 320].reshape(-1, 320) ** 2, axis=1))
    quiet = np.argsort(frames(noisy))[: len(frames(noisy)) // 10]
    assert np.mean(frames(clean)[quiet]) < 0.3 * np.mean(frames(noisy)[quiet])
    assert example.read_bytes() == before


def test_unknown_stage_is_one_line(tmp_path, capsys):
    from pathlib import Path

    import pytest

    example = Path(__file__).resolve().parents[1] / "examples" / "voice_memo_noisy.flac"
    with pytest.raises(SystemExit) as exit_info:
        main(["apply", "no_such_stage", str(example), str(tmp_path / "o.wav")])
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")

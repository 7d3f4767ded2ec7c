"""aural regenerate: the runner, its options, folder mode and its report."""

import json
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from aural.audio_io import load_audio


def _aural(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aural", *args], capture_output=True, text=True,
                          timeout=timeout)


def _memo(shared_data, tmp_path, name="memo.wav", seconds=4.0, rate=16_000):
    audio, _ = load_audio(shared_data / "paired/voicebank_demand/noisy/p232_005.wav",
                          sample_rate=rate, duration=seconds)
    path = tmp_path / name
    sf.write(path, audio.T, rate)
    return path


@pytest.mark.parametrize("args, message", [
    (["--stages", "noise_reduction,bogus"], "unknown stage 'bogus'"),
    (["--strength", "noise_reduction=2"], "between 0 and 1"),
    (["--strength", "nonsense"], "STAGE=VALUE"),
    (["--loudness", "loud"], "--loudness"),
    (["--sample-rate", "1000"], "--sample-rate"),
    (["--model", "noise_reduction"], "STAGE=PATH"),
    (["--model", "noise_reduction=missing.h5"], "no such model file"),
])
def test_bad_options_get_one_line_before_tensorflow(shared_data, tmp_path, args, message):
    memo = _memo(shared_data, tmp_path)
    result = _aural("regenerate", str(memo), str(tmp_path / "out.wav"), *args, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.wav").exists()


def test_regenerate_a_memo_hits_loudness_and_true_peak(shared_data, tmp_path):
    memo = _memo(shared_data, tmp_path)
    before = memo.read_bytes()
    out, report = tmp_path / "clean.wav", tmp_path / "report.json"
    result = _aural("regenerate", str(memo), str(out), "--content", "speech",
                    "--report", str(report))
    assert result.returncode == 0, result.stderr
    audio, rate = sf.read(out, always_2d=True)
    assert rate == 48_000 and audio.shape[1] == 1
    assert abs(audio.shape[0] / rate - 4.0) < 0.01
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(audio) + 16.0) <= 0.5
    up = resample_poly(audio[:, 0], 4, 1)
    assert 20 * np.log10(np.max(np.abs(up))) <= -1.0 + 1e-3
    data = json.loads(report.read_text())
    assert "noise_reduction" in data["stages"] and data["content"] == "speech"
    assert data["mastering"]["loudness_after_lufs"] == pytest.approx(-16.0, abs=0.5)
    # A shipped stage that is off by default is named once, with how to switch it on.
    assert ("skipping frequency_generation: off by default "
            "(--strength frequency_generation=1 runs it)") in result.stderr
    assert "frequency_generation" not in result.stdout
    assert [s["for_this_file"] for s in data["skipped_stages"]
            if s["stage"] == "frequency_generation"] == [False]
    assert memo.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.wav", "memo.wav", "report.json"]


def test_folder_mode_processes_skips_and_reports_failures(shared_data, tmp_path):
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    _memo(shared_data, source, "a.wav", seconds=2.0)
    _memo(shared_data, source / "sub", "b.flac", seconds=2.0)
    (source / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really")
    target = tmp_path / "out"
    target.mkdir()
    sf.write(target / "a.wav", np.zeros((100, 1)), 48_000)   # already there: skipped
    result = _aural("regenerate", str(source), str(target), "--stages", "noise_reduction",
                    "--sample-rate", "input")
    assert result.returncode == 1, result.stderr          # one file failed
    assert "broken.wav" in result.stderr
    assert "1 regenerated, 1 skipped (already there), 1 failed" in result.stdout
    assert sf.info(target / "a.wav").frames == 100           # not overwritten
    assert sf.info(target / "sub" / "b.wav").samplerate == 16_000
    again = _aural("regenerate", str(source), str(target), "--stages", "noise_reduction",
                   "--overwrite")
    assert "2 regenerated, 0 skipped" in again.stdout
    leftovers = [p.name for p in target.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_existing_output_is_refused_without_overwrite(shared_data, tmp_path):
    memo = _memo(shared_data, tmp_path)
    out = tmp_path / "out.wav"
    out.write_bytes(b"keep me")
    result = _aural("regenerate", str(memo), str(out), timeout=60)
    assert result.returncode != 0 and "--overwrite" in result.stderr
    assert out.read_bytes() == b"keep me"


def test_in_memory_runner_with_and_without_stages(shared_data):
    from aural.regenerate import RegenerateSettings, Regenerator

    audio, rate = load_audio(shared_data / "paired/voicebank_demand/noisy/p232_005.wav",
                             duration=3.0)
    none = Regenerator(RegenerateSettings(stages=[], content="speech", eq=False))
    out, report = none.process(audio, rate)
    assert report["stages"] == [] and out.shape[1] == 3 * 48_000
    denoise = Regenerator(RegenerateSettings(stages=["noise_reduction"], content="speech"))
    out, report = denoise.process(audio, rate)
    assert report["stages"] == ["noise_reduction"]
    assert report["mastering"]["true_peak_after_dbtp"] <= -1.0


def test_silence_in_silence_out(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(48_000 * 2), 48_000, subtype="PCM_16")
    result = _aural("regenerate", str(silent), str(tmp_path / "out.wav"), "--stages", "none",
                    timeout=120)
    assert result.returncode == 0, result.stderr
    assert "silence" in result.stdout
    assert np.max(np.abs(sf.read(tmp_path / "out.wav")[0])) == 0.0


def test_a_clean_recording_skips_noise_reduction_unless_asked_for(shared_data):
    """noise_reduction can only take away from a clean take (README "Clean input"): the
    plan leaves it out when the noise floor lies far enough under the voice."""
    from aural.regenerate import CLEAN_SNR_DB, RegenerateSettings, Regenerator

    voicebank = shared_data / "paired/voicebank_demand"
    clean, rate = load_audio(voicebank / "clean/p232_182.wav")    # floor ~51 dB down
    noisy, _ = load_audio(voicebank / "noisy/p232_182.wav")       # the same take, ~20 dB
    runner = Regenerator(RegenerateSettings(content="speech"))
    plan = runner.plan(clean, rate)
    assert plan.conditions.snr_db >= CLEAN_SNR_DB
    assert "noise_reduction" not in [s.name for s in plan.stages]
    assert any(name == "noise_reduction" and why.startswith("clean:")
               for name, why in plan.left_out)
    plan = runner.plan(noisy, rate)
    assert plan.conditions.snr_db < CLEAN_SNR_DB - 20
    assert plan.stages[0].name == "noise_reduction"
    asked = Regenerator(RegenerateSettings(stages=["noise_reduction"], content="speech"))
    assert [s.name for s in asked.plan(clean, rate).stages] == ["noise_reduction"]


def test_a_drum_stem_reads_as_music_and_keeps_noise_reduction_out(shared_data):
    """Studio drums hold no steady notes and their noise floor looks like noise; before the
    beat measure they read as speech and noise_reduction took them apart."""
    from aural.regenerate import RegenerateSettings, Regenerator

    drums, rate = load_audio(shared_data / "music/sisec2011/ultimate_nz_tour/"
                             "dev2__ultimate_nz_tour__snip_43_61__drums.wav", duration=10.0)
    plan = Regenerator(RegenerateSettings()).plan(drums, rate)
    assert plan.content == "music", plan.conditions.content_note
    assert "noise_reduction" not in [s.name for s in plan.stages]
    assert ("noise_reduction", "music: would treat the accompaniment as noise") in plan.left_out


def test_skip_reasons_by_content_noise_floor_and_band():
    from aural.regenerate import Conditions, skip_reason

    noisy_phone_speech = Conditions("speech", "", snr_db=20.0, cutoff_hz=4000.0)
    studio_music = Conditions("music", "", snr_db=30.0, cutoff_hz=21_000.0)
    assert skip_reason("noise_reduction", noisy_phone_speech) is None
    assert skip_reason("frequency_generation", noisy_phone_speech) is None
    assert skip_reason("noise_reduction", studio_music).startswith("music")
    assert skip_reason("noise_reduction", studio_music, separated=True) is None
    assert skip_reason("frequency_generation", studio_music).startswith("full band: it reaches 21.0 kHz")
    assert skip_reason("frequency_expansion", studio_music) is None  # it leaves full band alone itself
    assert skip_reason("noise_reduction", Conditions("speech", "", 50.0, 8000.0)).startswith("clean")


def test_conditions_of_empty_and_tiny_input_are_defined():
    from aural.regenerate import recording_conditions

    for audio, rate in ((np.zeros((1, 0), np.float32), 16_000), (np.zeros(0, np.float32), 16_000),
                        (np.ones((2, 5), np.float32), 44_100)):
        conditions = recording_conditions(audio, rate)
        assert conditions.content == "speech" and conditions.cutoff_hz <= rate / 2

"""``aural preprocess`` end to end, in-process, on copies of small shared recordings."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aural.audio_io import load_audio, save_audio
from aural.cli import main
from aural.data.alignment import estimate_offset
from aural.data.sources import shared_data_dir
from aural.dsp.loudness import integrated_loudness
from aural.dsp.stft import StftConfig

RATE = 48_000
TARGET = -23.0
SMALL_FILES = {  # relative path in the shared data -> path inside the raw folder
    "speech/cmu_arctic/arctic_a0010.wav": "speech/arctic_a0010.wav",              # 16 kHz mono
    "speech/misc/xmas_cc0.wav": "speech/xmas_cc0.wav",                            # 44.1 kHz mono
    "music/musdb18_sample/stems/mixture.wav": "music/musdb_mixture.wav",          # 44.1 kHz stereo
}


def _shared(relative: str) -> Path:
    path = shared_data_dir() / relative
    if not path.exists():
        pytest.skip(f"shared recording missing: {relative}")
    return path


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """Run ``aural preprocess`` in-process; return its exit status and stdout."""
    capsys.readouterr()
    try:
        main(["preprocess", *args, "--no-progress"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().out


def _lufs(path: Path) -> float:
    # The project's meter is the reference: pyloudnorm's default filters read 0.12 LU lower
    # at 16 kHz, where aural.dsp.loudness uses the rate-exact BS.1770 design.
    audio, rate = load_audio(path)
    return integrated_loudness(audio, rate)


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    for source, target in SMALL_FILES.items():
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_shared(source), folder / target)
    (folder / "speech" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEthis is not audio")
    (folder / "notes.txt").write_text("not audio, ignored\n")
    return folder


def test_preprocess_outputs_manifest_and_idempotence(raw: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "data"
    code, text = _run(capsys, str(raw), "--out-root", str(out))

    assert code == 1                                    # the broken file fails the run...
    assert "speech/broken.wav" in text                  # ...and is named in the summary
    assert "3 files processed" in text and "1 failed" in text
    manifest = json.loads((out / "preprocessed" / "manifest.json").read_text())
    assert set(manifest["files"]) == set(SMALL_FILES.values())
    assert "speech/broken.wav" in manifest["last_run"]["failed"]

    for source, rel in SMALL_FILES.items():
        entry = manifest["files"][rel]
        info = sf.info(str(_shared(source)))
        assert entry["sample_rate"] == info.samplerate
        assert entry["channels"] == info.channels
        assert entry["duration"] == pytest.approx(info.duration, abs=1e-4)
        assert entry["sha256"] == hashlib.sha256((raw / rel).read_bytes()).hexdigest()
        assert entry["loudness_lufs_before"] < -5
        [output] = entry["outputs"]
        audio_path, features_path = out / output["audio"], out / output["features"]
        assert audio_path == out / "uncompressed" / Path(rel).with_suffix(".wav")
        written = sf.info(str(audio_path))
        assert (written.samplerate, written.channels) == (RATE, 1)
        assert written.frames == pytest.approx(info.duration * RATE, abs=2)
        assert _lufs(audio_path) == pytest.approx(TARGET, abs=0.1)
        features = np.load(features_path)
        assert features.dtype == np.float32
        assert features.shape == (StftConfig(1024, 512).n_frames(written.frames), 80)
        assert np.all(np.isfinite(features))
    assert manifest["files"]["speech/arctic_a0010.wav"]["source"] == "arctic_unnamed"

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".wav", ".npy")}
    code, text = _run(capsys, str(raw), "--out-root", str(out))
    assert code == 1
    assert "0 files processed" in text and "3 unchanged skipped" in text
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*")
                      if p.suffix in (".wav", ".npy")}

    # A changed setting redoes everything; with the broken file gone the run succeeds.
    (raw / "speech" / "broken.wav").unlink()
    code, text = _run(capsys, str(raw), "--out-root", str(out), "--n-mels", "40")
    assert code == 0, text
    assert "3 files processed" in text
    assert np.load(out / "preprocessed" / "speech" / "xmas_cc0.npy").shape[1] == 40


def test_per_channel_and_other_rate(raw: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    (raw / "speech" / "broken.wav").unlink()
    out = tmp_path / "data"
    code, text = _run(capsys, str(raw / "music"), "--out-root", str(out), "--per-channel",
                      "--sample-rate", "16000", "--target-lufs", "-20", "--bit-depth", "24")
    assert code == 0, text
    for channel in (0, 1):
        path = out / "uncompressed" / f"musdb_mixture.ch{channel}.wav"
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16_000, 1, "PCM_24")
        assert _lufs(path) == pytest.approx(-20.0, abs=0.1)
        assert (out / "preprocessed" / f"musdb_mixture.ch{channel}.npy").is_file()


def test_paired_mode_aligns_and_reports_bad_pairs(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    pairs = tmp_path / "pairs"
    (pairs / "studio").mkdir(parents=True)
    (pairs / "phone").mkdir()
    clean, rate = load_audio(_shared("paired/voicebank_demand/clean/p232_005.wav"))
    noisy, _ = load_audio(_shared("paired/voicebank_demand/noisy/p232_005.wav"))
    other, other_rate = load_audio(_shared("speech/cmu_arctic/cmu_arctic_us_aew_a0002.wav"))
    delay = 400  # samples at 16 kHz: the phone started 25 ms early, and is inverted
    phone = -np.concatenate([np.zeros((1, delay), np.float32), noisy], axis=1)
    save_audio(pairs / "studio" / "p232_005.wav", clean, rate, bit_depth="float")
    save_audio(pairs / "phone" / "p232_005.flac", phone, rate)         # any format pairs
    save_audio(pairs / "studio" / "mismatch.wav", clean, rate, bit_depth="float")
    save_audio(pairs / "phone" / "mismatch.wav", other, other_rate, bit_depth="float")
    save_audio(pairs / "phone" / "lonely.wav", other, other_rate, bit_depth="float")

    out = tmp_path / "data"
    code, text = _run(capsys, str(pairs), "--out-root", str(out), "--paired")

    assert code == 1
    assert "phone/mismatch.wav: does not align" in text
    assert "phone/lonely.wav: no studio partner" in text
    manifest = json.loads((out / "preprocessed" / "manifest.json").read_text())
    assert set(manifest["files"]) == {"studio/p232_005.wav", "phone/p232_005.flac"}
    alignment = manifest["files"]["phone/p232_005.flac"]["alignment"]
    assert alignment["offset_samples"] == delay * RATE // rate
    assert alignment["polarity"] == -1 and alignment["ok"]
    assert alignment["correlation"] > 0.7
    assert manifest["files"]["phone/p232_005.flac"]["source"] == "p232_005"
    assert not (out / "uncompressed" / "phone" / "mismatch.wav").exists()

    studio_out, _ = load_audio(out / "uncompressed" / "studio" / "p232_005.wav")
    phone_out, _ = load_audio(out / "uncompressed" / "phone" / "p232_005.wav")
    assert studio_out.shape == phone_out.shape
    check = estimate_offset(studio_out[0], phone_out[0], max_lag_samples=RATE // 10)
    assert (check.offset, check.polarity) == (0, 1)

    code, text = _run(capsys, str(pairs), "--out-root", str(out), "--paired")
    assert "2 unchanged skipped" in text and "phone/mismatch.wav: does not align" in text


def test_missing_input_folder_is_one_line_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["preprocess", str(tmp_path / "nope"), "--out-root", str(tmp_path / "data")])
    assert caught.value.code != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_long_files_stream_with_the_same_result(tmp_path, monkeypatch):
    """Files over LONG_FILE_SECONDS go through two streaming passes (flat memory); the
    audio, features and manifest figures match the in-memory path."""
    import json

    import numpy as np
    import soundfile as sf

    import aural.data.preprocess as pp
    from aural.audio_io import load_audio
    from aural.data.sources import shared_data_dir

    raw = tmp_path / "raw"
    raw.mkdir()
    audio, rate = load_audio(shared_data_dir() / "paired/daps_excerpt/m2_script1_ipad_confroom1.wav",
                             duration=12.0)
    sf.write(raw / "take.wav", np.tile(audio, (2, 1)).T, rate)
    pp.preprocess(raw, tmp_path / "whole", progress=False)
    monkeypatch.setattr(pp, "LONG_FILE_SECONDS", 1.0)
    pp.preprocess(raw, tmp_path / "streamed", progress=False)
    for sub, name in (("uncompressed", "take.wav"), ("preprocessed", "take.npy")):
        a, b = tmp_path / "whole" / sub / name, tmp_path / "streamed" / sub / name
        first = sf.read(a)[0] if name.endswith(".wav") else np.load(a)
        second = sf.read(b)[0] if name.endswith(".wav") else np.load(b)
        assert first.shape == second.shape
        np.testing.assert_allclose(first, second, atol=1e-4)
    entries = [json.loads((tmp_path / run / "preprocessed/manifest.json").read_text())["files"]
               ["take.wav"] for run in ("whole", "streamed")]
    assert entries[0]["outputs"][0]["gain_db"] == pytest.approx(entries[1]["outputs"][0]["gain_db"],
                                                                abs=0.01)
    assert sorted(p.name for p in (tmp_path / "streamed/uncompressed").iterdir()) == ["take.wav"]

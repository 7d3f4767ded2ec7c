"""Reading every format, rate and channel count we promise; resampling; safe writing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aural.audio_io import audio_info, load_audio, resample, save_audio
from aural.errors import AuralError


def _tone(rate: int, seconds: float = 0.25, channels: int = 1, level: float = 0.5) -> np.ndarray:
    """(frames, channels) sines, a different frequency per channel so the order shows."""
    t = np.arange(int(rate * seconds)) / rate
    freqs = [250.0 * (index + 1) for index in range(channels)]
    return np.stack([level * np.sin(2 * np.pi * f * t) for f in freqs], axis=1).astype(np.float32)


def _peak_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1.0 / rate)[np.argmax(spectrum)])


def _rms_db(signal: np.ndarray) -> float:
    return float(10.0 * np.log10(np.mean(np.square(signal, dtype=np.float64))))


# --- reading -------------------------------------------------------------------------------

WAV_SUBTYPES = {  # subtype -> largest error expected after the round trip through the file
    "PCM_U8": 1.0 / 128,
    "PCM_16": 1.0 / 32768,
    "PCM_24": 1.0 / 2 ** 23,
    "PCM_32": 1e-7,
    "FLOAT": 0.0,
}


@pytest.mark.parametrize("subtype", list(WAV_SUBTYPES))
def test_reads_wav_sample_formats(tmp_path, subtype):
    tone = _tone(16000)
    path = tmp_path / f"tone_{subtype}.wav"
    sf.write(path, tone, 16000, subtype=subtype)
    audio, rate = load_audio(path)
    assert rate == 16000
    assert audio.dtype == np.float32 and audio.shape == (1, len(tone))
    assert np.max(np.abs(audio[0] - tone[:, 0])) <= WAV_SUBTYPES[subtype] * 1.01
    assert audio_info(path).subtype == subtype


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200,
                                  96000, 176400, 192000])
@pytest.mark.parametrize("extension", [".wav", ".flac"])
def test_reads_every_supported_rate(tmp_path, rate, extension):
    tone = _tone(rate, seconds=0.1)
    path = tmp_path / f"tone{extension}"
    sf.write(path, tone, rate, subtype="PCM_24")
    audio, read_rate = load_audio(path)
    assert read_rate == rate and audio.shape == (1, len(tone))
    assert np.max(np.abs(audio[0] - tone[:, 0])) < 1e-6


@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("extension", [".wav", ".flac", ".ogg"])
def test_reads_channels_in_order(tmp_path, channels, extension):
    tone = _tone(48000, seconds=0.5, channels=channels)
    path = tmp_path / f"tone{extension}"
    sf.write(path, tone, 48000)
    audio, rate = load_audio(path)
    assert audio.shape[0] == channels
    for index in range(channels):  # channels are 250 Hz apart; Vorbis smears a little
        assert abs(_peak_hz(audio[index], rate) - 250.0 * (index + 1)) < 10.0
    mono, _ = load_audio(path, mono=True)
    assert mono.shape == (1, audio.shape[1])
    np.testing.assert_allclose(mono[0], audio.mean(axis=0), atol=1e-6)


@pytest.mark.parametrize(("format_name", "extension", "rates"), [
    ("OGG", ".ogg", [8000, 16000, 44100, 48000, 96000, 192000]),
    ("MP3", ".mp3", [8000, 16000, 22050, 44100, 48000]),
])
@pytest.mark.parametrize("channels", [1, 2])
def test_reads_lossy_formats(tmp_path, format_name, extension, rates, channels):
    for rate in rates:
        tone = _tone(rate, seconds=1.0, channels=channels)
        path = tmp_path / f"tone_{rate}{extension}"
        try:
            sf.write(path, tone, rate, format=format_name)
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            if format_name == "MP3":
                pytest.skip(f"this libsndfile cannot write MP3 test files ({exc})")
            raise
        audio, read_rate = load_audio(path)
        assert read_rate == rate
        assert audio.shape[0] == channels
        # Lossy codecs may add encoder padding; the length is right to within 0.1 s.
        assert abs(audio.shape[1] - len(tone)) < 0.1 * rate
        for index in range(channels):
            expected = 250.0 * (index + 1)
            assert abs(_peak_hz(audio[index], rate) - expected) < 5.0
            assert abs(_rms_db(audio[index]) - _rms_db(tone[:, index])) < 1.0


def test_reads_excerpt(tmp_path):
    tone = _tone(16000, seconds=1.0)
    path = tmp_path / "tone.wav"
    sf.write(path, tone, 16000, subtype="FLOAT")
    audio, _ = load_audio(path, start=0.25, duration=0.5)
    np.testing.assert_array_equal(audio[0], tone[4000:12000, 0])


@pytest.mark.parametrize("rate", [4000, 7999, 384000])
def test_rejects_unsupported_rates(tmp_path, rate):
    path = tmp_path / "odd_rate.wav"
    sf.write(path, _tone(16000), rate)
    with pytest.raises(AuralError, match=f"sample rate {rate} Hz"):
        load_audio(path)


def test_load_with_resampling_returns_the_new_rate(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(44100, seconds=0.5), 44100)
    audio, rate = load_audio(path, sample_rate=48000)
    assert rate == 48000 and abs(audio.shape[1] - 24000) <= 1


# --- resampling ----------------------------------------------------------------------------

@pytest.mark.parametrize(("from_rate", "to_rate", "freq"), [(44100, 48000, 1000.0),
                                                            (48000, 16000, 1000.0),
                                                            (48000, 16000, 6000.0)])
def test_resampling_keeps_frequency_and_level(from_rate, to_rate, freq):
    t = np.arange(from_rate) / from_rate
    sine = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    out = resample(sine, from_rate, to_rate)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(len(out) - to_rate) <= 1
    # Frequency: the FFT peak lands on the same frequency (1 Hz bins over 1 s).
    assert abs(_peak_hz(out, to_rate) - freq) <= 1.0
    # Level within 0.1 dB, away from the filter's start-up at the ends.
    edge = to_rate // 10
    assert abs(_rms_db(out[edge:-edge]) - _rms_db(sine[from_rate // 10:-from_rate // 10])) < 0.1


def test_resampling_keeps_channels_apart():
    stereo = _tone(48000, seconds=1.0, channels=2).T
    out = resample(stereo, 48000, 16000)
    assert out.shape == (2, 16000)
    assert abs(_peak_hz(out[0], 16000) - 250.0) <= 1.0
    assert abs(_peak_hz(out[1], 16000) - 500.0) <= 1.0


def test_resampling_to_the_same_rate_is_identity():
    tone = _tone(16000)[:, 0]
    np.testing.assert_array_equal(resample(tone, 16000, 16000), tone)


# --- writing -------------------------------------------------------------------------------

def test_16_bit_write_with_dither_round_trips_within_one_lsb(tmp_path):
    tone = _tone(48000, seconds=1.0, level=0.5)[:, 0]
    path = save_audio(tmp_path / "out.wav", tone, 48000, bit_depth="16")
    assert sf.info(path).subtype == "PCM_16"
    back, rate = load_audio(path)
    error = (back[0].astype(np.float64) - tone) * 32768.0
    # TPDF dither (+-1 LSB) plus rounding (+-0.5 LSB): at most 1.5 LSB, about 0.5 LSB RMS,
    # and no gain error (libsndfile's own float->int16 scaling would leave one).
    assert np.max(np.abs(error)) <= 1.5 + 1e-3
    assert np.sqrt(np.mean(error ** 2)) < 0.6
    assert abs(np.mean(error)) < 0.05
    assert abs(np.dot(back[0], tone) / np.dot(tone, tone) - 1.0) < 1e-5


def test_16_bit_write_clips_instead_of_wrapping(tmp_path):
    loud = np.array([1.5, -1.5, 1.0, -1.0, 0.0], dtype=np.float32)
    path = save_audio(tmp_path / "loud.wav", loud, 16000, bit_depth="16")
    back = sf.read(path, dtype="int16")[0]
    assert back[0] >= 32766 and back[1] <= -32766
    assert back[2] >= 32766 and back[3] <= -32766


@pytest.mark.parametrize(("bit_depth", "extension", "tolerance"), [
    ("24", ".wav", 1.0 / 2 ** 23), ("24", ".flac", 1.0 / 2 ** 23), ("16", ".flac", 1.5 / 32768),
    ("float", ".wav", 0.0)])
def test_write_round_trips_multichannel(tmp_path, bit_depth, extension, tolerance):
    audio = _tone(44100, seconds=0.2, channels=6).T
    path = save_audio(tmp_path / f"out{extension}", audio, 44100, bit_depth=bit_depth)
    back, rate = load_audio(path)
    assert rate == 44100 and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) <= tolerance * 1.01


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out.wav"
    save_audio(target, _tone(16000)[:, 0], 16000)
    save_audio(target, _tone(16000)[:, 0] * 0.5, 16000)  # overwriting an older output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.wav"
    save_audio(target, _tone(16000)[:, 0], 16000)
    before = target.read_bytes()

    def broken_write(file, *args, **kwargs):
        Path(file).write_bytes(b"RIFF partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf, "write", broken_write)
    with pytest.raises(AuralError, match="No space left on device"):
        save_audio(target, _tone(16000)[:, 0] * 0.1, 16000)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]


def test_written_file_gets_the_usual_permissions(tmp_path):
    # tempfile.mkstemp makes files 0600; the renamed output must get umask-based permissions.
    path = save_audio(tmp_path / "out.wav", _tone(16000)[:, 0], 16000)
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_refuses_to_overwrite_the_input(tmp_path):
    source = tmp_path / "in.wav"
    sf.write(source, _tone(16000), 16000)
    before = source.read_bytes()
    link = tmp_path / "link.wav"
    link.symlink_to(source)
    for output in (source, tmp_path / "sub" / ".." / "in.wav", link):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(AuralError, match="same as the input"):
            save_audio(output, _tone(16000)[:, 0], 16000, protect=(source,))
    assert source.read_bytes() == before


@pytest.mark.parametrize(("name", "bit_depth", "message"), [
    ("out.mp3", "24", "use .wav or .flac"),
    ("out.flac", "float", "FLAC stores integers"),
    ("out.wav", "12", "bit depth"),
])
def test_rejects_unwritable_requests(tmp_path, name, bit_depth, message):
    with pytest.raises(AuralError, match=message):
        save_audio(tmp_path / name, _tone(16000)[:, 0], 16000, bit_depth=bit_depth)
    assert not list(tmp_path.iterdir())


def test_refuses_to_write_non_finite_samples(tmp_path):
    audio = _tone(16000)[:, 0]
    audio[10] = np.nan
    with pytest.raises(AuralError, match="NaN"):
        save_audio(tmp_path / "out.wav", audio, 16000)
    assert not list(tmp_path.iterdir())

"""mix_and_master hits its loudness and true-peak targets, measured by independent meters."""

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from aural.audio_io import load_audio
from aural.dsp.limiter import TruePeakLimiter
from aural.mastering import MasteringSettings, master, master_file, remix


def _true_peak_dbtp(audio: np.ndarray) -> float:
    """Independent check: 4x oversampling with scipy's polyphase filter, not our detector."""
    up = resample_poly(np.asarray(audio, dtype=np.float64), 4, 1, axis=-1)
    return float(20 * np.log10(np.max(np.abs(up)) + 1e-30))


def _lufs(audio: np.ndarray, rate: int) -> float:
    return pyloudnorm.Meter(rate).integrated_loudness(np.asarray(audio, dtype=np.float64).T)


def _speech(shared_data, rate=None):
    audio, file_rate = load_audio(shared_data / "paired/daps_excerpt/m2_script1_ipad_confroom1.wav",
                                  sample_rate=rate, duration=12.0)
    return audio, rate or file_rate


def _signals(shared_data):
    rng = np.random.default_rng(0)
    speech, speech_rate = _speech(shared_data)
    bang = speech.copy() * 0.05
    bang[:, ::speech_rate * 2] = 1.0               # quiet speech with full-scale clicks
    cases = {"speech": (speech, speech_rate), "quiet speech with clicks": (bang, speech_rate),
             "very quiet speech (-60 LUFS)": (speech * 10 ** (-38 / 20), speech_rate),
             "stereo noise": (np.clip(rng.standard_normal((2, 48_000 * 4)) * 0.5, -1, 1), 48_000),
             "over-loud square": (np.sign(np.sin(2 * np.pi * 110 * np.arange(48_000 * 4) / 48_000))
                                  [np.newaxis], 48_000)}
    for rate in (8_000, 16_000, 44_100, 96_000, 192_000):
        t = np.arange(rate * 4) / rate
        bursts = 0.9 * np.sin(2 * np.pi * 1000 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
        cases[f"sine bursts {rate} Hz"] = (bursts[np.newaxis], rate)
    return cases


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_loudness_and_true_peak_on_every_kind_of_signal(shared_data, target):
    for name, (audio, rate) in _signals(shared_data).items():
        out, report = master(audio.astype(np.float32), rate,
                             MasteringSettings(loudness_lufs=target, eq="speech"))
        assert out.shape == audio.shape, name
        assert abs(_lufs(out, rate) - target) <= 0.5, (name, _lufs(out, rate))
        assert _true_peak_dbtp(out) <= -1.0 + 1e-3, (name, _true_peak_dbtp(out))
        assert report["true_peak_after_dbtp"] <= -1.0 + 1e-3


def test_silence_in_silence_out():
    silence = np.zeros((2, 48_000), np.float32)
    out, report = master(silence, 48_000)
    assert np.array_equal(out, silence) and report["silent"]
    hiss = (np.random.default_rng(1).standard_normal((1, 48_000)) * 1e-5).astype(np.float32)
    out, report = master(hiss, 48_000)  # about -90 LUFS: under the gate, so not amplified
    assert report["silent"] and np.max(np.abs(out)) < 1e-4


def test_limiter_never_exceeds_the_ceiling_on_adversarial_input():
    rng = np.random.default_rng(5)
    n = 48_000 * 3
    # fs/4 at 45 degrees: sample peaks 3 dB below the true peak.
    t = np.arange(n)
    audio = np.stack([np.sin(np.pi / 2 * t + np.pi / 4), 0.1 * rng.standard_normal(n)])
    spikes = rng.integers(0, n, 40)
    audio[1, spikes] = rng.choice([-6.0, 6.0], len(spikes))
    audio[:, :3] = 4.0                              # a peak in the very first samples
    limiter = TruePeakLimiter(48_000, 2, ceiling_dbtp=-1.0)
    out = np.concatenate([limiter.push(audio), limiter.flush()], axis=1)
    assert out.shape == audio.shape
    assert _true_peak_dbtp(out) <= -1.0 + 1e-3


def test_limiter_in_blocks_equals_one_piece():
    rng = np.random.default_rng(2)
    audio = rng.standard_normal((2, 48_000 * 4)) * 0.4
    whole = TruePeakLimiter(48_000, 2)
    one = np.concatenate([whole.push(audio), whole.flush()], axis=1)
    pieces = TruePeakLimiter(48_000, 2)
    parts, position = [], 0
    for size in rng.integers(1, 20_000, 100):
        parts.append(pieces.push(audio[:, position:position + size]))
        position += size
        if position >= audio.shape[1]:
            break
    parts.append(pieces.push(audio[:, position:]))
    parts.append(pieces.flush())
    np.testing.assert_allclose(np.concatenate(parts, axis=1), one, atol=1e-6)


def test_limiter_leaves_quiet_audio_alone():
    audio = np.sin(np.linspace(0, 2000, 48_000))[np.newaxis] * 0.5  # -6 dBFS, below the ceiling
    limiter = TruePeakLimiter(48_000, 1)
    out = np.concatenate([limiter.push(audio), limiter.flush()], axis=1)
    np.testing.assert_allclose(out, audio, atol=1e-6)


def test_eq_stays_within_bounds_and_corrects_a_tilted_input(shared_data):
    from aural.dsp.filters import apply_sos, high_shelf

    speech, rate = _speech(shared_data, 48_000)
    dull = apply_sos(speech[0], high_shelf(2000.0, rate, gain_db=-10.0))[np.newaxis]
    _, report = master(dull, rate, MasteringSettings(eq="speech"))
    gains = np.array(list(report["eq_db"].values()))
    assert np.all(np.abs(gains) <= 6.0 + 1e-6)
    # The shelf took 10 dB off the highs: the EQ gives some of it back above 3 kHz.
    highs = [g for f, g in report["eq_db"].items() if 3000 <= float(f) <= 8000]
    assert np.mean(highs) > 2.0


def test_remix_puts_the_background_12_lu_under_the_voice(shared_data):
    from aural.dsp.loudness import integrated_loudness

    voice, rate = _speech(shared_data, 48_000)
    background = (np.random.default_rng(3).standard_normal(voice.shape) * 0.2).astype(np.float32)
    mix = remix({"voice": voice, "background": background}, rate, -12.0)
    placed = mix - voice
    difference = integrated_loudness(voice, rate) - integrated_loudness(placed, rate)
    assert abs(difference - 12.0) < 0.1
    assert np.array_equal(remix({"voice": voice, "background": background}, rate, None), voice)


@pytest.mark.parametrize("bit_depth", ["16", "24"])
def test_master_file_streams_to_target(tmp_path, shared_data, bit_depth):
    speech, rate = _speech(shared_data)
    source = tmp_path / "in.wav"
    sf.write(source, np.tile(speech, (2, 2)).T, rate, subtype="FLOAT")
    report = master_file(source, tmp_path / "out.wav", MasteringSettings(), bit_depth=bit_depth)
    out, out_rate = sf.read(tmp_path / "out.wav", always_2d=True)
    assert out_rate == rate and out.shape == (2 * speech.shape[1], 2)
    assert abs(_lufs(out.T, rate) - -16.0) <= 0.5
    assert _true_peak_dbtp(out.T) <= -1.0 + 1e-3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.wav"]
    assert report["passes"] >= 2

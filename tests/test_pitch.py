"""The YIN pitch and voicing tracker on synthesised signals with known f0 and voicing."""

from __future__ import annotations

import numpy as np
import pytest

from aural.dsp.pitch import PitchTrack, pitch_features, track_pitch
from aural.dsp.stft import StftConfig

RATE = 48_000
HOP = 768   # the noise_reduction stage's hop at 48 kHz


def harmonic_tone(f0: float, seconds: float, rate: int = RATE, *, harmonics: int = 6) -> np.ndarray:
    """A voice-like tone: ``harmonics`` partials falling 6 dB per octave, peak about 0.5."""
    t = np.arange(int(round(seconds * rate))) / rate
    partials = [np.sin(2 * np.pi * f0 * k * t + k) / k
                for k in range(1, harmonics + 1) if f0 * k < rate / 2]
    return (0.25 * np.sum(partials, axis=0)).astype(np.float32)


def frames_for(n_samples: int, hop: int = HOP) -> int:
    return n_samples // hop + 1


@pytest.mark.parametrize("f0", [110.0, 220.0, 440.0])
@pytest.mark.parametrize("rate", [48_000, 44_100, 16_000])
def test_harmonic_tone_is_tracked_within_one_percent_and_voiced(f0, rate):
    hop = rate // 100
    tone = harmonic_tone(f0, 1.5, rate)
    track = track_pitch(tone, rate, hop=hop, n_frames=frames_for(len(tone), hop))
    inner = slice(5, -5)   # frames whose 40 ms reach past the tone's ends are partly silent
    assert np.max(np.abs(track.f0_hz[inner] / f0 - 1.0)) < 0.01
    assert np.min(track.voicing[inner]) > 0.8


def test_silence_is_unvoiced():
    track = track_pitch(np.zeros(RATE, dtype=np.float32), RATE, hop=HOP, n_frames=frames_for(RATE))
    assert np.all(track.voicing == 0.0)
    assert np.all(track.f0_hz == 0.0)


@pytest.mark.parametrize("level", [0.3, 0.01])
def test_white_noise_is_mostly_unvoiced(level):
    noise = (level * np.random.default_rng(0).standard_normal(2 * RATE)).astype(np.float32)
    track = track_pitch(noise, RATE, hop=HOP, n_frames=frames_for(len(noise)))
    assert np.mean(track.voicing < 0.5) > 0.95
    assert np.all(track.f0_hz[track.voicing <= 0.5] == 0.0)


def test_very_quiet_tone_is_gated_unvoiced():
    # About -93 dBFS (mean square), below any real recording's noise floor: silence.
    tone = harmonic_tone(220.0, 1.0) * 10 ** (-80 / 20)
    track = track_pitch(tone, RATE, hop=HOP, n_frames=frames_for(len(tone)))
    assert np.all(track.voicing < 0.5)


@pytest.mark.parametrize("onset", [48_000, 48_300, 47_000])
@pytest.mark.parametrize("before", ["silence", "noise"])
def test_tone_onset_switches_to_voiced_at_the_right_frame(onset, before):
    signal = harmonic_tone(220.0, 2.0)
    if before == "silence":
        signal[:onset] = 0.0
    else:
        signal[:onset] = 0.05 * np.random.default_rng(1).standard_normal(onset)
    track = track_pitch(signal, RATE, hop=HOP, n_frames=frames_for(len(signal)))
    voiced = track.voicing > 0.5
    first_voiced = int(np.argmax(voiced))
    # Frame i is centred on sample i * HOP: the first frame centred inside the tone.
    expected = int(np.ceil(onset / HOP))
    assert abs(first_voiced - expected) <= 2
    assert voiced[first_voiced:].mean() > 0.97
    assert not voiced[:max(expected - 2, 0)].any()


@pytest.mark.parametrize("n_samples", [0, 1, 100, HOP - 1, HOP, HOP + 1, RATE, 3 * RATE + 17])
def test_output_has_n_frames_frames(n_samples):
    signal = harmonic_tone(220.0, n_samples / RATE)[:n_samples]
    stft_frames = StftConfig(n_fft=2 * HOP, hop=HOP).n_frames(n_samples)
    for n_frames in (frames_for(n_samples), stft_frames, 0, 7):
        track = track_pitch(signal, RATE, hop=HOP, n_frames=n_frames)
        assert isinstance(track, PitchTrack)
        assert track.f0_hz.shape == track.voicing.shape == (n_frames,)
        assert track.f0_hz.dtype == track.voicing.dtype == np.float32
        assert np.all((track.voicing >= 0.0) & (track.voicing <= 1.0))


def test_frames_past_the_end_are_unvoiced():
    tone = harmonic_tone(220.0, 1.0)
    n_frames = frames_for(len(tone)) + 20
    track = track_pitch(tone, RATE, hop=HOP, n_frames=n_frames)
    assert np.all(track.voicing[-15:] == 0.0)


def test_pitch_features_map_voicing_and_log_f0_to_unit_range():
    fmin, fmax = 60.0, 800.0
    track = PitchTrack(f0_hz=np.array([0.0, fmin, 220.0, fmax, 2000.0], dtype=np.float32),
                       voicing=np.array([0.1, 1.0, 0.8, 1.0, 1.0], dtype=np.float32))
    features = pitch_features(track, fmin, fmax)
    assert features.shape == (5, 2) and features.dtype == np.float32
    np.testing.assert_allclose(features[:, 0], track.voicing)
    expected_220 = 0.8 * np.log(220.0 / fmin) / np.log(fmax / fmin)
    np.testing.assert_allclose(features[:, 1], [0.0, 0.0, expected_220, 1.0, 1.0], atol=1e-6)


def test_pitch_features_of_a_tracked_tone():
    tone = harmonic_tone(220.0, 1.0)
    features = pitch_features(track_pitch(tone, RATE, hop=HOP, n_frames=frames_for(len(tone))))
    inner = features[5:-5]
    assert np.all(inner[:, 0] > 0.8)
    np.testing.assert_allclose(inner[:, 1] / inner[:, 0], np.log(220 / 60) / np.log(800 / 60),
                               atol=0.005)


def test_bad_input_fails_early():
    with pytest.raises(ValueError, match="1-D"):
        track_pitch(np.zeros((2, 100)), RATE, hop=HOP, n_frames=1)
    with pytest.raises(ValueError, match="hop"):
        track_pitch(np.zeros(100), RATE, hop=0, n_frames=1)
    with pytest.raises(ValueError, match="fmin"):
        track_pitch(np.zeros(100), RATE, hop=HOP, n_frames=1, fmin=500.0, fmax=400.0)

"""mix_and_master: loudness and true peak hit their targets by independent meters, the
limiter holds its ceiling on adversarial input, streaming equals one piece, the EQ corrects
tone within bounds, stems are balanced, silence stays silent."""

import subprocess
import sys

import numpy as np
import pyebur128
import pyloudnorm
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from aural.audio_io import load_audio, resample
from aural.dsp.filters import apply_sos, butter_lowpass, high_shelf
from aural.dsp.limiter import TruePeakLimiter
from aural.errors import AuralError
from aural.mastering import (BAND_CENTRES_HZ, MasteringProcessor, MasteringSettings,
                             analyse, master, master_file, plan_mastering, remix)
from aural.mastering.eq import active_levels, filter_response_db

CEILING = -1.0
TOLERANCE_DB = 1e-3          # float32 rounding of the output


# ---- independent meters ------------------------------------------------------------------

def _lufs(audio: np.ndarray, rate: int) -> float:
    """pyloudnorm's integrated loudness (its own K-weighting and gating)."""
    return pyloudnorm.Meter(rate).integrated_loudness(np.asarray(audio, dtype=np.float64).T)


def _true_peak_scipy(audio: np.ndarray) -> float:
    """4x oversampling with scipy's polyphase filter, at every rate."""
    up = resample_poly(np.asarray(audio, dtype=np.float64), 4, 1, axis=-1)
    return float(20 * np.log10(np.max(np.abs(up)) + 1e-30))


def _true_peak_libebur128(audio: np.ndarray, rate: int) -> float:
    """libebur128's true peak (its own 49-tap interpolator; 4x below 96 kHz)."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    state = pyebur128.R128State(audio.shape[0], rate, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    state.add_frames(np.ascontiguousarray(audio.T).ravel(), audio.shape[1])
    peak = max(pyebur128.get_true_peak(state, c) for c in range(audio.shape[0]))
    return float(20 * np.log10(peak + 1e-30))


def _assert_under_ceiling(audio: np.ndarray, rate: int, ceiling: float = CEILING) -> None:
    assert _true_peak_scipy(audio) <= ceiling + TOLERANCE_DB
    if rate < 96_000:
        assert _true_peak_libebur128(audio, rate) <= ceiling + TOLERANCE_DB


# ---- signals ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def speech_44k(shared_data):
    audio, _ = load_audio(shared_data / "paired/daps_excerpt/m2_script1_ipad_confroom1.wav",
                          duration=4.0)
    return audio


def _signal(kind: str, rate: int, channels: int, speech_44k: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(rate + channels)
    n = 3 * rate
    t = np.arange(n) / rate
    speech = np.repeat(resample(speech_44k, 44_100, rate)[:, :n], channels, axis=0)
    if kind == "sine bursts":
        return np.tile(0.9 * np.sin(2 * np.pi * 1000 * t) * (np.sin(2 * np.pi * t) > 0),
                       (channels, 1))
    if kind == "clicks":                       # full-scale clicks on a crackle bed
        audio = rng.standard_normal((channels, n)) * 1e-2
        audio[:, rng.integers(0, n, 40)] = rng.choice([-1.0, 1.0], (channels, 40))
        return audio
    if kind == "noise":
        return np.clip(rng.standard_normal((channels, n)) * 0.3, -1, 1)
    if kind == "speech":
        return speech
    if kind == "very quiet speech":            # -60 LUFS
        return speech * 10 ** ((-60.0 - _lufs(speech, rate)) / 20.0)
    if kind == "clipped square":               # already far too loud
        return np.tile(np.sign(np.sin(2 * np.pi * 110 * t)), (channels, 1))
    if kind == "speech with bangs":            # quiet speech, full-scale bangs
        audio = speech * 0.05
        audio[:, rate // 3::rate] = 1.0
        audio[:, 2 * rate // 3::rate] = -1.0
        return audio
    raise ValueError(kind)


KINDS = ("sine bursts", "clicks", "noise", "speech", "very quiet speech", "clipped square",
         "speech with bangs")
RATES = (8_000, 16_000, 44_100, 48_000, 96_000, 192_000)
# Every kind at two rates, every rate at several kinds, mono and stereo alternating.
CASES = [(kind, RATES[(2 * k + j) % len(RATES)], 1 + (k + j) % 2)
         for k, kind in enumerate(KINDS) for j in range(2)]


@pytest.mark.parametrize("kind,rate,channels", CASES)
def test_loudness_and_true_peak_reach_their_targets(speech_44k, kind, rate, channels):
    audio = _signal(kind, rate, channels, speech_44k).astype(np.float32)
    out, report = master(audio, rate, MasteringSettings(loudness_lufs=-16.0))
    assert out.shape == audio.shape and out.dtype == np.float32
    assert abs(_lufs(out, rate) - -16.0) <= 0.5, report
    _assert_under_ceiling(out, rate)
    assert report["true_peak_after_dbtp"] <= CEILING + TOLERANCE_DB
    assert report["target_reached"] and report["passes"] <= 6


@pytest.mark.parametrize("preset,lufs", [("podcast", -16.0), ("streaming", -14.0),
                                         ("broadcast", -23.0)])
def test_presets(speech_44k, preset, lufs):
    out, report = master(speech_44k, 44_100, MasteringSettings.preset(preset))
    assert report["target_lufs"] == lufs
    assert abs(_lufs(out, 44_100) - lufs) <= 0.5
    _assert_under_ceiling(out, 44_100)


def test_silence_in_silence_out():
    for silence in (np.zeros((2, 48_000), np.float32), np.zeros((1, 100), np.float32)):
        out, report = master(silence, 48_000)
        assert np.array_equal(out, silence) and report["silent"] and report["gain_db"] == 0.0
    # Hiss at about -90 LUFS is under the -70 LUFS gate: not amplified, not touched.
    hiss = (np.random.default_rng(1).standard_normal((1, 48_000)) * 1e-5).astype(np.float32)
    out, report = master(hiss, 48_000)
    assert report["silent"] and np.array_equal(out, hiss)


def test_make_up_gain_is_capped_and_reported(speech_44k):
    faint = (speech_44k * 10 ** ((-68.0 - _lufs(speech_44k, 44_100)) / 20.0)).astype(np.float32)
    out, report = master(faint, 44_100, MasteringSettings(eq=None))
    assert report["gain_capped"] and report["gain_db"] == pytest.approx(50.0)
    assert _lufs(out, 44_100) == pytest.approx(-18.0, abs=0.3)      # -68 + 50, no more
    assert not report["target_reached"] and "make-up gain" in report["note"]


# ---- the limiter ------------------------------------------------------------------------

def _limit(audio: np.ndarray, rate: int, **options) -> np.ndarray:
    limiter = TruePeakLimiter(rate, audio.shape[0], **options)
    return np.concatenate([limiter.push(audio), limiter.flush()], axis=1)


@pytest.mark.parametrize("rate", [44_100, 48_000, 96_000])
def test_limiter_never_exceeds_the_ceiling_on_adversarial_input(rate):
    rng = np.random.default_rng(5)
    n = rate * 2
    t = np.arange(n)
    # fs/4 at 45 degrees: every sample 3 dB under the true peak; then 12 dB too loud.
    intersample = np.sin(np.pi / 2 * t + np.pi / 4)
    clicks = 0.1 * rng.standard_normal(n)
    spikes = rng.integers(0, n, 60)
    clicks[spikes] = rng.choice([-8.0, 8.0], len(spikes))
    clicks[:3] = 4.0                                 # a peak in the very first samples
    for audio in (intersample[np.newaxis], 4 * intersample[np.newaxis],
                  np.stack([intersample, clicks]), np.clip(rng.standard_normal((2, n)) * 3, -9, 9)):
        out = _limit(audio.astype(np.float32), rate, ceiling_dbtp=CEILING)
        assert out.shape == audio.shape
        _assert_under_ceiling(out, rate)


def test_limiter_in_blocks_equals_one_piece():
    rng = np.random.default_rng(2)
    audio = (rng.standard_normal((2, 48_000 * 3)) * 0.6).astype(np.float32)
    one = _limit(audio, 48_000)
    limiter = TruePeakLimiter(48_000, 2)
    parts, position = [], 0
    for size in rng.integers(1, 9_000, 1_000):
        parts.append(limiter.push(audio[:, position:position + size]))
        position += size
        if position >= audio.shape[1]:
            break
    parts.append(limiter.flush())
    np.testing.assert_allclose(np.concatenate(parts, axis=1), one, atol=1e-6)


def test_limiter_leaves_audio_under_the_ceiling_alone():
    audio = (np.sin(np.linspace(0, 2000, 48_000)) * 0.5)[np.newaxis].astype(np.float32)
    np.testing.assert_array_equal(_limit(audio, 48_000), audio)


def test_limiter_gain_is_smooth_and_recovers():
    rate = 48_000
    tone = 0.5 * np.sin(2 * np.pi * 200 * np.arange(rate) / rate)
    audio = tone.copy()
    audio[rate // 2] = 4.0                            # one click, 19 dB over the ceiling
    gain = _limit(audio[np.newaxis].astype(np.float32), rate)[0] / np.where(
        np.abs(audio) > 1e-3, audio, np.nan)
    gain_db = 20 * np.log10(np.abs(gain))
    reduced = np.flatnonzero(np.nan_to_num(gain_db, nan=0.0) < -0.1)
    # Attack starts within the look-ahead (3 ms + a 10-sample guard) before the click...
    assert rate // 2 - reduced[0] <= int(0.003 * rate) + 12
    # ...moves by at most 0.5 dB per sample (no step), and is back within 0.1 dB by 400 ms.
    assert np.nanmax(np.abs(np.diff(gain_db))) < 0.5
    assert reduced[-1] - rate // 2 < int(0.4 * rate)


def test_processor_in_blocks_equals_one_piece(speech_44k):
    audio = np.concatenate([speech_44k, speech_44k[:, ::-1]]) * 4.0     # stereo, limited
    plan = plan_mastering(analyse(audio, 44_100), MasteringSettings())
    assert plan.eq_taps is not None
    outputs = []
    for sizes in ([audio.shape[1]], [1, 7, 4410, 100_000, 3, 30_000]):
        processor, parts, position = MasteringProcessor(plan), [], 0
        for size in sizes * 100:
            if position >= audio.shape[1]:
                break
            parts.append(processor.push(audio[:, position:position + size]))
            position += size
        parts.append(processor.flush())
        outputs.append(np.concatenate(parts, axis=1))
    assert outputs[0].shape == audio.shape
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-5)


# ---- the EQ -----------------------------------------------------------------------------

def _tone_error_db(levels: np.ndarray, reference: np.ndarray) -> float:
    """RMS over 200 Hz-8 kHz of the level difference, aligned at its median."""
    centres = np.asarray(BAND_CENTRES_HZ)
    band = (centres >= 200) & (centres <= 8000)
    difference = (levels - reference)[band]
    return float(np.sqrt(np.mean((difference - np.median(difference)) ** 2)))


def test_eq_is_bounded_and_corrects_a_tilted_input(shared_data):
    clean, rate = load_audio(shared_data / "paired/daps_excerpt/m2_script1_clean.wav",
                             duration=12.0)
    dull = apply_sos(clean, high_shelf(2500.0, rate, gain_db=-8.0))    # -16 dB (zero phase)
    plan = plan_mastering(analyse(dull, rate), MasteringSettings())
    assert np.max(np.abs(plan.eq_db)) <= 6.0 + 1e-9
    centres = np.asarray(BAND_CENTRES_HZ)
    realised = filter_response_db(plan.eq_taps, rate, centres[centres < rate / 2])
    assert np.max(np.abs(realised)) <= 6.0 + 0.3
    highs = plan.eq_db[(centres >= 4000) & (centres <= 12_000)]
    assert np.all(highs >= 3.0)                                       # the highs come back
    out, _ = master(dull, rate)
    before = _tone_error_db(active_levels(analyse(dull, rate)), active_levels(analyse(clean, rate)))
    after = _tone_error_db(active_levels(analyse(out, rate)), active_levels(analyse(clean, rate)))
    assert after < 0.75 * before


def test_eq_does_not_boost_where_there_is_no_content(shared_data):
    speech, rate = load_audio(shared_data / "paired/daps_excerpt/m2_script1_clean.wav",
                              duration=12.0, sample_rate=48_000)
    # A 4 kHz band limit (a phone codec), then something dull to tempt a boost.
    phone = apply_sos(apply_sos(speech, butter_lowpass(4000.0, rate, order=8)),
                      high_shelf(2000.0, rate, gain_db=-4.0))
    plan = plan_mastering(analyse(phone, rate), MasteringSettings())
    centres = np.asarray(BAND_CENTRES_HZ)
    assert np.all(plan.eq_db[centres >= 5000] <= 0.0)
    response = filter_response_db(plan.eq_taps, rate, np.array([6000.0, 10_000.0, 16_000.0]))
    assert np.all(response <= 0.5)


def test_clean_studio_speech_is_left_nearly_alone(shared_data):
    clean, rate = load_audio(shared_data / "speech/ljspeech/wavs/LJ001-0001.wav")
    plan = plan_mastering(analyse(clean, rate), MasteringSettings())
    centres = np.asarray(BAND_CENTRES_HZ)
    assert np.all(np.abs(plan.eq_db[(centres >= 200) & (centres <= 8000)]) <= 3.0)


# ---- stems ------------------------------------------------------------------------------

def test_remix_puts_the_background_12_lu_under_the_voice(speech_44k):
    from aural.dsp.loudness import integrated_loudness

    voice = speech_44k
    rng = np.random.default_rng(3)
    loud = (rng.standard_normal(voice.shape) * 0.2).astype(np.float32)
    mix = remix({"voice": voice, "background": loud}, 44_100, -12.0)
    placed = mix - voice
    difference = integrated_loudness(voice, 44_100) - integrated_loudness(placed, 44_100)
    assert difference == pytest.approx(12.0, abs=0.1)
    # A faint background (separation leftovers) is never pulled up.
    faint = loud * 1e-3
    np.testing.assert_allclose(remix({"voice": voice, "background": faint}, 44_100, -12.0),
                               voice + faint, atol=1e-7)
    assert np.array_equal(remix({"voice": voice, "background": loud}, 44_100, None), voice)
    out, report = master({"voice": voice, "background": loud}, 44_100)
    assert out.shape == voice.shape and abs(_lufs(out, 44_100) - -16.0) <= 0.5


# ---- files ------------------------------------------------------------------------------

@pytest.mark.parametrize("bit_depth", ["16", "24"])
def test_master_file_streams_to_target(tmp_path, speech_44k, bit_depth, monkeypatch):
    import aural.mastering.files as files

    monkeypatch.setattr(files, "_BLOCK_SECONDS", 0.7)       # many blocks, odd boundaries
    audio = np.concatenate([speech_44k, speech_44k[:, ::-1]]) * 0.2
    source = tmp_path / "in.wav"
    sf.write(source, audio.T, 44_100, subtype="FLOAT")
    before = source.read_bytes()
    report = master_file(source, tmp_path / "out.flac", MasteringSettings(), bit_depth=bit_depth)
    out, rate = sf.read(tmp_path / "out.flac", always_2d=True, dtype="float64")
    assert rate == 44_100 and out.shape == audio.T.shape
    assert abs(_lufs(out.T, rate) - -16.0) <= 0.5
    _assert_under_ceiling(out.T, rate)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.flac"]
    assert source.read_bytes() == before and report["passes"] >= 2
    in_memory, _ = master(audio.astype(np.float32), 44_100)
    np.testing.assert_allclose(out.T, in_memory, atol=2e-4)     # same result as in memory


def test_master_file_refuses_bad_input(tmp_path):
    bad = tmp_path / "nan.wav"
    sf.write(bad, np.full(4410, np.nan), 44_100, subtype="FLOAT")
    with pytest.raises(AuralError, match="NaN"):
        master_file(bad, tmp_path / "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.wav"]
    with pytest.raises(AuralError, match="sample rate"):
        master(np.zeros((1, 1000), np.float32), 4_000)


def test_pedalboard_is_not_needed():
    code = ("import sys, numpy as np\n"
            "sys.modules['pedalboard'] = None  # any import of it would fail\n"
            "from aural.mastering import master\n"
            "out, report = master(np.random.default_rng(0).standard_normal((2, 48000))"
            ".astype(np.float32), 48000)\n"
            "assert report['true_peak_after_dbtp'] <= -1.0\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_eq_toward_a_reference_recording(tmp_path, shared_data):
    clean, rate = load_audio(shared_data / "paired/daps_excerpt/m2_script1_clean.wav",
                             duration=8.0)
    reference = tmp_path / "reference.wav"
    sf.write(reference, clean.T, rate)
    dull = apply_sos(clean, high_shelf(2500.0, rate, gain_db=-5.0))
    out, report = master(dull, rate, MasteringSettings(eq=str(reference)))
    assert report["eq"]["target"] == str(reference)
    before = _tone_error_db(active_levels(analyse(dull, rate)), active_levels(analyse(clean, rate)))
    after = _tone_error_db(active_levels(analyse(out, rate)), active_levels(analyse(clean, rate)))
    assert after < 0.5 * before


def test_streaming_meters_equal_the_whole_signal_measurement():
    from aural.dsp.limiter import TruePeakMeter, true_peak_envelope
    from aural.dsp.loudness import integrated_loudness
    from aural.mastering import LoudnessMeter

    rng = np.random.default_rng(4)
    for rate, seconds in ((44_100, 3.3), (11_025, 0.25), (48_000, 0.45)):
        audio = (rng.standard_normal((2, int(rate * seconds))) * 0.2).astype(np.float32)
        audio[:, : audio.shape[1] // 3] *= 0.01
        meter, peak = LoudnessMeter(rate, 2), TruePeakMeter(2)
        for start in range(0, audio.shape[1], 997):
            meter.push(audio[:, start:start + 997])
            peak.push(audio[:, start:start + 997])
        assert meter.loudness() == pytest.approx(integrated_loudness(audio, rate), abs=1e-6)
        assert peak.dbtp() == pytest.approx(20 * np.log10(true_peak_envelope(audio).max()),
                                            abs=1e-4)

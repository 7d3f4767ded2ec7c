"""frequency_expansion: the cut-off detector, the damage, the baselines and the shipped model."""

import numpy as np
import pytest
from scipy import signal as sps

from aural.audio_io import load_audio, resample
from aural.dsp.bandwidth import detect_cutoff, detect_highpass, replicate_band
from aural.dsp.filters import apply_sos, butter_highpass, butter_lowpass
from aural.metrics import log_spectral_distance

RATE = 48_000


@pytest.fixture(scope="module")
def full_band_speech(shared_data):
    """DAPS m2 clean (held out, really full band), 10 s at 48 kHz."""
    audio, _ = load_audio(shared_data / "paired/daps_excerpt/m2_script1_clean.wav",
                          sample_rate=RATE, mono=True, duration=10.0)
    return audio[0]


@pytest.mark.parametrize("cutoff", [4000, 8000, 11025, 16000])
def test_cutoff_detector_finds_known_cutoffs(full_band_speech, cutoff):
    butter = apply_sos(full_band_speech, butter_lowpass(cutoff, RATE, order=8))
    cheby = sps.sosfiltfilt(sps.cheby1(6, 1, cutoff, fs=RATE, output="sos"), full_band_speech)
    for limited in (butter, cheby):
        assert abs(detect_cutoff(limited, RATE) - cutoff) < 500


def test_cutoff_detector_on_real_narrowband_files_and_full_band(shared_data, full_band_speech):
    voicebank, rate = load_audio(shared_data / "paired/voicebank_demand/clean/p232_005.wav")
    assert abs(detect_cutoff(resample(voicebank, rate, RATE)[0], RATE) - 8000) < 600
    lj, rate = load_audio(shared_data / "speech/ljspeech/wavs/LJ001-0001.wav")
    assert abs(detect_cutoff(resample(lj, rate, RATE)[0], RATE) - 11025) < 800
    assert detect_cutoff(full_band_speech, RATE) > 19_000
    assert detect_highpass(full_band_speech, RATE) == 0.0


def test_highpass_detector_on_a_cheap_microphone():
    noise = np.random.default_rng(1).standard_normal(RATE * 4)
    assert detect_highpass(noise, RATE) == 0.0
    corner = detect_highpass(apply_sos(noise, butter_highpass(200, RATE, order=4)), RATE)
    assert 150 <= corner <= 300


def test_band_limit_damage_stays_aligned_and_limits(full_band_speech):
    from aural.data.bandlimit import random_band_limit

    for seed in range(8):
        out, params = random_band_limit(full_band_speech, RATE, np.random.default_rng(seed),
                                        cutoff_hz=(3000, 12000), highpass_probability=0.0)
        assert out.shape == full_band_speech.shape
        # Aligned: the band that survives correlates with the original at lag 0.
        low = apply_sos(full_band_speech, butter_lowpass(2000, RATE))
        kept = apply_sos(out, butter_lowpass(2000, RATE))
        assert np.corrcoef(low, kept)[0, 1] > 0.95, params
        assert detect_cutoff(out, RATE) < params["cutoff_hz"] + 1500, params


def test_replication_keeps_the_band_below_and_fills_above():
    spectrum = np.random.default_rng(0).standard_normal((20, 513)) + 0j
    spectrum[:, 200:] = 0
    out = replicate_band(spectrum, 200 * RATE / 1024, RATE, 1024)
    np.testing.assert_array_equal(out[:, :200], spectrum[:, :200])
    assert np.all(np.abs(out[:, 200:]) > 0)


@pytest.fixture(scope="module")
def stage():
    from aural.stages.frequency_expansion import FrequencyExpansion

    return FrequencyExpansion.load()


@pytest.mark.parametrize("cutoff", [4000, 8000])
def test_shipped_model_lowers_the_missing_band_lsd_of_held_out_speech(stage, full_band_speech,
                                                                      cutoff):
    limited = apply_sos(full_band_speech, butter_lowpass(cutoff, RATE, order=8))
    extended = stage.process(limited[np.newaxis], RATE)[0]
    before = log_spectral_distance(full_band_speech, limited, RATE, min_hz=cutoff)
    after = log_spectral_distance(full_band_speech, extended, RATE, min_hz=cutoff)
    assert after < 0.5 * before, (before, after)
    # Below the cut-off the input is kept.
    from aural.metrics import si_sdr_db

    low = butter_lowpass(0.8 * cutoff, RATE, order=8)
    assert si_sdr_db(apply_sos(limited, low), apply_sos(extended, low)) > 30.0


def test_full_band_input_passes_untouched(stage, full_band_speech):
    from aural.metrics import si_sdr_db

    out = stage.process(full_band_speech[np.newaxis], RATE)[0]
    assert si_sdr_db(full_band_speech, out) > 30.0


def test_8_khz_input_is_filled_to_full_band(stage, shared_data):
    audio, rate = load_audio(shared_data / "paired/voicebank_demand/clean/p232_005.wav",
                             duration=4.0)
    narrow = resample(audio, rate, 8000)
    out = stage.process(narrow, 8000)
    assert out.shape[1] == narrow.shape[1]  # same rate out as in, by default
    wide = stage.process(resample(narrow, 8000, RATE), RATE)[0]
    spectrum = np.abs(np.fft.rfft(wide)) ** 2
    freqs = np.fft.rfftfreq(len(wide), 1 / RATE)
    above = spectrum[(freqs > 5000) & (freqs < 20000)].sum() / spectrum[freqs < 4000].sum()
    assert above > 1e-4  # the 4-24 kHz band now holds energy (input: nothing above 4 kHz)


def test_baselines_beat_the_input_on_lsd(full_band_speech):
    from aural.baselines.bandwidth import BASELINES

    limited = apply_sos(full_band_speech, butter_lowpass(4000, RATE, order=8))
    before = log_spectral_distance(full_band_speech, limited, RATE)
    for name, baseline in BASELINES.items():
        assert log_spectral_distance(full_band_speech, baseline(limited, RATE), RATE) < before, name

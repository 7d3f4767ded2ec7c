"""--content auto: real speech reads as speech; real song mixes and drum stems as music."""

import numpy as np
import pytest

from aural.audio_io import load_audio
from aural.content import MUSIC, SPEECH, beat_regularity, classify_content
from aural.data.sources import shared_data_dir

SPEECH_FILES = [
                "paired/voicebank_demand/noisy/p257_033.wav",
                "speech/cmu_arctic/cmu_arctic_us_axb_a0004.wav",
                "speech/sisec2011/dev1_male4_src_4.wav",
                "paired/daps_excerpt/m2_script1_ipad_confroom1.wav",
                "paired/voicebank_demand/noisy/p232_005.wav",
                "noisy_real/ms_realrec_headset_cafe_spk2_3.wav"]
MUSIC_FILES = ["music/sisec2011/bearlin_roads/dev1__bearlin-roads__snip_85_99__mix.wav",
               "music/sisec2011/ultimate_nz_tour/dev2__ultimate_nz_tour__snip_43_61__mix.wav",
               "music/musdb18_sample/stems/mixture.wav",
               # no steady notes, but a beat (these read as speech before the beat measure)
               "music/sisec2011/ultimate_nz_tour/dev2__ultimate_nz_tour__snip_43_61__drums.wav",
               "music/musdb18_sample/stems/drums.wav"]


@pytest.mark.parametrize("relative", SPEECH_FILES)
def test_real_speech_is_speech(relative):
    audio, rate = load_audio(shared_data_dir() / relative)
    assert classify_content(audio, rate).content == SPEECH


@pytest.mark.parametrize("relative", MUSIC_FILES)
def test_real_song_mixes_and_drums_are_music(relative):
    audio, rate = load_audio(shared_data_dir() / relative)
    decision = classify_content(audio, rate)
    assert decision.content == MUSIC, decision.describe()


def test_silence_and_tiny_input_default_to_speech():
    assert classify_content(np.zeros((1, 48_000), np.float32), 48_000).content == SPEECH
    assert classify_content(np.ones((2, 10), np.float32), 48_000).content == SPEECH


def test_the_bundled_noisy_voice_memo_is_speech():
    from pathlib import Path

    memo = Path(__file__).resolve().parents[1] / "examples" / "voice_memo_noisy.flac"
    audio, rate = load_audio(memo)
    assert classify_content(audio, rate).content == SPEECH


def _clicks(onsets_s: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    """Decaying noise bursts (a hand drum, roughly) at the given times."""
    rng = np.random.default_rng(3)
    out = np.zeros(int(seconds * rate), np.float32)
    burst = rng.standard_normal(int(0.08 * rate)) * np.exp(-np.arange(int(0.08 * rate)) / (0.015 * rate))
    for onset in onsets_s:
        start = int(onset * rate)
        out[start:start + len(burst)] += burst[: len(out) - start]
    return out


def test_a_steady_beat_repeats_and_scattered_hits_do_not():
    rate, seconds = 16_000, 10.0
    steady = _clicks(np.arange(0.0, seconds - 0.1, 0.5), rate, seconds)
    scattered = _clicks(np.sort(np.random.default_rng(5).uniform(0, seconds - 0.1, 20)), rate, seconds)
    assert beat_regularity(steady, rate) > 0.5
    assert beat_regularity(scattered, rate) < 0.2
    assert classify_content(steady, rate).content == MUSIC
    assert classify_content(scattered, rate).content == SPEECH


def test_beat_needs_three_periods_of_the_shortest_beat():
    rate = 16_000  # three periods of 0.3 s do not fit in 0.8 s
    assert beat_regularity(_clicks(np.array([0.1, 0.4]), rate, 0.8), rate) == 0.0

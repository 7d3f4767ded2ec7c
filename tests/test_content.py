"""--content auto: real speech reads as speech, real song mixes as music."""

import numpy as np
import pytest

from aural.audio_io import load_audio
from aural.content import MUSIC, SPEECH, classify_content
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
               "music/musdb18_sample/stems/mixture.wav"]


@pytest.mark.parametrize("relative", SPEECH_FILES)
def test_real_speech_is_speech(relative):
    audio, rate = load_audio(shared_data_dir() / relative)
    assert classify_content(audio, rate).content == SPEECH


@pytest.mark.parametrize("relative", MUSIC_FILES)
def test_real_song_mixes_are_music(relative):
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

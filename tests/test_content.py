"""--content auto: real speech reads as speech, real song mixes as music."""

import numpy as np
import pytest

from aural.audio_io import load_audio
from aural.content import MUSIC, SPEECH, classify_content
from aural.data.sources import shared_data_dir

SPEECH_FILES = ["speech/cmu_arctic/cmu_arctic_us_axb_a0004.wav",
                "speech/sisec2011/dev1_male4_src_4.wav",
                "paired/daps_excerpt/m2_script1_ipad_confroom1.wav",
                "paired/voicebank_demand/noisy/p232_005.wav",
                "noisy_real/ms_realrec_headset_cafe_spk2_3.wav"]
MUSIC_FILES = ["music/sisec2011/bearlin_roads/dev1__bearlin-roads__snip_85_99__mix.wav",
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

"""Shared fixtures: real held-out recordings and the shipped models."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def shared_data():
    """The folder of real recordings (../shared/data)."""
    from aural.data.sources import shared_data_dir

    return shared_data_dir()


@pytest.fixture(scope="session")
def held_out_speech(shared_data):
    """A held-out speaker (ARCTIC axb) at 48 kHz, never seen in training."""
    from aural.audio_io import load_audio

    audio, _ = load_audio(shared_data / "speech/cmu_arctic/cmu_arctic_us_axb_a0006.wav",
                          sample_rate=48_000, mono=True)
    return audio[0] / np.max(np.abs(audio[0])) * 0.5


@pytest.fixture(scope="session")
def held_out_noise(shared_data):
    """A held-out real noise (running tap) at 48 kHz."""
    from aural.audio_io import load_audio

    audio, _ = load_audio(shared_data / "noise/running_tap.wav", sample_rate=48_000, mono=True,
                          duration=10.0)
    return audio[0]


@pytest.fixture(scope="session")
def noise_reduction():
    """The shipped noise_reduction model."""
    from aural.stages.noise_reduction import NoiseReduction

    return NoiseReduction.load()

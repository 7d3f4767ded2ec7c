"""The noise-floor SNR estimate that lets `aural regenerate` leave clean recordings alone."""

import numpy as np
import pytest

from aural.dsp.noise_floor import estimated_snr_db

RATE = 16_000


def _syllables(seconds: float = 6.0) -> np.ndarray:
    """A harmonic tone, 300 ms on and 200 ms off: the rhythm of speech with pauses."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 20))
    on = (t % 0.5) < 0.3
    return (0.1 * tone * on).astype(np.float64)


@pytest.mark.parametrize("noise_db", [-15.0, -30.0, -45.0])
def test_the_estimate_follows_the_noise_floor(noise_db):
    speech = _syllables()
    rms = np.sqrt(np.mean(speech[np.abs(speech) > 0] ** 2))
    noise = np.random.default_rng(1).standard_normal(len(speech)) * rms * 10 ** (noise_db / 20)
    estimate = estimated_snr_db(speech + noise, RATE)
    # Loud frames over the floor of the pauses: close to the mix's own SNR (the loud
    # frames hold a little more than the average active level).
    assert estimate == pytest.approx(-noise_db, abs=4.0)


def test_digital_silence_is_no_noise_floor_and_stereo_is_averaged():
    from aural.regenerate import CLEAN_SNR_DB

    speech = _syllables()
    assert estimated_snr_db(np.zeros(RATE * 2), RATE) == float("inf")   # nothing to measure
    # Half of it digital silence, a studio floor (-80 dB) under the rest: clean.
    half = speech.copy()
    half[len(half) // 2:] = 0.0
    half[: len(half) // 2] += 1e-5 * np.random.default_rng(3).standard_normal(len(half) // 2)
    assert estimated_snr_db(half, RATE) >= CLEAN_SNR_DB
    # With only the exact zeros as pauses, a steady tone is its own floor: it reads as
    # noisy (the estimate errs toward running noise_reduction, as before it existed).
    assert estimated_snr_db(speech, RATE) < 10.0
    noisy = speech + 0.003 * np.random.default_rng(2).standard_normal(len(speech))
    stereo = np.stack([noisy, noisy])
    assert estimated_snr_db(stereo, RATE) == pytest.approx(estimated_snr_db(noisy, RATE))

"""Classical baselines every stage's report is set beside, one module per kind of damage.

- :mod:`aural.baselines.noise`: spectral subtraction, decision-directed Wiener, noisereduce.

Each baseline is ``fn(degraded, sample_rate) -> estimate``: 1-D float32 in and out, the
same length and time-aligned with the input.
"""

from aural.baselines.noise import BASELINES, estimate_noise_psd, stft_config_for

__all__ = ["BASELINES", "estimate_noise_psd", "stft_config_for"]

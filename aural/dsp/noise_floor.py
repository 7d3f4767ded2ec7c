"""How far a recording's noise floor sits under its loud passages.

The evidence ``aural regenerate`` uses to leave noise_reduction out of a recording that is
already clean (where it can only take away: measured in the README's "Clean input"). The
floor is the quiet tail of each band's level over time (minimum statistics, as in
noise-tracking speech enhancers), so speech pauses and the gaps between words reveal it;
frames of digital silence carry no noise and are left out.
"""

from __future__ import annotations

import numpy as np

from aural.dsp.stft import StftConfig, stft

FRAME_SECONDS = 0.02
#: Band edges (Hz): 16 logarithmic bands, the range where phone noise and hiss live.
BAND_EDGES_HZ = np.geomspace(100.0, 16_000.0, 17)
FLOOR_PERCENTILE = 10.0      # of each band's frame powers: the noise floor
LOUD_PERCENTILE = 80.0       # frames above this in total power: the signal's level
MIN_LIVE_FRAMES = 20         # fewer (0.4 s) is too little to tell


def band_frame_powers(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(frames, bands)`` power of 40 ms frames every 20 ms in :data:`BAND_EDGES_HZ`'s bands
    (bands above the Nyquist frequency are zero)."""
    hop = max(int(round(FRAME_SECONDS * sample_rate)), 1)
    config = StftConfig(n_fft=2 * hop, hop=hop)
    # The first and last frames overlap the zero padding: their power is not the signal's.
    power = np.abs(stft(mono, config)[1:-1]).astype(np.float64) ** 2
    freqs = np.fft.rfftfreq(config.n_fft, 1.0 / sample_rate)
    return np.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1)
                     for lo, hi in zip(BAND_EDGES_HZ[:-1], BAND_EDGES_HZ[1:])], axis=1)


def estimated_snr_db(audio: np.ndarray, sample_rate: int, *, seconds: float = 60.0) -> float:
    """Level of the loud frames over the noise floor (dB), from the first ``seconds`` of
    ``(channels, samples)`` or 1-D audio. ``inf`` when under 0.4 s of it is not digital
    silence (nothing to measure a floor on)."""
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    bands = band_frame_powers(mono[: int(seconds * sample_rate)], sample_rate)
    total = bands.sum(axis=1)
    live = total > 1e-14    # digital silence (and denormal dust) is not a noise floor
    if live.sum() < MIN_LIVE_FRAMES:
        return float("inf")
    floor = np.percentile(bands[live], FLOOR_PERCENTILE, axis=0).sum()
    level = total[live][total[live] >= np.percentile(total[live], LOUD_PERCENTILE)].mean()
    return float(10.0 * np.log10(level / max(floor, 1e-30)))

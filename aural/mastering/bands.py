"""The third-octave bands mix_and_master measures spectra in and shapes its EQ with."""

from __future__ import annotations

import numpy as np

#: Third-octave band centres (Hz), 39 Hz to 20 kHz: the bands of the studio curves.
BAND_CENTRES_HZ = tuple(float(1000 * 2 ** (k / 3)) for k in range(-14, 14))
#: Lower and upper edge of each band.
BAND_EDGES_HZ = tuple((c * 2 ** (-1 / 6), c * 2 ** (1 / 6)) for c in BAND_CENTRES_HZ)
#: Energy is kept in len(BAND_CENTRES_HZ) + 2 bins: below the first band, the bands, above
#: the last (so that nothing is lost when predicting loudness after the EQ).
N_BINS = len(BAND_CENTRES_HZ) + 2


def band_matrix(n_fft: int, sample_rate: int) -> np.ndarray:
    """``(n_fft // 2 + 1, N_BINS)`` 0/1 matrix: FFT bin -> below / band k / above."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = np.array([BAND_EDGES_HZ[0][0]] + [high for _, high in BAND_EDGES_HZ])
    index = np.searchsorted(edges, freqs, side="right")  # 0: below, 1..28: bands, 29: above
    matrix = np.zeros((len(freqs), N_BINS))
    matrix[np.arange(len(freqs)), index] = 1.0
    return matrix


def bands_inside(sample_rate: int) -> np.ndarray:
    """Which bands lie wholly below the Nyquist frequency."""
    return np.array([high <= sample_rate / 2.0 for _, high in BAND_EDGES_HZ])

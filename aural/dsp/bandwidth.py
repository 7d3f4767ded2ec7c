"""Where a recording's band ends, and spectral band replication above it.

A phone, a codec or a resampler removes everything above a cut-off with a steep filter;
natural audio rolls off gently. :func:`detect_cutoff` therefore looks, in the smoothed
long-term spectrum, for the highest frequency where the level falls steeply by more than
``drop_db`` and stays down; without such a cliff the recording is full band (the Nyquist
frequency is returned). :func:`detect_highpass` finds a microphone's high-pass the same way
at the low end. :func:`replicate_band` fills the empty band with copies of the band below
the cut-off (spectral band replication), shifted by an even number of bins so that the
copy's phase stays consistent from frame to frame with a half-overlap STFT.

Example
-------
>>> rng = np.random.default_rng(0)
>>> from aural.dsp.filters import apply_sos, butter_lowpass
>>> x = apply_sos(rng.standard_normal(48_000), butter_lowpass(8000, 48_000, order=8))
>>> abs(detect_cutoff(x, 48_000) - 8000) < 500
True
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from aural.dsp.stft import StftConfig, stft

#: Above this detected cut-off a recording counts as full band: nothing is missing above it.
FULL_BAND_HZ = 19_000.0

#: The analysis the detectors use: ~21 ms frames at 48 kHz (scaled with the rate).
_FRAME_SECONDS = 1024 / 48_000


def _long_term_db(power: np.ndarray, bin_hz: float) -> np.ndarray:
    """Smoothed long-term spectrum in dB: a 5-bin median then a ~150 Hz moving average."""
    db = 10.0 * np.log10(np.maximum(power, 1e-20))
    db = median_filter(db, size=5, mode="nearest")
    return uniform_filter1d(db, size=max(int(round(150.0 / bin_hz)), 1), mode="nearest")


def long_term_power(signal: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power per STFT bin of a 1-D signal (frames of about 21 ms)."""
    n_fft = 2 * max(int(round(_FRAME_SECONDS * sample_rate / 2)), 16)
    spectrum = stft(np.asarray(signal, dtype=np.float32), StftConfig(n_fft=n_fft, hop=n_fft // 2))
    return np.mean(np.abs(spectrum) ** 2, axis=0) if len(spectrum) else np.zeros(n_fft // 2 + 1)


def detect_cutoff_from_power(power: np.ndarray, sample_rate: int, *, drop_db: float = 15.0,
                             span_hz: float = 600.0, min_hz: float = 2000.0,
                             edge_db: float = 8.0) -> float:
    """The cut-off (Hz) of a long-term power spectrum ``(bins,)``; Nyquist if full band.

    First the cliff: the highest frequency ``f`` above ``min_hz`` where the smoothed level
    ``span_hz`` below ``f`` exceeds the level ``span_hz`` above it by ``drop_db`` and nothing
    above comes back. Then its edge: the highest frequency below the cliff whose level is
    within ``edge_db`` of the highest level in the kilohertz below it (natural spectra do
    not fall that fast; filters do).
    """
    nyquist = sample_rate / 2.0
    n = len(power)
    bin_hz = nyquist / max(n - 1, 1)
    if n < 8 or not np.any(power > 1e-20):
        return nyquist
    db = _long_term_db(power, bin_hz)
    span = max(int(round(span_hz / bin_hz)), 1)
    start = max(int(min_hz / bin_hz), span)
    above_max = np.maximum.accumulate(db[::-1])[::-1]     # highest level at or above each bin
    upper = np.minimum(np.arange(n) + span, n - 1)
    lower = np.maximum(np.arange(n) - span, 0)
    cliff = (db[lower] - db[upper] > drop_db) & (db[lower] - above_max[upper] > drop_db)
    cliff[:start] = False
    candidates = np.flatnonzero(cliff)
    if len(candidates) == 0:
        return nyquist
    top = int(candidates[-1])
    window = max(int(round(1000.0 / bin_hz)), 1)
    for k in range(top, start - 1, -1):
        if db[k] >= np.max(db[max(k - window, 0):k + 1]) - edge_db:
            return float(k * bin_hz)
    return float(top * bin_hz)


def band_energies_db(power: np.ndarray, sample_rate: int,
                     starts_hz: tuple[float, ...] = (8000.0, 12000.0, 16000.0)) -> dict[float, float]:
    """Mean power in each 4 kHz band from ``starts_hz`` relative to the 0.5-4 kHz band (dB);
    -inf for a band above the Nyquist frequency."""
    freqs = np.linspace(0.0, sample_rate / 2.0, len(power))
    reference = float(np.mean(power[(freqs >= 500.0) & (freqs < 4000.0)])) + 1e-30
    out = {}
    for start in starts_hz:
        band = power[(freqs >= start) & (freqs < start + 4000.0)]
        out[start] = float(10 * np.log10(np.mean(band) / reference + 1e-30)) if len(band) else -np.inf
    return out


def detect_cutoff(signal: np.ndarray, sample_rate: int) -> float:
    """The low-pass cut-off (Hz) of a 1-D recording; the Nyquist frequency if full band."""
    return detect_cutoff_from_power(long_term_power(signal, sample_rate), sample_rate)


def detect_highpass_from_power(power: np.ndarray, sample_rate: int, *,
                               depth_db: float = 30.0) -> float:
    """The high-pass corner (Hz) of a long-term power spectrum, or 0 if none is found.

    A high-pass shows as low frequencies ``depth_db`` or more below the 200-1000 Hz level;
    the corner is where the level first comes within 10 dB of it (searched up to 400 Hz).
    """
    nyquist = sample_rate / 2.0
    n = len(power)
    bin_hz = nyquist / max(n - 1, 1)
    freqs = np.arange(n) * bin_hz
    if n < 8 or not np.any(power > 1e-20):
        return 0.0
    db = 10.0 * np.log10(np.maximum(power, 1e-20))
    reference = np.median(db[(freqs >= 200.0) & (freqs <= 1000.0)])
    lowest = db[(freqs >= 40.0) & (freqs <= 90.0)]
    if len(lowest) == 0 or np.max(lowest) > reference - depth_db:
        return 0.0
    search = np.flatnonzero((freqs > 40.0) & (freqs <= 400.0))
    recovered = search[db[search] > reference - 10.0]
    return float(freqs[recovered[0]]) if len(recovered) else 400.0


def detect_highpass(signal: np.ndarray, sample_rate: int) -> float:
    """The high-pass corner (Hz) of a 1-D recording, or 0 if it has its low end."""
    return detect_highpass_from_power(long_term_power(signal, sample_rate), sample_rate)


def replicate_band(spectrum: np.ndarray, cutoff_hz: float, sample_rate: int,
                   n_fft: int) -> np.ndarray:
    """Fill the bins above ``cutoff_hz`` with copies of the octave below it.

    ``spectrum`` is a complex STFT ``(frames, bins)`` with hop ``n_fft / 2``. Each copied bin
    moves up by a multiple of an even number of bins, so its phase advance per hop is a
    multiple of 2 pi and the copy stays coherent across frames. Bins below the cut-off are
    returned unchanged; the levels of the copies are the caller's to set.
    """
    out = spectrum.copy()
    bins = spectrum.shape[1]
    cut = int(np.floor(cutoff_hz * n_fft / sample_rate))
    if cut >= bins - 1 or cut < 4:
        return out
    width = max(2 * (cut // 4), 2)          # about half an octave below the cut-off, even
    k = np.arange(cut, bins)
    source = cut - width + (k - cut) % width
    out[:, cut:] = spectrum[:, source]
    return out

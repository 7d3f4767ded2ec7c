"""Between the passes: from pass 1's measurements to the EQ filter and the gain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import AnalysisResult
from .bands import band_matrix
from .eq import (active_levels, content_bands, eq_correction_db, eq_filter, eq_target,
                 filter_response_db)
from .settings import MAX_MAKEUP_GAIN_DB, SILENCE_LUFS, MasteringSettings


@dataclass(frozen=True)
class MasteringPlan:
    """What pass 2 applies, and what it was decided from."""

    sample_rate: int
    channels: int
    target_lufs: float
    ceiling_dbtp: float
    loudness_before: float          # LUFS, -inf for silence
    true_peak_before: float         # dBTP
    loudness_after_eq: float        # predicted, LUFS
    gain_db: float
    gain_capped: bool               # the make-up gain stopped at MAX_MAKEUP_GAIN_DB
    silent: bool                    # nothing above the -70 LUFS gate: passed through untouched
    eq_taps: np.ndarray | None
    eq_db: np.ndarray | None        # correction per third-octave band (dB)
    eq_target: str | None


def plan_mastering(result: AnalysisResult, settings: MasteringSettings) -> MasteringPlan:
    """The EQ and the gain that bring the measured recording to ``settings``."""
    loudness = result.loudness_lufs
    silent = not np.isfinite(loudness) or loudness < SILENCE_LUFS
    taps = correction = None
    predicted = loudness
    if not silent and settings.eq:
        levels = active_levels(result)
        correction = eq_correction_db(levels, content_bands(result, levels),
                                      eq_target(settings.eq), max_db=settings.max_eq_db)
        taps = eq_filter(correction, result.sample_rate)
        if taps is not None:
            predicted = result.loudness_after(_band_power_gain(result, taps))
            predicted = predicted if np.isfinite(predicted) else loudness
    wanted = 0.0 if silent else settings.loudness_lufs - predicted
    gain = min(wanted, MAX_MAKEUP_GAIN_DB)
    return MasteringPlan(result.sample_rate, result.channels, settings.loudness_lufs,
                         settings.true_peak_dbtp, loudness, result.true_peak_dbtp, predicted,
                         gain, wanted > MAX_MAKEUP_GAIN_DB, silent, taps, correction,
                         settings.eq if settings.eq and not silent else None)


def _band_power_gain(result: AnalysisResult, taps: np.ndarray) -> np.ndarray:
    """The filter's power gain in each analysis bin, averaged over the long-term spectrum."""
    freqs = np.fft.rfftfreq(result.n_fft, 1.0 / result.sample_rate)
    power_gain = 10 ** (filter_response_db(taps, result.sample_rate, freqs) / 10.0)
    matrix = band_matrix(result.n_fft, result.sample_rate)
    weights = result.power + 1e-30
    total = weights @ matrix
    return np.where(total > 0, (weights * power_gain) @ matrix / np.maximum(total, 1e-300), 1.0)

"""What mix_and_master did, as a report: loudness and true peak before and after, gain, EQ."""

from __future__ import annotations

import numpy as np

from .bands import BAND_CENTRES_HZ
from .plan import MasteringPlan
from .settings import MAX_MAKEUP_GAIN_DB


def eq_summary(plan: MasteringPlan) -> dict | None:
    """The EQ for a report: target, correction per band, largest boost and cut."""
    if plan.eq_db is None:
        return None
    bands = {f"{c:.0f}": round(float(g), 2) for c, g in zip(BAND_CENTRES_HZ, plan.eq_db)}
    return {"target": plan.eq_target, "applied": plan.eq_taps is not None,
            "band_gain_db": bands, "max_boost_db": round(float(np.max(plan.eq_db)), 2),
            "max_cut_db": round(float(np.min(plan.eq_db)), 2)}


#: The report calls the target reached within this many LU.
TARGET_REACHED_LU = 0.5


def report(plan: MasteringPlan, *, loudness_after: float, true_peak_after: float,
           extra_gain_db: float, limiter_reduction_db: float, passes: int) -> dict:
    """What mix_and_master did, for the user and the pipeline report."""
    def finite(value: float) -> float | None:
        return round(float(value), 2) if np.isfinite(value) else None

    reached = (plan.silent or not np.isfinite(loudness_after)
               or abs(loudness_after - plan.target_lufs) <= TARGET_REACHED_LU)
    at_cap = plan.gain_db + extra_gain_db >= MAX_MAKEUP_GAIN_DB - 1e-6
    note = None
    if plan.silent:
        note = "silent (under the -70 LUFS gate): left untouched"
    elif not reached and at_cap:
        note = f"too quiet: the make-up gain stopped at +{MAX_MAKEUP_GAIN_DB:g} dB"
    elif not reached:
        note = "the true-peak ceiling leaves too little room for the target loudness"
    return {"target_lufs": plan.target_lufs, "ceiling_dbtp": plan.ceiling_dbtp,
            "loudness_before_lufs": finite(plan.loudness_before),
            "loudness_after_lufs": finite(loudness_after),
            "true_peak_before_dbtp": finite(plan.true_peak_before),
            "true_peak_after_dbtp": finite(true_peak_after),
            "gain_db": round(plan.gain_db + extra_gain_db, 2),
            "correction_gain_db": round(extra_gain_db, 2),
            "gain_capped": plan.gain_capped or at_cap, "silent": plan.silent,
            "limiter_max_reduction_db": round(limiter_reduction_db, 2),
            "passes": passes, "target_reached": reached, "note": note,
            "eq": eq_summary(plan)}

"""Step (e): after a pass, measure again; if the loudness missed, the gain for one more."""

from __future__ import annotations

import numpy as np

from .plan import MasteringPlan
from .settings import MAX_MAKEUP_GAIN_DB

#: Step (e): a pass whose loudness misses the target by more than this is redone...
LOUDNESS_TOLERANCE_LU = 0.2
#: ...at most this many times. One is usually enough; heavy limiting (loud bangs in quiet
#: speech) takes loudness away non-linearly and needs a few.
MAX_CORRECTIONS = 4
#: Loudness rises at most 1 LU per dB of gain, and less the more the limiter works.
_SLOPE_RANGE = (0.05, 1.0)


def next_extra_gain(plan: MasteringPlan, history: list[tuple[float, float]]) -> float | None:
    """Step (e): given ``(extra gain dB, loudness reached)`` of the passes so far, the extra
    gain for one more pass, or None to keep the last one.

    Loudness rises with gain ever more slowly as the limiter takes over, so stepping by the
    latest measured slope (the first step by 1 LU/dB) approaches the target from below;
    once a pass has overshot, the next stays between the closest passes either side."""
    extra, reached = history[-1]
    miss = plan.target_lufs - reached
    if (plan.silent or not np.isfinite(reached) or abs(miss) <= LOUDNESS_TOLERANCE_LU
            or len(history) > MAX_CORRECTIONS):
        return None
    room = MAX_MAKEUP_GAIN_DB - plan.gain_db - extra
    if miss > 0 and room <= 0:
        return None
    slope = 1.0
    if len(history) >= 2 and history[-1][0] != history[-2][0]:
        slope = (history[-1][1] - history[-2][1]) / (history[-1][0] - history[-2][0])
    step = extra + min(miss / float(np.clip(slope, *_SLOPE_RANGE)), room)
    below = [e for e, loudness in history if loudness < plan.target_lufs]
    above = [e for e, loudness in history if loudness > plan.target_lufs]
    if below and above:
        low, high = max(below), min(above)
        if not low < step < high:
            step = (low + high) / 2.0
    return step

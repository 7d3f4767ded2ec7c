"""Pass 2 of mix_and_master: EQ, gain and the true-peak limiter, block by block."""

from __future__ import annotations

import numpy as np

from aural.dsp.filters import StreamingFir
from aural.dsp.limiter import TruePeakLimiter

from .plan import MasteringPlan


class MasteringProcessor:
    """Push ``(channels, n)`` blocks, then :meth:`flush` once: the output has exactly the
    input's length and timing (the EQ's and the limiter's delays are compensated). A
    silent plan passes the audio through untouched."""

    def __init__(self, plan: MasteringPlan, *, extra_gain_db: float = 0.0) -> None:
        self.plan = plan
        self.gain_db = plan.gain_db + extra_gain_db
        self._gain = np.float32(10 ** (self.gain_db / 20.0))
        active = not plan.silent
        self._eq = (StreamingFir(plan.eq_taps, plan.channels)
                    if active and plan.eq_taps is not None else None)
        self._limiter = (TruePeakLimiter(plan.sample_rate, plan.channels,
                                         ceiling_dbtp=plan.ceiling_dbtp) if active else None)

    @property
    def max_reduction_db(self) -> float:
        """The limiter's largest gain reduction so far (dB)."""
        return self._limiter.max_reduction_db if self._limiter is not None else 0.0

    def _limit(self, block: np.ndarray) -> np.ndarray:
        return self._limiter.push(block.astype(np.float32) * self._gain)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Process one block; returns the output that is ready (possibly none yet)."""
        block = np.asarray(block, dtype=np.float32).reshape(self.plan.channels, -1)
        if self._limiter is None:
            return block.copy()
        return self._limit(self._eq.push(block) if self._eq is not None else block)

    def flush(self) -> np.ndarray:
        """The rest of the output."""
        if self._limiter is None:
            return np.zeros((self.plan.channels, 0), np.float32)
        parts = [self._limit(self._eq.flush())] if self._eq is not None else []
        parts.append(self._limiter.flush())
        return np.concatenate(parts, axis=1)


def process(audio: np.ndarray, plan: MasteringPlan, *, extra_gain_db: float = 0.0,
            block_seconds: float = 10.0) -> tuple[np.ndarray, float]:
    """Pass 2 over an in-memory array; returns the output and the limiter's largest
    reduction (dB)."""
    processor = MasteringProcessor(plan, extra_gain_db=extra_gain_db)
    step = max(int(block_seconds * plan.sample_rate), 1)
    parts = [processor.push(audio[:, start:start + step])
             for start in range(0, audio.shape[1], step)]
    parts.append(processor.flush())
    return np.concatenate(parts, axis=1), processor.max_reduction_db

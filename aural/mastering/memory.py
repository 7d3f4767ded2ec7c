"""mix_and_master on an in-memory array: every pass, step (e) included."""

from __future__ import annotations

from typing import Any

import numpy as np

from aural.errors import AuralError

from .analysis import LoudnessMeter, analyse
from .correction import next_extra_gain
from .plan import plan_mastering
from .processor import process
from .report import report
from .settings import MasteringSettings
from .stems import remix


def check_sample_rate(sample_rate: int) -> None:
    """Refuse a rate mix_and_master does not take, with a one-line error."""
    from aural.audio_io import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AuralError(f"sample rate {sample_rate} Hz is outside the supported "
                         f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz")


def measure_output(audio: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an output, as pass 1 measures."""
    from aural.dsp.limiter import TruePeakMeter

    meter, peak = LoudnessMeter(sample_rate, audio.shape[0]), TruePeakMeter(audio.shape[0])
    meter.push(audio)
    peak.push(audio)
    return meter.loudness(), peak.dbtp()


def master(audio: np.ndarray | dict[str, np.ndarray], sample_rate: int,
           settings: MasteringSettings = MasteringSettings()) -> tuple[np.ndarray, dict[str, Any]]:
    """mix_and_master in memory: float32 ``(channels, samples)`` (or a dict of stems with a
    ``"voice"``) in; the mastered audio, same shape, and a report out.

    Example
    -------
    >>> t = np.arange(48_000 * 3) / 48_000
    >>> tone = (0.01 * np.sin(2 * np.pi * 440 * t))[np.newaxis]
    >>> out, info = master(tone, 48_000, MasteringSettings(eq=None))
    >>> round(info["loudness_after_lufs"])
    -16
    """
    from aural.audio_io import as_channels_first

    if isinstance(audio, dict):
        audio = remix(audio, sample_rate, settings.background_db)
    audio = as_channels_first(audio)
    check_sample_rate(sample_rate)
    if not np.all(np.isfinite(audio)):
        raise AuralError("audio contains NaN or infinite samples")
    plan = plan_mastering(analyse(audio, sample_rate), settings)
    history: list[tuple[float, float]] = []
    extra: float | None = 0.0
    while extra is not None:
        out, reduction = process(audio, plan, extra_gain_db=extra)
        loudness, peak = measure_output(out, sample_rate)
        history.append((extra, loudness))
        extra = next_extra_gain(plan, history)
    return out, report(plan, loudness_after=loudness, true_peak_after=peak,
                       extra_gain_db=history[-1][0], limiter_reduction_db=reduction,
                       passes=1 + len(history))

"""mix_and_master on files, streaming: memory stays flat however long the recording.

Pass 1 reads the input and measures it; pass 2 reads it again, processes it into a
temporary file beside the output and measures what it wrote; only if that missed the
loudness target (step e) is the temporary file discarded and the pass redone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aural.errors import AuralError

from .analysis import LoudnessMeter, MasteringAnalysis
from .correction import next_extra_gain
from .plan import MasteringPlan, plan_mastering
from .processor import MasteringProcessor
from .report import report
from .settings import MasteringSettings

_BLOCK_SECONDS = 10.0


class _Retry(Exception):
    """Discards a pass whose loudness missed (raised inside the atomic write)."""

    def __init__(self, extra_gain_db: float) -> None:
        super().__init__(extra_gain_db)
        self.extra_gain_db = extra_gain_db


def quantise(block: np.ndarray, bit_depth: str, offset: int) -> np.ndarray:
    """A float block as it will be stored: 16-bit with TPDF dither, 24-bit clipped to full
    scale, or float as it is. ``offset`` (the block's first sample) seeds the dither."""
    from aural.audio_io import _tpdf_dither_16bit

    if bit_depth == "16":
        dithered = _tpdf_dither_16bit(block, seed=offset)
        return np.clip(np.round(dithered * 32768.0), -32768, 32767).astype(np.int16)
    if bit_depth == "24":
        return np.clip(block, -1.0, 1.0 - 2.0 ** -23)
    return block


def _blocks(path: Path, rate: int, bar=None):
    import soundfile as sf

    for block in sf.blocks(str(path), blocksize=int(_BLOCK_SECONDS * rate), dtype="float32",
                           always_2d=True):
        block = np.ascontiguousarray(block.T)
        if not np.all(np.isfinite(block)):
            raise AuralError("contains NaN or infinite samples", path=path)
        if bar is not None:
            bar.update(round(block.shape[1] / rate, 1))
        yield block


def _bar(progress: bool, seconds: float, label: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=round(seconds, 1), unit="s", desc=label, leave=False)


def _write_pass(source: Path, temp: Path, plan: MasteringPlan, extra_gain_db: float,
                bit_depth: str, suffix: str, bar=None) -> tuple[float, float, float]:
    """Pass 2 into ``temp``; returns the loudness and true peak of what was written and the
    limiter's largest reduction."""
    import soundfile as sf

    from aural.audio_io import SUBTYPES, WRITABLE_FORMATS
    from aural.dsp.limiter import TruePeakMeter

    processor = MasteringProcessor(plan, extra_gain_db=extra_gain_db)
    meter, peak = LoudnessMeter(plan.sample_rate, plan.channels), TruePeakMeter(plan.channels)
    written = 0
    with sf.SoundFile(str(temp), "w", samplerate=plan.sample_rate, channels=plan.channels,
                      subtype=SUBTYPES[bit_depth], format=WRITABLE_FORMATS[suffix]) as out:
        def write(block: np.ndarray) -> None:
            nonlocal written
            if block.shape[1] == 0:
                return
            stored = quantise(block, bit_depth, written)
            heard = stored / np.float32(32768.0) if bit_depth == "16" else stored
            meter.push(heard)
            peak.push(heard)
            out.write(stored.T)
            written += block.shape[1]

        for block in _blocks(source, plan.sample_rate, bar):
            write(processor.push(block))
        write(processor.flush())
    return meter.loudness(), peak.dbtp(), processor.max_reduction_db


def master_file(in_path: str | Path, out_path: str | Path,
                settings: MasteringSettings = MasteringSettings(), *, bit_depth: str = "24",
                progress: bool = False) -> dict[str, Any]:
    """mix_and_master ``in_path`` into ``out_path`` (WAV or FLAC, written atomically),
    streaming; returns the report (``passes`` counts the reads of the input)."""
    import soundfile as sf

    from aural.atomic import atomic_file
    from aural.audio_io import _short, audio_info, check_output_path

    from .memory import check_sample_rate

    info = audio_info(in_path)
    check_sample_rate(info.sample_rate)
    target = check_output_path(out_path, bit_depth=bit_depth, protect=(info.path,))
    suffix = target.suffix.lower()
    bar = _bar(progress, info.duration, f"measuring {info.path.name}")
    try:
        analysis = MasteringAnalysis(info.sample_rate, info.channels)
        for block in _blocks(info.path, info.sample_rate, bar):
            analysis.push(block)
        plan = plan_mastering(analysis.result(), settings)
        history: list[tuple[float, float]] = []
        extra = 0.0
        while True:
            if bar is not None:
                bar.reset()
                bar.set_description(f"mastering {info.path.name}")
            try:
                with atomic_file(target) as temp:
                    loudness, peak, reduction = _write_pass(info.path, temp, plan, extra,
                                                            bit_depth, suffix, bar)
                    history.append((extra, loudness))
                    following = next_extra_gain(plan, history)
                    if following is not None:
                        raise _Retry(following)
                break
            except _Retry as retry:
                extra = retry.extra_gain_db
    except (OSError, sf.LibsndfileError, RuntimeError) as exc:
        raise AuralError(f"could not process audio ({_short(exc)})", path=target) from None
    finally:
        if bar is not None:
            bar.close()
    return report(plan, loudness_after=loudness, true_peak_after=peak,
                  extra_gain_db=history[-1][0], limiter_reduction_db=reduction,
                  passes=1 + len(history))

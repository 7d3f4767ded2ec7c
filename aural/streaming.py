"""Streaming processing: long audio in overlapping blocks, cross-faded, memory flat in length.

Every stage's ``apply`` goes through here. A block is processed together with
``context`` samples on each side (so the model sees what it would see on the whole
file); consecutive outputs overlap by ``crossfade`` samples and are joined with an
equal-gain raised-cosine fade, so there are no seams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from aural.atomic import atomic_file
from aural.audio_io import (SUBTYPES, WRITABLE_FORMATS, audio_info, check_output_path, load_audio,
                            read_blocks)
from aural.errors import AuralError
from aural.termination import raise_if_received

BlockFunction = Callable[[np.ndarray], np.ndarray]


def _fades(length: int) -> tuple[np.ndarray, np.ndarray]:
    t = (np.arange(length, dtype=np.float32) + 0.5) / length
    fade_in = 0.5 - 0.5 * np.cos(np.pi * t)
    return fade_in.astype(np.float32), (1.0 - fade_in).astype(np.float32)


class BlockProcessor:
    """Feeds arbitrary-sized chunks of ``(channels, samples)`` audio through ``function``.

    ``function`` maps a ``(channels, n)`` array to one of the same shape. Output is
    delayed by ``context + crossfade`` samples internally but :meth:`push` / :meth:`flush`
    together return exactly as many samples as were pushed, in order.
    """

    def __init__(self, function: BlockFunction, *, block: int, context: int, crossfade: int) -> None:
        if crossfade > context:
            raise ValueError("crossfade must not exceed context")
        self.function, self.block, self.context, self.crossfade = function, block, context, crossfade
        self._fade_in, self._fade_out = _fades(max(crossfade, 1))
        self._buffer: np.ndarray | None = None   # input not yet fully processed (with left context)
        self._left = 0                            # samples of left context at the buffer's start
        self._tail: np.ndarray | None = None      # previous block's overlap, to cross-fade
        self._emitted = 0
        self._pushed = 0

    def _run(self, final: bool) -> Iterator[np.ndarray]:
        assert self._buffer is not None
        while True:
            available = self._buffer.shape[1] - self._left
            need = self.block + self.crossfade + (0 if final else self.context)
            if available < need and not (final and available > 0):
                return
            take = min(self.block + self.crossfade, available)
            end = min(self._left + take + self.context, self._buffer.shape[1])
            out = self.function(self._buffer[:, :end])[:, self._left:self._left + take]
            if self._tail is not None:
                n = min(self.crossfade, out.shape[1], self._tail.shape[1])
                out = out.copy()
                out[:, :n] = out[:, :n] * self._fade_in[:n] + self._tail[:, :n] * self._fade_out[:n]
            if final and take == available:
                yield out
                self._buffer = self._buffer[:, :0]
                self._left = 0
                return
            keep = take - self.crossfade
            yield out[:, :keep]
            self._tail = out[:, keep:]
            start = self._left + keep - self.context
            drop = max(start, 0)
            self._left = self._left + keep - drop
            self._buffer = self._buffer[:, drop:]

    def push(self, chunk: np.ndarray) -> list[np.ndarray]:
        """Add input; return the output blocks that are ready."""
        self._pushed += chunk.shape[1]
        self._buffer = chunk if self._buffer is None else np.concatenate([self._buffer, chunk], 1)
        return list(self._run(final=False))

    def flush(self) -> list[np.ndarray]:
        """Process what is left; call once at the end."""
        if self._buffer is None or self._buffer.shape[1] - self._left <= 0:
            return []
        return list(self._run(final=True))


def process_in_blocks(audio: np.ndarray, function: BlockFunction, *, block: int, context: int,
                      crossfade: int) -> np.ndarray:
    """Run :class:`BlockProcessor` over an in-memory ``(channels, samples)`` array."""
    processor = BlockProcessor(function, block=block, context=context, crossfade=crossfade)
    pieces = processor.push(audio) + processor.flush()
    return np.concatenate(pieces, axis=1) if pieces else audio[:, :0]


class _StreamResampler:
    """soxr's streaming resampler for several channels (a no-op at equal rates)."""

    def __init__(self, from_rate: int, to_rate: int, channels: int) -> None:
        self.active = from_rate != to_rate
        if self.active:
            import soxr

            self._stream = soxr.ResampleStream(from_rate, to_rate, channels, dtype="float32",
                                               quality="VHQ")

    def __call__(self, chunk: np.ndarray, last: bool = False) -> np.ndarray:
        if not self.active:
            return chunk
        out = self._stream.resample_chunk(np.ascontiguousarray(chunk.T), last=last)
        return np.ascontiguousarray(out.T)


@dataclass
class StreamResult:
    """What :func:`stream_file` wrote, and how much its safety limiter had to do."""

    path: Path
    limited_db: float = 0.0     # largest reduction of peaks above full scale (integer formats)


class _SafeWriter:
    """Writes blocks to an open SoundFile; integer formats pass a sample-peak limiter first,
    which leaves every sample within full scale untouched and brings the rest under it."""

    def __init__(self, out, bit_depth: str, rate: int, channels: int) -> None:
        from aural.dsp.limiter import TruePeakLimiter

        self.out = out
        self.limiter = None if bit_depth == "float" else TruePeakLimiter(
            rate, channels, ceiling_dbtp=0.0, lookahead_ms=1.0, release_ms=20.0, true_peak=False)

    def _write(self, data: np.ndarray) -> None:
        if data.shape[1]:
            self.out.write(np.clip(data, -1.0, 1.0 - 2.0 ** -23).T if self.limiter else data.T)

    def push(self, data: np.ndarray) -> None:
        self._write(self.limiter.push(data) if self.limiter else data)

    def close(self) -> float:
        if self.limiter is None:
            return 0.0
        self._write(self.limiter.flush())
        return self.limiter.max_reduction_db


def stream_file(input_path: str | Path, output_path: str | Path, function: BlockFunction, *,
                process_rate: int, output_rate: int | None = None, block: int, context: int,
                crossfade: int, bit_depth: str = "24", read_seconds: float = 10.0,
                progress: bool = False, output_channels: int | None = None) -> StreamResult:
    """Decode ``input_path`` piece by piece, run ``function`` at ``process_rate`` in blocks,
    and write ``output_path`` at ``output_rate`` (default: the input's rate) atomically.

    Peak memory depends on the block size, not on the file's length. ``output_channels``
    is the function's channel count when it differs from the input's (e.g. a mono mix).
    """
    input_path, output_path = Path(input_path), Path(output_path)
    info = audio_info(input_path)
    load_audio(input_path, duration=min(1.0, info.duration))  # validates rate, samples, finiteness
    check_output_path(output_path, bit_depth=bit_depth, protect=(input_path,))
    suffix = output_path.suffix.lower()

    channels = output_channels or info.channels
    output_rate = output_rate or info.sample_rate
    to_process = _StreamResampler(info.sample_rate, process_rate, info.channels)
    to_output = _StreamResampler(process_rate, output_rate, channels)
    processor = BlockProcessor(function, block=block, context=context, crossfade=crossfade)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=round(info.duration, 1), unit="s", desc=output_path.name, leave=False)
    try:
        with atomic_file(output_path) as temp, sf.SoundFile(
                str(temp), "w", samplerate=output_rate, channels=channels,
                subtype=SUBTYPES[bit_depth], format=WRITABLE_FORMATS[suffix]) as out:
            writer = _SafeWriter(out, bit_depth, output_rate, channels)

            def write(blocks: list[np.ndarray], last: bool = False) -> None:
                data = np.concatenate(blocks, axis=1) if blocks else np.zeros((channels, 0),
                                                                               np.float32)
                writer.push(to_output(data, last=last))

            for chunk in read_blocks(input_path, seconds=read_seconds):
                raise_if_received()
                write(processor.push(to_process(chunk)))
                if bar is not None:
                    bar.update(round(chunk.shape[1] / info.sample_rate, 1))
            tail = to_process(np.zeros((info.channels, 0), np.float32), last=True)
            write(processor.push(tail) + processor.flush(), last=True)
            limited = writer.close()
    except (OSError, sf.LibsndfileError) as exc:
        raise AuralError(f"could not write audio ({exc})", path=output_path) from None
    finally:
        if bar is not None:
            bar.close()
    return StreamResult(output_path, limited)

"""Chaining stages block by block, so memory stays flat in the file's length.

Each stage runs in its own :class:`aural.streaming.BlockProcessor` (its own block size,
context and cross-fade) at its own rate, fed as the previous stage's output becomes
ready. Every processor gives back exactly as many samples as it was given, so the chain
is sample-exact: processing a file in pieces equals processing it whole, up to the
cross-fades. A separation stage splits the path: its first output (the voice) goes on
down the chain; its other outputs (the background) wait in a FIFO and leave the chain
aligned with the voice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from aural.stages.base import Stage
from aural.streaming import BlockProcessor
from aural.streaming import _StreamResampler as StreamResampler


class StageStream:
    """One stage as a streaming step at the chain's rate: ``push`` audio, get stems back."""

    def __init__(self, stage: Stage, channels: int, rate: int, strength: float = 1.0) -> None:
        self.stage, self.channels, self.strength = stage, channels, strength
        self.seconds = 0.0                      # time spent in this stage, for reports
        self.outputs = stage.outputs
        stage_rate = stage.config.sample_rate
        self._into = StreamResampler(rate, stage_rate, channels)
        self._back = StreamResampler(stage_rate, rate, channels * len(self.outputs))
        sizes = stage.streaming_sizes()
        if strength == 0.0:  # dry: the input, exactly (no resampling either)
            self._into = self._back = StreamResampler(rate, rate, channels)
            function = stage.dry_block
            sizes = {"block": rate, "context": 0, "crossfade": 0}  # no fades: bit-exact
        else:
            function = stage.block_function(strength)
        self._processor = BlockProcessor(function, **sizes)

    def _split(self, blocks: list[np.ndarray], last: bool) -> dict[str, np.ndarray]:
        width = self.channels * len(self.outputs)
        data = np.concatenate(blocks, axis=1) if blocks else np.zeros((width, 0), np.float32)
        data = self._back(data, last=last)
        c = self.channels
        return {name: data[i * c:(i + 1) * c] for i, name in enumerate(self.outputs)}

    def push(self, chunk: np.ndarray) -> dict[str, np.ndarray]:
        """Feed ``(channels, n)`` audio; return whatever output is ready, per output name."""
        started = time.perf_counter()
        out = self._split(self._processor.push(self._into(chunk)), last=False)
        self.seconds += time.perf_counter() - started
        return out

    def flush(self) -> dict[str, np.ndarray]:
        """The rest of the output; call once at the end."""
        started = time.perf_counter()
        tail = self._into(np.zeros((self.channels, 0), np.float32), last=True)
        out = self._split(self._processor.push(tail) + self._processor.flush(), last=True)
        self.seconds += time.perf_counter() - started
        return out


@dataclass
class _Fifo:
    """Samples waiting to be popped in step with another path."""

    channels: int
    parts: list[np.ndarray] = field(default_factory=list)

    def push(self, data: np.ndarray) -> None:
        if data.shape[1]:
            self.parts.append(data)

    def pop(self, n: int) -> np.ndarray:
        if not self.parts:
            return np.zeros((self.channels, 0), np.float32)
        data = np.concatenate(self.parts, axis=1)
        self.parts = [data[:, n:]] if data.shape[1] > n else []
        return data[:, :n]


class Chain:
    """Stages in order, streamed: ``push`` input blocks, get ``{"voice"/"audio", ...}`` out.

    The main path is called ``"audio"``; a separation stage's extra outputs (e.g.
    ``"background"``) join the result under their own names, aligned sample for sample.
    """

    def __init__(self, stages: list[Stage], channels: int, rate: int,
                 strengths: dict[str, float] | None = None) -> None:
        strengths = strengths or {}
        self.streams = [StageStream(s, channels, rate, strengths.get(s.name, 1.0)) for s in stages]
        self.channels = channels
        self.side_names: list[str] = [name for s in stages for name in s.outputs[1:]]
        self._fifos = {name: _Fifo(channels) for name in self.side_names}

    def _through(self, streams: list[StageStream], audio: np.ndarray) -> np.ndarray:
        for stream in streams:
            stems = stream.push(audio)
            audio = stems[stream.outputs[0]]
            for name in stream.outputs[1:]:
                self._fifos[name].push(stems[name])
        return audio

    def _collect(self, audio: np.ndarray) -> dict[str, np.ndarray]:
        out = {"audio": audio}
        for name, fifo in self._fifos.items():
            out[name] = fifo.pop(audio.shape[1])
        return out

    def push(self, chunk: np.ndarray) -> dict[str, np.ndarray]:
        """Feed ``(channels, n)`` input at the chain rate; return the ready output."""
        return self._collect(self._through(self.streams, chunk))

    def flush(self) -> dict[str, np.ndarray]:
        """Everything still inside the chain; call once at the end."""
        pieces: list[dict[str, np.ndarray]] = []
        for index, stream in enumerate(self.streams):
            stems = stream.flush()
            audio = stems[stream.outputs[0]]
            for name in stream.outputs[1:]:
                self._fifos[name].push(stems[name])
            # What this stage released at the end still goes through the stages after it.
            pieces.append(self._collect(self._through(self.streams[index + 1:], audio)))
        if not pieces:
            return self._collect(np.zeros((self.channels, 0), np.float32))
        return {name: np.concatenate([p[name] for p in pieces], axis=1) for name in pieces[0]}


def run_chain(stages: list[Stage], audio: np.ndarray, rate: int,
              strengths: dict[str, float] | None = None,
              block_seconds: float = 10.0) -> dict[str, np.ndarray]:
    """Run ``stages`` over in-memory ``(channels, samples)`` audio, streamed in blocks."""
    chain = Chain(stages, audio.shape[0], rate, strengths)
    step = max(int(block_seconds * rate), 1)
    parts = [chain.push(audio[:, i:i + step]) for i in range(0, audio.shape[1], step)]
    parts.append(chain.flush())
    return {name: np.concatenate([p[name] for p in parts], axis=1) for name in parts[0]}

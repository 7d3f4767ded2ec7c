"""A look-ahead true-peak limiter that streams, and a streaming FIR filter.

The limiter (:class:`TruePeakLimiter`) never lets its output exceed the ceiling as
measured on a 4x oversampled signal (BS.1770-4 Annex 2):

1. the input is oversampled 4x (polyphase) and each sample gets the largest magnitude of
   the oversampled signal around it: its true-peak envelope;
2. the gain each sample needs is ``min(1, ceiling / envelope)``; a forward minimum over the
   look-ahead makes every sample in the look-ahead before a peak ask for that peak's gain;
3. in decibels of gain reduction, a peak hold with exponential decay gives the release
   (never less reduction than asked for), and a moving average over the look-ahead gives
   a smooth attack that has reached full depth when the peak arrives;
4. the output is the input delayed by the look-ahead, times that gain. Because the
   smoothed reduction at a peak averages values that are each at least the peak's own,
   the peak is always attenuated enough.

Gains move smoothly (attack = look-ahead, release tens of ms), so speech does not pump.
Everything is vectorised per block (the release's peak hold is a running maximum in the
log domain), and :meth:`TruePeakLimiter.push` / :meth:`TruePeakLimiter.flush` return
exactly as many samples as were pushed, delay compensated.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import resample_poly

#: Oversampling of the peak detector (BS.1770 asks for 4x below 96 kHz).
OVERSAMPLING = 4
#: Input samples of context either side for the polyphase filter (scipy's is ~10 x 4 taps).
_CONTEXT = 64
#: The limiter aims this far below the ceiling, for the gain's own modulation.
_SAFETY_DB = 0.05


def true_peak_envelope(audio: np.ndarray) -> np.ndarray:
    """Per input sample, the largest oversampled magnitude over all channels between it and
    its neighbours, ``(samples,)``. Edges are treated as if the signal were zero outside."""
    audio = np.asarray(audio, dtype=np.float64)
    n = audio.shape[-1]
    if n == 0:
        return np.zeros(0)
    up = np.abs(resample_poly(audio, OVERSAMPLING, 1, axis=-1)).max(axis=0)
    per_sample = up[: n * OVERSAMPLING].reshape(n, OVERSAMPLING).max(axis=1)
    per_sample = np.maximum(per_sample, np.abs(audio).max(axis=0))
    # Oversampled values just before sample i lie between i-1 and i: both neighbours see them.
    return np.maximum(per_sample, np.concatenate([per_sample[1:], [0.0]]))


class TruePeakLimiter:
    """Streaming, linked, look-ahead true-peak limiter for ``(channels, samples)`` blocks."""

    def __init__(self, sample_rate: int, channels: int, *, ceiling_dbtp: float = -1.0,
                 lookahead_ms: float = 3.0, release_ms: float = 60.0,
                 true_peak: bool = True) -> None:
        self.channels = channels
        self.true_peak = true_peak                    # False: sample peaks (an integer file's limit)
        self.ceiling = 10 ** ((ceiling_dbtp - _SAFETY_DB) / 20.0)
        self.lookahead = max(int(round(lookahead_ms * 1e-3 * sample_rate)), 1)
        # Gain reduction (dB) decays by this factor per sample after a peak.
        self._log_decay = -1.0 / max(release_ms * 1e-3 * sample_rate, 1.0)
        self._buffer = np.zeros((channels, 0))        # input from absolute index _start
        self._start = 0
        self._emitted = 0                             # next absolute sample to output
        self._pushed = 0
        self._hold = 0.0                              # release state: reduction (dB) at _emitted - 1
        self._history = np.zeros(self.lookahead)      # reduction (dB) of the last samples
        self._first = True
        self.max_reduction_db = 0.0

    def _reduction(self, first: int, last: int) -> np.ndarray:
        """Gain reduction (dB, >= 0) asked for by samples ``first..last`` (absolute)."""
        lo = max(first - _CONTEXT, self._start)
        hi = min(last + _CONTEXT, self._start + self._buffer.shape[1])
        segment = self._buffer[:, lo - self._start:hi - self._start]
        envelope = (true_peak_envelope(segment) if self.true_peak
                    else np.abs(segment).max(axis=0))[first - lo:last - lo]
        with np.errstate(divide="ignore"):
            needed = np.maximum(20.0 * np.log10(np.maximum(envelope, 1e-12) / self.ceiling), 0.0)
        return needed

    def _release(self, asked: np.ndarray) -> np.ndarray:
        """Peak hold with exponential decay, in the log domain (a running maximum)."""
        k = np.arange(1, len(asked) + 1)
        with np.errstate(divide="ignore"):
            logs = np.log(np.maximum(asked, 1e-30)) - k * self._log_decay
            carried = np.log(max(self._hold, 1e-30))
        held = np.exp(np.maximum.accumulate(np.maximum(logs, carried)) + k * self._log_decay)
        held = np.where(held < 1e-9, 0.0, held)
        self._hold = float(held[-1]) if len(held) else self._hold
        return held

    def _emit(self, end: int) -> np.ndarray:
        """Output for absolute samples ``_emitted..end``."""
        n = end - self._emitted
        if n <= 0:
            return np.zeros((self.channels, 0), np.float32)
        look = self.lookahead
        asked = self._reduction(self._emitted, end + look)
        # Forward minimum of the gain = forward maximum of the reduction over the look-ahead.
        size = look + 1
        ahead = maximum_filter1d(asked, size=size, origin=-(size // 2), mode="nearest")[:n]
        if self._first:
            # Before the first sample there is only silence, whose gain does not matter: let
            # the attack start there, as if the peaks ahead had been seen already.
            self._history = np.maximum.accumulate(
                np.pad(ahead[:look], (0, max(look - len(ahead), 0)), mode="edge"))
        self._first = False
        held = self._release(ahead)
        joined = np.concatenate([self._history, held])
        cumulative = np.cumsum(np.concatenate([[0.0], joined]))
        smoothed = (cumulative[look + 1:] - cumulative[1:len(held) + 1]) / look
        self._history = joined[-look:]
        self.max_reduction_db = max(self.max_reduction_db, float(np.max(smoothed, initial=0.0)))
        gain = 10 ** (-smoothed / 20.0)
        x = self._buffer[:, self._emitted - self._start:end - self._start]
        self._emitted = end
        keep_from = max(end - _CONTEXT, self._start)
        self._buffer = self._buffer[:, keep_from - self._start:]
        self._start = keep_from
        return (x * gain).astype(np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Feed a block; return the output that is ready (delayed by the look-ahead)."""
        block = np.asarray(block, dtype=np.float64).reshape(self.channels, -1)
        self._buffer = np.concatenate([self._buffer, block], axis=1)
        self._pushed += block.shape[1]
        return self._emit(self._pushed - self.lookahead - _CONTEXT)

    def flush(self) -> np.ndarray:
        """The rest of the output; call once at the end."""
        pad = np.zeros((self.channels, self.lookahead + _CONTEXT))
        total = self._pushed
        self._buffer = np.concatenate([self._buffer, pad], axis=1)
        return self._emit(total)


class StreamingFir:
    """Zero-delay streaming convolution with a linear-phase (odd-length, symmetric) FIR."""

    def __init__(self, taps: np.ndarray, channels: int) -> None:
        self.taps = np.asarray(taps, dtype=np.float64)
        self.delay = (len(self.taps) - 1) // 2
        self.channels = channels
        self._tail = np.zeros((channels, len(self.taps) - 1))
        self._to_drop = self.delay
        self._pushed = 0
        self._given = 0

    def _convolve(self, block: np.ndarray) -> np.ndarray:
        from scipy.signal import oaconvolve

        full = oaconvolve(block, self.taps[np.newaxis], axes=-1) if block.shape[1] else \
            np.zeros((self.channels, len(self.taps) - 1))
        full[:, :self._tail.shape[1]] += self._tail
        n = block.shape[1]
        out, self._tail = full[:, :n], full[:, n:]
        return out

    def push(self, block: np.ndarray) -> np.ndarray:
        """Filter a block; return the output ready so far (the filter's delay removed)."""
        block = np.asarray(block, dtype=np.float64).reshape(self.channels, -1)
        self._pushed += block.shape[1]
        out = self._convolve(block)
        drop = min(self._to_drop, out.shape[1])
        self._to_drop -= drop
        out = out[:, drop:]
        self._given += out.shape[1]
        return out

    def flush(self) -> np.ndarray:
        """The last ``delay`` samples; call once at the end."""
        rest = self._tail[:, self._to_drop:]
        out = rest[:, : self._pushed - self._given]
        self._given += out.shape[1]
        return out

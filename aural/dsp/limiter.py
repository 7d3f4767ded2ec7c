"""A look-ahead true-peak limiter that streams, and the true-peak detector it and the meters share.

True peak is the largest magnitude of the signal oversampled 4x (BS.1770-4 Annex 2). The
reading depends a little on the interpolation filter: on white noise limited to -1.05 dBTP
by scipy's ``resample_poly``, libebur128 (pyebur128, ffmpeg) reads -0.8 dBTP, because short
filters let images through. So the detector (:func:`true_peak_envelope`) takes, at every
point, the largest of three 4x interpolators: scipy's polyphase Kaiser filter (what
:func:`aural.dsp.loudness.true_peak_dbtp` uses), the 48-tap filter published in BS.1770-4
Annex 2, and libebur128's 49-tap Hann-windowed sinc. A signal kept under the ceiling by it
stays under the ceiling for any of those meters.

The limiter (:class:`TruePeakLimiter`), per sample, in decibels of gain reduction:

1. asked: how far the true-peak envelope is above the ceiling (0 where it is not);
2. a window maximum over ``hold`` samples before and ``lookahead + guard`` after: every
   sample in the ramp before a peak, and in the hold after it, asks for that peak's gain;
3. release: a peak hold whose reduction (1 - gain) decays exponentially (never less
   reduction than asked for);
4. attack: two moving averages whose lengths add up to the look-ahead, which turn each
   jump into a smooth S-shaped ramp that reaches full depth ``guard`` samples before the
   peak. The gain is therefore constant over the interpolation filter's reach around every
   peak, so the oversampled output scales exactly like the samples;
5. the output is the input delayed by ``lookahead + guard``, times that gain, linked
   across channels.

Everything is vectorised per block (the release's peak hold is a running maximum in the
log domain), and :meth:`TruePeakLimiter.push` / :meth:`TruePeakLimiter.flush` return
exactly as many samples as were pushed, delay compensated, identical whatever the blocks.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d, maximum_filter1d

#: Oversampling of the peak detector (BS.1770-4 asks for 4x below 96 kHz; we use it always).
OVERSAMPLING = 4
#: Input samples either side that an interpolated point depends on (all three filters).
REACH = 10
#: The limiter aims this far below the ceiling, for the gain's own (tiny) modulation.
_SAFETY_DB = 0.05
#: Samples per piece when deciding where the exact detector must run.
_PIECE = 256

# BS.1770-4 Annex 2, table 1: the 48-tap interpolator as 4 phases of 12 taps.
_ANNEX2_PHASES = np.array([
    [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875,
     0.1373291015625, 0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250,
     0.0148925781250, -0.0083007812500],
    [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500,
     0.4650878906250, 0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625,
     0.0330810546875, -0.0189208984375],
    [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125,
     0.7797851562500, 0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000,
     0.0292968750000, -0.0291748046875],
    [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750,
     0.9721679687500, 0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125,
     0.0109863281250, 0.0017089843750]])


def _interpolators() -> list[np.ndarray]:
    """The three 4x interpolation filters (full length, upsampled-rate taps)."""
    from scipy.signal import firwin

    # scipy.signal.resample_poly(x, 4, 1)'s own design.
    kaiser = firwin(2 * 10 * OVERSAMPLING + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0))
    annex2 = np.zeros(48)
    for phase in range(OVERSAMPLING):
        annex2[phase::OVERSAMPLING] = _ANNEX2_PHASES[phase]
    taps = np.arange(49)
    hann_sinc = np.sinc((taps - 24.0) / OVERSAMPLING) * 0.5 * (1 - np.cos(2 * np.pi * taps / 48))
    return [kaiser * OVERSAMPLING, annex2, hann_sinc]


def _phase_kernels() -> tuple[list[tuple[int, np.ndarray]], float]:
    """Every interpolator phase as ``(first offset, taps)``: the point it computes in
    ``[a, a + 1)`` is ``sum(taps[j] * x[a + first + j])``. Phases that merely copy a sample
    are left out (the sample itself always counts). Also the largest phase gain (L1 norm)."""
    kernels = []
    for h in _interpolators():
        delay = (len(h) - 1) / 2.0
        for phase in range(OVERSAMPLING):
            # y[4n + phase] = sum_k h[4k + phase] x[n - k] lies at n + (phase - delay) / 4.
            shift = int(np.floor((phase - delay) / OVERSAMPLING))
            taps = h[phase::OVERSAMPLING]
            offsets = -shift - np.arange(len(taps))
            column = np.zeros(2 * REACH + 1)
            column[offsets + REACH] = taps
            column[np.abs(column) < 1e-9] = 0.0
            nonzero = np.flatnonzero(column)
            if len(nonzero) == 1 and nonzero[0] == REACH and abs(column[REACH] - 1.0) < 1e-6:
                continue
            kernels.append((int(nonzero[0]) - REACH,
                            column[nonzero[0]:nonzero[-1] + 1].astype(np.float32)))
    return kernels, max(float(np.abs(k).sum()) for _, k in kernels)


_KERNELS, _MAX_GAIN = _phase_kernels()


def _interpolated_peaks(padded: np.ndarray) -> np.ndarray:
    """``(channels, k, m + 2 REACH)`` rows -> ``(k, m)``: the largest interpolated magnitude
    in ``[a, a + 1)`` for each of the ``m`` middle samples of each row."""
    m = padded.shape[-1] - 2 * REACH
    peaks = np.zeros(padded.shape[1:-1] + (m,), np.float32)
    for first, taps in _KERNELS:
        # correlate1d centres the kernel at len // 2; origin moves it to the first tap.
        out = correlate1d(padded, taps, axis=-1, mode="constant",
                          origin=-(len(taps) // 2))
        start = REACH + first
        np.maximum(peaks, np.abs(out[..., start:start + m]).max(axis=0), out=peaks)
    return peaks


def true_peak_envelope(audio: np.ndarray, *, floor: float = 0.0) -> np.ndarray:
    """Per input sample, the largest 4x-oversampled magnitude over all channels between its
    neighbours, ``(samples,)``; outside the signal counts as zero.

    Where the interpolated points cannot exceed ``floor`` (their filters' gain times the
    nearby sample peak is below it) the exact computation is skipped and the sample peak is
    returned: callers that only care about values above a threshold pass it as ``floor``.
    """
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    n = audio.shape[-1]
    if n == 0:
        return np.zeros(0, np.float32)
    sample_peak = np.abs(audio).max(axis=0)
    pieces = -(-(n + 1) // _PIECE)
    # Anchors -1 .. n-1 (point a covers [a, a+1)); pad so every window is inside.
    padded = np.zeros((audio.shape[0], pieces * _PIECE + 2 * REACH), np.float32)
    padded[:, REACH + 1:REACH + 1 + n] = audio
    loudest = np.pad(sample_peak, (1, pieces * _PIECE - n - 1)).reshape(pieces, _PIECE).max(axis=1)
    neighbours = np.maximum(np.pad(loudest[1:], (0, 1)), np.pad(loudest[:-1], (1, 0)))
    nearby = np.maximum(loudest, neighbours)
    chosen = np.flatnonzero(nearby * _MAX_GAIN > floor)
    points = np.zeros(pieces * _PIECE, np.float32)
    for group in np.array_split(chosen, max(1, len(chosen) // 128)):
        if len(group) == 0:
            continue
        index = group[:, None] * _PIECE + np.arange(_PIECE + 2 * REACH)[None, :]
        points.reshape(pieces, _PIECE)[group] = _interpolated_peaks(padded[:, index])
    points = points[:n + 1]
    return np.maximum(sample_peak, np.maximum(points[1:], points[:-1]))


class TruePeakMeter:
    """Streaming true peak (the detector above) of ``(channels, n)`` blocks."""

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self._tail = np.zeros((channels, 0), np.float32)   # the last 2 REACH + 2 samples
        self.peak = 0.0

    def push(self, block: np.ndarray) -> None:
        """Measure one block."""
        block = np.asarray(block, dtype=np.float32).reshape(self.channels, -1)
        if block.shape[1] == 0:
            return
        joined = np.concatenate([self._tail, block], axis=1)
        # Only values above the running peak matter. A value is exact once REACH + 1 samples
        # either side are known: count those not counted before.
        envelope = true_peak_envelope(joined, floor=self.peak)
        known = envelope[max(self._tail.shape[1] - REACH - 1, 0):max(len(envelope) - REACH - 1, 0)]
        self.peak = max(self.peak, float(known.max(initial=0.0)))
        self._tail = joined[:, -2 * REACH - 2:]

    def dbtp(self) -> float:
        """The true peak so far, in dBTP (``-inf`` for silence); after it, nothing follows."""
        envelope = true_peak_envelope(self._tail, floor=self.peak)
        last = envelope[max(len(envelope) - REACH - 1, 0):]
        peak = max(self.peak, float(last.max(initial=0.0)))
        return float(20 * np.log10(peak)) if peak > 0 else float("-inf")


class TruePeakLimiter:
    """Streaming, linked, look-ahead true-peak limiter for ``(channels, samples)`` blocks."""

    def __init__(self, sample_rate: int, channels: int, *, ceiling_dbtp: float = -1.0,
                 lookahead_ms: float = 3.0, hold_ms: float = 10.0, release_ms: float = 80.0,
                 true_peak: bool = True) -> None:
        self.channels = channels
        self.true_peak = true_peak        # False: sample peaks (an integer file's limit)
        margin = _SAFETY_DB if true_peak else 0.0
        self.ceiling = 10 ** ((ceiling_dbtp - margin) / 20.0)
        ramp = max(int(round(lookahead_ms * 1e-3 * sample_rate)), 2)
        # Two moving averages (an S-shaped attack) whose lengths add up to ramp + 2.
        self._averages = (ramp // 2 + 1, ramp - ramp // 2 + 1)
        self.guard = REACH if true_peak else 0
        self.lookahead = ramp + self.guard            # the delay, compensated
        self.hold = max(int(round(hold_ms * 1e-3 * sample_rate)), self.guard)
        self._log_decay = -1.0 / max(release_ms * 1e-3 * sample_rate, 1.0)
        self._context = self.lookahead + self.hold + REACH + 2
        self._buffer = np.zeros((channels, 0), np.float32)  # input from absolute index _start
        self._start = 0
        self._emitted = 0                             # next absolute sample to output
        self._pushed = 0
        self._held = 0.0                              # release state at _emitted - 1
        self._histories: list[np.ndarray] | None = None
        self.max_reduction_db = 0.0

    def _asked(self, first: int, last: int) -> np.ndarray:
        """Gain reduction (dB, >= 0) that samples ``first..last`` (absolute) ask for."""
        lo = max(first - REACH - 2, self._start)
        hi = min(last + REACH + 2, self._start + self._buffer.shape[1])
        segment = self._buffer[:, lo - self._start:hi - self._start]
        envelope = (true_peak_envelope(segment, floor=self.ceiling) if self.true_peak
                    else np.abs(segment).max(axis=0, initial=0.0))
        asked = np.zeros(last - first)
        inside = envelope[max(first, lo) - lo:min(last, hi) - lo]
        offset = max(first, lo) - first
        with np.errstate(divide="ignore"):
            asked[offset:offset + len(inside)] = np.maximum(
                20.0 * np.log10(np.maximum(inside, 1e-12) / self.ceiling), 0.0)
        return asked

    def _release(self, asked: np.ndarray) -> np.ndarray:
        """Peak hold with exponential decay, in the log domain (a running maximum)."""
        k = np.arange(1, len(asked) + 1)
        with np.errstate(divide="ignore"):
            logs = np.log(np.maximum(asked, 1e-30)) - k * self._log_decay
            carried = np.log(max(self._held, 1e-30))
        held = np.exp(np.maximum.accumulate(np.maximum(logs, carried)) + k * self._log_decay)
        held = np.where(held < 1e-6, 0.0, held)   # below -120 dB: exactly untouched
        self._held = float(held[-1]) if len(held) else self._held
        return held

    def _smooth(self, held: np.ndarray, initial: float) -> np.ndarray:
        """The two moving averages, carrying their histories from block to block."""
        if self._histories is None:
            # Before the first sample there is only silence, whose gain does not matter: start
            # at the depth the first peaks need, so that they are covered without a ramp.
            self._histories = [np.full(size - 1, initial) for size in self._averages]
        out = held
        for index, size in enumerate(self._averages):
            joined = np.concatenate([self._histories[index], out])
            cumulative = np.cumsum(np.concatenate([[0.0], joined]))
            self._histories[index] = joined[len(joined) - (size - 1):]
            out = (cumulative[size:] - cumulative[:-size]) / size
        return out

    def _emit(self, end: int) -> np.ndarray:
        """Output for absolute samples ``_emitted..end``."""
        n = end - self._emitted
        if n <= 0:
            return np.zeros((self.channels, 0), np.float32)
        before, after = self.hold, self.lookahead
        asked = self._asked(self._emitted - before, end + after)
        size = before + after + 1
        # Window [i - hold, i + lookahead]: maximum_filter1d's starts at i - size // 2 - origin.
        window = maximum_filter1d(asked, size=size, origin=before - size // 2,
                                  mode="constant")[before:before + n]
        initial = float(window[:self.lookahead + 1].max(initial=0.0))
        # Release in the linear domain: the reduction 1 - gain decays exponentially, so a
        # click 40 dB over is back to -4 dB after one release time, not still at -15 dB.
        reduction = 1.0 - 10 ** (-window / 20.0)
        released = -20.0 * np.log10(1.0 - np.minimum(self._release(reduction), 1.0 - 1e-12))
        smoothed = self._smooth(released, initial)
        self.max_reduction_db = max(self.max_reduction_db, float(np.max(smoothed, initial=0.0)))
        gain = (10 ** (-smoothed / 20.0)).astype(np.float32)
        x = self._buffer[:, self._emitted - self._start:end - self._start]
        self._emitted = end
        keep_from = max(end - self._context, self._start)
        self._buffer = self._buffer[:, keep_from - self._start:]
        self._start = keep_from
        return x * gain

    def push(self, block: np.ndarray) -> np.ndarray:
        """Feed a block; return the output that is ready (delayed by the look-ahead)."""
        block = np.asarray(block, dtype=np.float32).reshape(self.channels, -1)
        self._buffer = np.concatenate([self._buffer, block], axis=1)
        self._pushed += block.shape[1]
        return self._emit(self._pushed - self.lookahead - REACH - 2)

    def flush(self) -> np.ndarray:
        """The rest of the output; call once at the end."""
        total = self._pushed
        pad = np.zeros((self.channels, self.lookahead + REACH + 2), np.float32)
        self._buffer = np.concatenate([self._buffer, pad], axis=1)
        return self._emit(total)

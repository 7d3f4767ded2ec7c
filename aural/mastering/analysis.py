"""Pass 1 of mix_and_master: loudness, true peak and spectrum, measured block by block.

Memory stays flat in the audio's length: per 100 ms tick only the K-weighted energy and
30 band energies are kept (about 5 MB for an hour), never the audio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aural.dsp.limiter import TruePeakMeter

from .bands import band_matrix

#: Loudness and spectrum are kept per tick: the 100 ms hop of BS.1770 gating blocks.
TICK_SECONDS = 0.1
_TICKS_PER_BLOCK = 4                 # a 400 ms gating block


class LoudnessMeter:
    """Streaming BS.1770-4 integrated loudness (the same numbers as
    :func:`aural.dsp.loudness.integrated_loudness` on the whole signal)."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        from aural.dsp.loudness import _channel_weights, k_filter_sos

        self.sample_rate, self.channels = sample_rate, channels
        self._sos = k_filter_sos(sample_rate)
        self._state = np.zeros((self._sos.shape[0], channels, 2))
        self._weights = _channel_weights(channels)
        self.tick = max(1, int(round(TICK_SECONDS * sample_rate)))
        self._pending = np.zeros(0)               # power of samples not yet in a whole tick
        self._ticks: list[np.ndarray] = []
        self.samples = 0

    def push(self, block: np.ndarray) -> None:
        """Measure one ``(channels, n)`` block."""
        from scipy.signal import sosfilt

        block = np.asarray(block, dtype=np.float64).reshape(self.channels, -1)
        if block.shape[1] == 0:
            return
        self.samples += block.shape[1]
        weighted, self._state = sosfilt(self._sos, block, axis=-1, zi=self._state)
        power = np.concatenate([self._pending,
                                np.einsum("c,cn,cn->n", self._weights, weighted, weighted)])
        whole = (len(power) // self.tick) * self.tick
        if whole:
            self._ticks.append(power[:whole].reshape(-1, self.tick).sum(axis=1))
        self._pending = power[whole:]

    def tick_energies(self) -> np.ndarray:
        """Channel-weighted K-weighted energy of every whole tick so far."""
        return np.concatenate(self._ticks) if self._ticks else np.zeros(0)

    def tick_lufs(self) -> np.ndarray:
        """Loudness of every whole tick on its own (LUFS, ``-inf`` for silent ticks)."""
        from aural.dsp.loudness import _to_lufs

        return _to_lufs(self.tick_energies() / self.tick)

    def loudness(self, tick_scale: np.ndarray | None = None) -> float:
        """Integrated loudness in LUFS (``-inf``: silence). ``tick_scale`` multiplies each
        whole tick's energy: the loudness predicted after a filter that scales them so."""
        from aural.dsp.loudness import _gated_mean_lufs

        ticks = self.tick_energies()
        scale = np.ones(len(ticks)) if tick_scale is None else np.asarray(tick_scale)
        ticks = ticks * scale
        if self.samples == 0:
            return float("-inf")
        window = self.tick * _TICKS_PER_BLOCK
        if self.samples < window:
            rest = float(self._pending.sum()) * (float(scale.mean()) if len(scale) else 1.0)
            return _gated_mean_lufs(np.array([(ticks.sum() + rest) / self.samples]))
        sums = np.convolve(ticks, np.ones(_TICKS_PER_BLOCK), mode="valid")
        return _gated_mean_lufs(np.maximum(sums, 0.0) / window)


#: A backwards-compatible name (aural.data.preprocess streams loudness through it).
Analysis = LoudnessMeter


@dataclass(frozen=True)
class AnalysisResult:
    """What pass 1 measured."""

    sample_rate: int
    channels: int
    samples: int
    loudness_lufs: float
    true_peak_dbtp: float
    band_energies: np.ndarray       # (ticks, N_BINS): below, third-octave bands, above
    power: np.ndarray               # long-term mean power per FFT bin, (n_fft // 2 + 1,)
    n_fft: int
    meter: LoudnessMeter

    def loudness_after(self, band_power_gain: np.ndarray) -> float:
        """Integrated loudness predicted after a filter whose power gain in each of the
        N_BINS bins (K-weighted) is ``band_power_gain``: each tick's energy is scaled by
        the gain averaged over that tick's own spectrum."""
        energies = self.band_energies.astype(np.float64)
        k_gain = self._k_band_gain()
        k_weighted = energies @ k_gain
        filtered = energies @ (k_gain * band_power_gain)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(k_weighted > 0, filtered / k_weighted, 1.0)
        ticks = len(self.meter.tick_energies())
        # Audio shorter than a tick has one spectrum (of what there is) and no whole tick.
        return self.meter.loudness(scale[:ticks] if ticks else scale)

    def _k_band_gain(self) -> np.ndarray:
        """K-weighting power gain per bin, averaged over the long-term spectrum in it."""
        from aural.dsp.loudness import k_weighting_power

        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate)
        matrix = band_matrix(self.n_fft, self.sample_rate)
        weights = self.power + 1e-30
        return (weights * k_weighting_power(freqs, self.sample_rate)) @ matrix / (weights @ matrix + 1e-30)


class MasteringAnalysis:
    """Pass 1: push ``(channels, n)`` blocks, then :meth:`result`."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate, self.channels = sample_rate, channels
        self.meter = LoudnessMeter(sample_rate, channels)
        self.peak = TruePeakMeter(channels)
        self.tick = self.meter.tick
        self.n_fft = 1 << int(np.ceil(np.log2(self.tick)))
        self._window = np.hanning(self.tick + 2)[1:-1]
        self._bands = band_matrix(self.n_fft, sample_rate)
        self._raw = np.zeros((channels, 0), np.float32)
        self._band_ticks: list[np.ndarray] = []
        self._power_sum = np.zeros(self.n_fft // 2 + 1)
        self._frames = 0

    def push(self, block: np.ndarray) -> None:
        """Measure one ``(channels, n)`` block."""
        block = np.asarray(block, dtype=np.float32).reshape(self.channels, -1)
        self.meter.push(block)
        self.peak.push(block)
        raw = np.concatenate([self._raw, block], axis=1)
        whole = (raw.shape[1] // self.tick) * self.tick
        if whole:
            self._spectra(raw[:, :whole].reshape(self.channels, -1, self.tick), self._window)
        self._raw = raw[:, whole:]

    def _spectra(self, frames: np.ndarray, window: np.ndarray) -> None:
        """Per tick (frames ``(channels, k, length)``): band energies and the power sum."""
        spectrum = np.fft.rfft(frames * window, n=self.n_fft, axis=-1)
        power = (spectrum.real ** 2 + spectrum.imag ** 2).sum(axis=0)
        self._power_sum += power.sum(axis=0)
        self._frames += power.shape[0]
        self._band_ticks.append((power @ self._bands).astype(np.float32))

    def result(self) -> AnalysisResult:
        """The measurements so far."""
        if self._frames == 0 and self._raw.shape[1] > 1:
            # Shorter than one tick: its only spectrum is over what there is.
            length = self._raw.shape[1]
            self._spectra(self._raw[:, np.newaxis, :], np.hanning(length + 2)[1:-1])
        bands = (np.concatenate(self._band_ticks) if self._band_ticks
                 else np.zeros((0, self._bands.shape[1]), np.float32))
        return AnalysisResult(self.sample_rate, self.channels, self.meter.samples,
                              self.meter.loudness(), self.peak.dbtp(), bands,
                              self._power_sum / max(self._frames, 1), self.n_fft, self.meter)


def analyse(audio: np.ndarray, sample_rate: int, *, block_seconds: float = 10.0) -> AnalysisResult:
    """Pass 1 over an in-memory ``(channels, samples)`` array."""
    audio = np.atleast_2d(audio)
    analysis = MasteringAnalysis(sample_rate, audio.shape[0])
    step = max(int(block_seconds * sample_rate), 1)
    for start in range(0, audio.shape[1], step):
        analysis.push(audio[:, start:start + step])
    return analysis.result()

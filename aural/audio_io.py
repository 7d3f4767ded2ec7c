"""Reading, resampling and atomically writing audio: the only module that touches audio files.

Audio inside AURAL is always ``float32`` with shape ``(channels, samples)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from aural.atomic import atomic_file
from aural.errors import AuralError

#: Extensions we read. libsndfile 1.2 decodes all four (MP3 through mpg123).
READABLE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")
#: Extensions we write, with their libsndfile container names.
WRITABLE_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
#: Bit depths a user may ask for and their libsndfile subtypes.
SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header without decoding it."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str
    missing_seconds: float = 0.0    # how much shorter the data is than the header says

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / float(self.sample_rate)


def _check_readable_path(path: Path) -> None:
    import stat

    if not path.exists():
        raise AuralError("no such file", path=path)
    if path.is_dir():
        raise AuralError("is a folder, expected an audio file", path=path)
    mode = path.stat().st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a device")
        raise AuralError(f"is {kind}, not a file; save the audio to a file first", path=path)
    if path.stat().st_size == 0:
        raise AuralError("file is empty", path=path)
    if not os.access(path, os.R_OK):
        raise AuralError("file is not readable (permission denied)", path=path)


def _wav_declared_frames(path: Path) -> int | None:
    """Frames a RIFF/WAVE header says its data chunk holds (None if not a plain WAV)."""
    import struct

    try:
        with open(path, "rb") as handle:
            riff, _, wave = handle.read(4), handle.read(4), handle.read(4)
            if riff != b"RIFF" or wave != b"WAVE":
                return None
            block_align = None
            while True:
                header = handle.read(8)
                if len(header) < 8:
                    return None
                chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
                if chunk == b"fmt ":
                    fmt = handle.read(size + (size & 1))
                    block_align = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else None
                elif chunk == b"data":
                    if not block_align or size in (0, 0xFFFFFFFF):
                        return None  # streamed WAVs leave the size open
                    return size // block_align
                else:
                    handle.seek(size + (size & 1), 1)
    except OSError:
        return None


def audio_info(path: str | Path) -> AudioInfo:
    """Read the header of ``path``; raise :class:`AuralError` if it is not audio we can read."""
    path = Path(path)
    _check_readable_path(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AuralError(f"not a readable audio file ({_short(exc)})", path=path) from None
    declared = _wav_declared_frames(path) if str(info.format) == "WAV" else None
    missing = max(declared - int(info.frames), 0) / float(info.samplerate) if declared else 0.0
    return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames),
                     str(info.format), str(info.subtype), missing)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    # libsndfile prefixes its messages with the path in quotes; keep the reason only.
    return text.split(": ", 1)[-1] if "Error opening" in text else text


def load_audio(path: str | Path, *, sample_rate: int | None = None, mono: bool = False,
               start: float = 0.0, duration: float | None = None) -> tuple[np.ndarray, int]:
    """Decode an audio file to ``float32`` ``(channels, samples)``.

    Parameters
    ----------
    path: WAV, FLAC, OGG or MP3, 8 to 192 kHz, any channel count and sample format.
    sample_rate: resample to this rate (``None`` keeps the file's rate).
    mono: average the channels into one.
    start, duration: read only this excerpt, in seconds.

    Returns the audio and its sample rate. Raises :class:`AuralError` for anything
    that is not finite, non-empty audio at a supported rate.

    Example
    -------
    >>> audio, rate = load_audio("memo.wav", sample_rate=48000, mono=True)  # doctest: +SKIP
    """
    info = audio_info(path)
    path = info.path
    if info.sample_rate < MIN_SAMPLE_RATE or info.sample_rate > MAX_SAMPLE_RATE:
        raise AuralError(f"sample rate {info.sample_rate} Hz is outside the supported "
                         f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz", path=path)
    first = int(round(start * info.sample_rate))
    count = -1 if duration is None else int(round(duration * info.sample_rate))
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True, start=first,
                             frames=count)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AuralError(f"could not decode audio ({_short(exc)})", path=path) from None
    if data.shape[0] == 0:
        raise AuralError("contains no samples", path=path)
    audio = np.ascontiguousarray(data.T)
    if not np.all(np.isfinite(audio)):
        raise AuralError("contains NaN or infinite samples", path=path)
    if mono and audio.shape[0] > 1:
        audio = audio.mean(axis=0, keepdims=True)
    if sample_rate is not None and sample_rate != rate:
        audio = resample(audio, rate, sample_rate)
        rate = sample_rate
    return audio, int(rate)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample ``(channels, samples)`` or ``(samples,)`` audio with soxr's very-high-quality filter."""
    if from_rate == to_rate:
        return audio.astype(np.float32, copy=False)
    import soxr  # local: keeps `aural --help` light

    was_1d = audio.ndim == 1
    frames = np.atleast_2d(audio).T.astype(np.float32, copy=False)
    out = soxr.resample(frames, from_rate, to_rate, quality="VHQ")
    out = np.ascontiguousarray(np.atleast_2d(out.T), dtype=np.float32)
    return out[0] if was_1d else out


def as_channels_first(audio: np.ndarray) -> np.ndarray:
    """Return ``audio`` as float32 ``(channels, samples)``; 1-D input becomes one channel."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        return audio[np.newaxis, :]
    if audio.ndim != 2:
        raise AuralError(f"audio must be 1-D or (channels, samples), got shape {audio.shape}")
    return audio


def _tpdf_dither_16bit(audio: np.ndarray, seed: int = 0) -> np.ndarray:
    # Triangular dither of +-1 LSB decorrelates the 16-bit rounding error from the signal,
    # so quiet fades end in faint hiss instead of distortion.
    rng = np.random.default_rng(seed)
    lsb = 1.0 / 32768.0
    noise = (rng.random(audio.shape, dtype=np.float32) - rng.random(audio.shape, dtype=np.float32))
    return audio + noise * lsb


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when two paths name the same file (after resolving links)."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_output_path(path: str | Path, *, bit_depth: str = "24",
                      protect: tuple[str | Path, ...] = ()) -> Path:
    """Refuse, with a clear error, an output we cannot or must not write."""
    path = Path(path)
    for keep in protect:
        if same_file(path, keep):
            raise AuralError("output path is the same as the input; choose another name", path=path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_FORMATS:
        raise AuralError(f"cannot write '{suffix or 'no extension'}'; use .wav or .flac", path=path)
    if bit_depth not in SUBTYPES:
        raise AuralError(f"bit depth must be one of {', '.join(SUBTYPES)}, got {bit_depth!r}")
    if suffix == ".flac" and bit_depth == "float":
        raise AuralError("FLAC stores integers only; use --bit-depth 16 or 24", path=path)
    if path.is_dir():
        raise AuralError("is a folder, expected an output file name", path=path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise AuralError("output folder does not exist", path=folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AuralError("output folder is not writable", path=folder)
    return path


def save_audio(path: str | Path, audio: np.ndarray, sample_rate: int, *, bit_depth: str = "24",
               protect: tuple[str | Path, ...] = ()) -> Path:
    """Write ``audio`` to ``path`` (WAV or FLAC) atomically.

    The samples go to a temporary file in the target folder, which is renamed over
    ``path`` only once it is complete, so an interrupted run never leaves a
    half-written file. ``bit_depth`` is ``"16"`` (with TPDF dither), ``"24"`` or
    ``"float"`` (WAV only). ``protect`` lists input files that must never be
    overwritten.
    """
    path = check_output_path(path, bit_depth=bit_depth, protect=protect)
    suffix = path.suffix.lower()

    audio = as_channels_first(audio)
    if not np.all(np.isfinite(audio)):
        raise AuralError("refusing to write NaN or infinite samples", path=path)
    if bit_depth == "16":
        # Quantise here rather than in libsndfile: it scales floats by 32767 on write but
        # by 1/32768 on read, a gain error of up to half an LSB on every round trip.
        data = np.clip(np.round(_tpdf_dither_16bit(audio) * 32768.0), -32768, 32767)
        data = data.astype(np.int16).T
    elif bit_depth == "24":
        data = np.clip(audio, -1.0, 1.0 - 2.0 ** -23).T
    else:
        data = audio.T

    try:
        with atomic_file(path) as temp:
            sf.write(str(temp), data, int(sample_rate), subtype=SUBTYPES[bit_depth],
                     format=WRITABLE_FORMATS[suffix])
    except (OSError, sf.LibsndfileError, RuntimeError) as exc:
        raise AuralError(f"could not write audio ({_short(exc)})", path=path) from None
    return path


def read_blocks(path: str | Path, *, seconds: float = 10.0):
    """Decode ``path`` piece by piece: ``(channels, n)`` float32 blocks of about ``seconds``,
    each checked for NaN and infinite samples (memory stays flat however long the file)."""
    rate = audio_info(path).sample_rate
    for chunk in sf.blocks(str(path), blocksize=max(int(seconds * rate), 1), dtype="float32",
                           always_2d=True):
        chunk = np.ascontiguousarray(chunk.T)
        if not np.all(np.isfinite(chunk)):
            raise AuralError("contains NaN or infinite samples", path=path)
        yield chunk

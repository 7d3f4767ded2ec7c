"""Turning raw recordings into what training reads (DESIGN.md section 4).

For every audio file under an input folder (recursively) :func:`preprocess` writes

- ``<out_root>/uncompressed/<relative path>.wav``: decoded, mono (or one file per
  channel, ``<name>.ch<N>.wav``), resampled and loudness-normalised audio;
- ``<out_root>/preprocessed/<relative path>.npy``: its log-mel spectrogram
  ``(frames, n_mels)`` in dB (:func:`aural.dsp.bands.log_mel_spectrogram`);
- ``<out_root>/preprocessed/manifest.json``: one entry per input file (see
  :func:`preprocess`).

It is idempotent: a file whose content hash and settings match its manifest entry,
and whose outputs still exist, is skipped. Files that cannot be read are reported,
never fatal.

In paired mode the input folder holds ``studio/`` and ``phone/``; files are matched by
their path without extension (``studio/m2/take1.wav`` <-> ``phone/m2/take1.m4a``), the
phone take is aligned to the studio one (:mod:`aural.data.alignment`) and the pair is
kept only when the alignment passes its threshold.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from aural import PIPELINE_SAMPLE_RATE
from aural.atomic import atomic_file
from aural.audio_io import (MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, READABLE_EXTENSIONS, load_audio,
                            resample, save_audio)
from aural.errors import AuralError
from aural.hashing import sha256_file

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
UNCOMPRESSED = "uncompressed"
PREPROCESSED = "preprocessed"
STUDIO, PHONE = "studio", "phone"


@dataclass(frozen=True)
class PreprocessSettings:
    """Everything that decides the outputs; a change re-processes every file."""

    sample_rate: int = PIPELINE_SAMPLE_RATE
    per_channel: bool = False
    target_lufs: float = -23.0
    n_mels: int = 80
    n_fft: int = 1024
    bit_depth: str = "float"
    paired: bool = False
    max_lag_seconds: float = 1.0

    def validate(self) -> None:
        """Raise :class:`AuralError` for settings that cannot work."""
        if not MIN_SAMPLE_RATE <= self.sample_rate <= MAX_SAMPLE_RATE:
            raise AuralError(f"sample rate must be between {MIN_SAMPLE_RATE} and "
                             f"{MAX_SAMPLE_RATE} Hz, got {self.sample_rate}")
        if not -70.0 <= self.target_lufs <= 0.0:
            raise AuralError(f"target loudness must be between -70 and 0 LUFS, "
                             f"got {self.target_lufs}")
        if not 1 <= self.n_mels <= self.n_fft // 2 + 1:
            raise AuralError(f"n_mels must be between 1 and {self.n_fft // 2 + 1}, "
                             f"got {self.n_mels}")
        if self.n_fft < 16 or self.n_fft % 2:
            raise AuralError(f"n_fft must be an even number >= 16, got {self.n_fft}")
        if self.bit_depth not in ("float", "24"):
            raise AuralError(f"bit depth must be 'float' or '24', got {self.bit_depth!r}")
        if self.max_lag_seconds <= 0:
            raise AuralError(f"max lag must be positive, got {self.max_lag_seconds}")

    def key(self) -> str:
        """Short hash of the settings, stored with each manifest entry."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Problem:
    """A file or pair that produced no output, and why."""

    path: str
    reason: str


@dataclass
class PreprocessReport:
    """What one :func:`preprocess` run did."""

    processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)          # unreadable or unusable files
    rejected_pairs: list[Problem] = field(default_factory=list)  # no partner, or no alignment
    ignored: list[str] = field(default_factory=list)             # not audio (by extension)
    audio_seconds: float = 0.0                                   # of the processed files
    wall_seconds: float = 0.0
    manifest_path: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every audio file (and pair) found was processed or skipped."""
        return not self.failed and not self.rejected_pairs


# ----------------------------------------------------------------------------- helpers

def find_audio_files(folder: str | Path, *,
                     exclude: Iterable[Path] = ()) -> tuple[list[Path], list[Path]]:
    """Audio files (by extension) under ``folder``, recursively and sorted, and the other files.

    Hidden files and folders (``.name``, e.g. half-written ``.part`` files) are left out,
    as is anything under ``exclude``.
    """
    folder = Path(folder)
    excluded = [Path(p).resolve() for p in exclude]
    audio: list[Path] = []
    other: list[Path] = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (root_path / d).resolve() not in excluded)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = root_path / name
            (audio if path.suffix.lower() in READABLE_EXTENSIONS else other).append(path)
    return sorted(audio), sorted(other)


def _save_features(path: Path, features: np.ndarray) -> None:
    with atomic_file(path) as temp, open(temp, "wb") as handle:
        np.save(handle, features, allow_pickle=False)


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest; a missing or unreadable one counts as empty (everything is redone)."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"version": MANIFEST_VERSION, "files": {}}
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return {"version": MANIFEST_VERSION, "files": {}}
    manifest.setdefault("files", {})
    return manifest


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` atomically as indented JSON."""
    first = ("version", "settings", "last_run")
    ordered = {key: manifest[key] for key in first if key in manifest}
    ordered.update((key, value) for key, value in manifest.items() if key not in first)
    text = json.dumps(ordered, indent=2, allow_nan=False) + "\n"
    try:
        with atomic_file(path) as temp:
            Path(temp).write_text(text)
    except OSError as exc:
        raise AuralError(f"could not write the manifest ({exc.strerror or exc})",
                         path=path) from None


def _output_stems(files: list[Path], base: Path) -> dict[Path, Path]:
    """Relative output stem per input; ``a.wav`` beside ``a.flac`` become ``a_wav``, ``a_flac``."""
    stems: dict[Path, Path] = {}
    seen: dict[Path, int] = {}
    for path in files:
        stem = path.relative_to(base).with_suffix("")
        seen[stem] = seen.get(stem, 0) + 1
    for path in files:
        rel = path.relative_to(base)
        stem = rel.with_suffix("")
        if seen[stem] > 1:
            stem = rel.with_name(rel.stem + "_" + rel.suffix.lstrip(".").lower())
        stems[path] = stem
    return stems


def _catalogue_sources() -> dict[Any, str]:
    """Speaker/song identity of the shared recordings, by resolved path and by (name, size).

    The second key recognises copies of shared files without hashing the whole
    catalogue; a (name, size) claimed by two different sources is dropped.
    """
    try:
        from aural.data.sources import catalogue

        recordings = catalogue()
    except (AuralError, OSError):
        return {}
    known: dict[Any, str] = {}
    ambiguous: set = set()
    for recording in recordings:
        try:
            known[recording.path.resolve()] = recording.source
            key = (recording.path.name, recording.path.stat().st_size)
        except OSError:
            continue
        if known.get(key, recording.source) != recording.source:
            ambiguous.add(key)
        known[key] = recording.source
    for key in ambiguous:
        del known[key]
    return known


def _source_of(path: Path, rel: Path, known: dict[Any, str]) -> str:
    """The identity used for splitting: the catalogue's when known, else the folder (or stem)."""
    try:
        found = known.get(path.resolve()) or known.get((path.name, path.stat().st_size))
    except OSError:
        found = None
    if found:
        return found
    parent = rel.parent.as_posix()
    return parent if parent != "." else rel.stem


def _outputs_exist(entry: dict[str, Any], out_root: Path) -> bool:
    outputs = entry.get("outputs") or []
    return bool(outputs) and all((out_root / o["audio"]).is_file()
                                 and (out_root / o["features"]).is_file() for o in outputs)


def _remove_outputs(entry: dict[str, Any] | None, out_root: Path) -> None:
    """Delete the files an old manifest entry lists (before re-processing or rejecting it)."""
    for output in (entry or {}).get("outputs") or []:
        for key in ("audio", "features"):
            try:
                (out_root / output[key]).unlink()
            except (OSError, KeyError, TypeError):
                pass


def _unchanged(entry: dict[str, Any] | None, sha: str, settings_key: str, out_root: Path,
               partner_sha: str | None = None) -> bool:
    return (entry is not None and entry.get("sha256") == sha
            and entry.get("settings_key") == settings_key
            and entry.get("partner_sha256") == partner_sha
            and _outputs_exist(entry, out_root))


# ----------------------------------------------------------------------------- one file

@dataclass
class _Decoded:
    path: Path
    sha256: str
    file_rate: int
    channels: int
    duration: float
    loudness_lufs: float
    signals: np.ndarray   # (outputs, samples) at the target rate: one row, or one per channel


def _decode(path: Path, sha: str, settings: PreprocessSettings) -> _Decoded:
    """Decode, measure and resample one file; raise :class:`AuralError` if unusable."""
    from aural.dsp.loudness import integrated_loudness

    audio, rate = load_audio(path)
    loudness = float(integrated_loudness(audio, rate))
    signals = audio if settings.per_channel else audio.mean(axis=0, keepdims=True)
    signals = resample(signals, rate, settings.sample_rate)
    return _Decoded(path, sha, rate, int(audio.shape[0]), audio.shape[1] / float(rate),
                    loudness, signals)


def _write_outputs(decoded: _Decoded, signals: np.ndarray, stem: Path, out_root: Path,
                   settings: PreprocessSettings) -> tuple[list[dict[str, Any]], list[int]]:
    """Normalise, save audio and features for each row of ``signals``.

    Returns the manifest rows and the indexes of silent rows, which are left out (a
    file whose every row is silent raises :class:`AuralError`).
    """
    from aural.dsp.bands import log_mel_spectrogram
    from aural.dsp.loudness import integrated_loudness, normalize_loudness

    outputs: list[dict[str, Any]] = []
    silent: list[int] = []
    for index, signal in enumerate(signals):
        name = stem.name + (f".ch{index}" if settings.per_channel else "")
        audio_rel = Path(UNCOMPRESSED) / stem.parent / (name + ".wav")
        features_rel = Path(PREPROCESSED) / stem.parent / (name + ".npy")
        normalised = normalize_loudness(signal[np.newaxis, :], settings.sample_rate,
                                        target_lufs=settings.target_lufs)
        # The gain is one scalar, so read it off the peaks instead of measuring loudness again.
        peak = int(np.argmax(np.abs(signal)))
        gain_db = (20.0 * np.log10(abs(float(normalised[0, peak])) / abs(float(signal[peak])))
                   if signal[peak] != 0 else 0.0)
        # normalize_loudness leaves silence (nothing above the -70 LUFS gate) unchanged.
        if abs(gain_db) < 1e-4 and not np.isfinite(integrated_loudness(normalised,
                                                                       settings.sample_rate)):
            silent.append(index)  # e.g. the dead channel of a mono mic in a stereo file
            continue
        before = settings.target_lufs - gain_db
        (out_root / audio_rel).parent.mkdir(parents=True, exist_ok=True)
        (out_root / features_rel).parent.mkdir(parents=True, exist_ok=True)
        save_audio(out_root / audio_rel, normalised, settings.sample_rate,
                   bit_depth=settings.bit_depth, protect=(decoded.path,))
        features = log_mel_spectrogram(normalised[0], settings.sample_rate,
                                       n_fft=settings.n_fft, n_mels=settings.n_mels)
        _save_features(out_root / features_rel, features)
        outputs.append({
            "channel": index if settings.per_channel else "mix",
            "audio": audio_rel.as_posix(),
            "features": features_rel.as_posix(),
            "samples": int(normalised.shape[-1]),
            "frames": int(features.shape[0]),
            "loudness_lufs_before": round(before, 3),
            "gain_db": round(gain_db, 3),
        })
    if not outputs:
        raise AuralError("is silent (nothing above -70 LUFS); cannot normalise its loudness",
                         path=decoded.path)
    return outputs, silent


def _entry(decoded: _Decoded, rel: Path, source: str, settings: PreprocessSettings,
           outputs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    entry = {
        "path": rel.as_posix(),
        "source_path": str(decoded.path),
        "source": source,
        "duration": round(decoded.duration, 6),
        "sample_rate": decoded.file_rate,
        "channels": decoded.channels,
        "loudness_lufs_before": (round(decoded.loudness_lufs, 3)
                                 if np.isfinite(decoded.loudness_lufs) else None),
        "sha256": decoded.sha256,
        "settings_key": settings.key(),
        "partner_sha256": None,
        "processed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "outputs": outputs,
    }
    entry.update(extra)
    return entry


# ----------------------------------------------------------------------- long files, streamed

#: Files longer than this are processed in blocks (two passes), so memory stays flat.
LONG_FILE_SECONDS = 600.0
_BLOCK_SECONDS = 10.0


def _is_long(path: Path) -> bool:
    from aural.audio_io import audio_info

    return audio_info(path).duration > LONG_FILE_SECONDS


class _MelFrames:
    """Log-mel features of a signal fed in blocks, frame for frame as
    :func:`aural.dsp.bands.log_mel_spectrogram` computes them on the whole signal."""

    def __init__(self, sample_rate: int, n_fft: int, n_mels: int, target: np.ndarray) -> None:
        from aural.dsp.bands import mel_filterbank
        from aural.dsp.stft import StftConfig

        self.config = StftConfig(n_fft=n_fft, hop=n_fft // 2)
        self.window = self.config.window()
        self.mel = mel_filterbank(sample_rate, n_fft, n_mels)
        self.buffer = np.zeros(self.config.hop, np.float32)   # stft() pads one hop in front
        self.target, self.written = target, 0

    def _emit(self) -> None:
        n, hop = self.config.n_fft, self.config.hop
        count = min((len(self.buffer) - n) // hop + 1, len(self.target) - self.written)
        if count <= 0:
            return
        frames = np.lib.stride_tricks.sliding_window_view(self.buffer, n)[::hop][:count]
        power = np.abs(np.fft.rfft(frames * self.window, axis=-1)) ** 2
        self.target[self.written:self.written + count] = 10.0 * np.log10(
            np.maximum(power @ self.mel.T, 1e-10))
        self.written += count
        self.buffer = self.buffer[count * hop:]

    def push(self, block: np.ndarray) -> None:
        self.buffer = np.concatenate([self.buffer, block.astype(np.float32)])
        self._emit()

    def finish(self) -> None:
        self.buffer = np.concatenate([self.buffer, np.zeros(2 * self.config.n_fft, np.float32)])
        self._emit()


def _stream_outputs(path: Path, sha: str, stem: Path, out_root: Path,
                    settings: PreprocessSettings) -> tuple[_Decoded, list[dict[str, Any]], list[int]]:
    """Decode, resample, normalise and write one long file in blocks: pass 1 measures the
    loudness and keeps the resampled audio in a temporary file; pass 2 applies each row's
    gain and writes the audio and its features."""
    import tempfile

    import soundfile as sf

    from aural.audio_io import audio_info, read_blocks
    from aural.mastering import Analysis
    from aural.streaming import _StreamResampler

    info = audio_info(path)
    rows = info.channels if settings.per_channel else 1
    whole = Analysis(info.sample_rate, info.channels)
    per_row = [Analysis(settings.sample_rate, 1) for _ in range(rows)]
    to_rate = _StreamResampler(info.sample_rate, settings.sample_rate, rows)
    with tempfile.TemporaryDirectory(dir=out_root / UNCOMPRESSED, prefix=".aural-preprocess-") \
            as scratch:
        resampled = Path(scratch) / "resampled.wav"
        with sf.SoundFile(str(resampled), "w", samplerate=settings.sample_rate, channels=rows,
                          subtype="FLOAT") as out:
            def keep(block: np.ndarray) -> None:
                for index, meter in enumerate(per_row):
                    meter.push(block[index:index + 1])
                if block.shape[1]:
                    out.write(block.T)

            for chunk in read_blocks(path, seconds=_BLOCK_SECONDS):
                whole.push(chunk)
                keep(to_rate(chunk if settings.per_channel else chunk.mean(axis=0, keepdims=True)))
            keep(to_rate(np.zeros((rows, 0), np.float32), last=True))
        decoded = _Decoded(path, sha, info.sample_rate, info.channels, info.duration,
                           float(whole.loudness()), np.zeros((rows, 0), np.float32))
        outputs, silent = [], []
        for index, meter in enumerate(per_row):
            loudness = meter.loudness()
            if not np.isfinite(loudness) or loudness < -70.0:
                silent.append(index)
                continue
            outputs.append(_stream_row(resampled, index, settings.target_lufs - loudness,
                                       loudness, stem, out_root, settings, decoded.path))
    if not outputs:
        raise AuralError("is silent (nothing above -70 LUFS); cannot normalise its loudness",
                         path=path)
    return decoded, outputs, silent


def _stream_row(resampled: Path, index: int, gain_db: float, before: float, stem: Path,
                out_root: Path, settings: PreprocessSettings, source: Path) -> dict[str, Any]:
    """Pass 2 for one row: gain, audio file and features, each written atomically."""
    import soundfile as sf

    from aural.audio_io import SUBTYPES, check_output_path

    name = stem.name + (f".ch{index}" if settings.per_channel else "")
    audio_rel = Path(UNCOMPRESSED) / stem.parent / (name + ".wav")
    features_rel = Path(PREPROCESSED) / stem.parent / (name + ".npy")
    for rel in (audio_rel, features_rel):
        (out_root / rel).parent.mkdir(parents=True, exist_ok=True)
    check_output_path(out_root / audio_rel, bit_depth=settings.bit_depth, protect=(source,))
    samples = sf.info(str(resampled)).frames
    n_frames = int(np.ceil((samples + settings.n_fft // 2) / (settings.n_fft // 2)))
    gain = np.float32(10.0 ** (gain_db / 20.0))
    with atomic_file(out_root / audio_rel) as audio_temp, \
            atomic_file(out_root / features_rel, suffix=".npy") as features_temp:
        features = np.lib.format.open_memmap(features_temp, mode="w+", dtype=np.float32,
                                             shape=(n_frames, settings.n_mels))
        mel = _MelFrames(settings.sample_rate, settings.n_fft, settings.n_mels, features)
        with sf.SoundFile(str(audio_temp), "w", samplerate=settings.sample_rate, channels=1,
                          subtype=SUBTYPES[settings.bit_depth], format="WAV") as out:
            for block in sf.blocks(str(resampled), blocksize=int(_BLOCK_SECONDS
                                                                 * settings.sample_rate),
                                   dtype="float32", always_2d=True):
                row = block[:, index] * gain
                out.write(np.clip(row, -1.0, 1.0 - 2.0 ** -23) if settings.bit_depth != "float"
                          else row)
                mel.push(row)
        mel.finish()
        features.flush()
        del features
    return {"channel": index if settings.per_channel else "mix", "audio": audio_rel.as_posix(),
            "features": features_rel.as_posix(), "samples": int(samples), "frames": n_frames,
            "loudness_lufs_before": round(before, 3), "gain_db": round(gain_db, 3)}


# ----------------------------------------------------------------------------- the run

def preprocess(input_dir: str | Path, out_root: str | Path,
               settings: PreprocessSettings = PreprocessSettings(), *,
               progress: bool | None = None) -> PreprocessReport:
    """Preprocess every audio file under ``input_dir`` into ``out_root`` (see the module doc).

    Parameters
    ----------
    input_dir: folder of raw recordings (searched recursively); in paired mode it must
        hold ``studio/`` and ``phone/``.
    out_root: folder that receives ``uncompressed/`` and ``preprocessed/``.
    settings: rate, channel handling, loudness target, features, pairing.
    progress: show a tqdm bar (``None``: only on a terminal).

    Each manifest entry (keyed by the path relative to ``input_dir``) holds ``path``,
    ``source`` (speaker or recording identity for splitting: the shared catalogue's
    when the file is a known shared recording, the pair name in paired mode, else its
    folder), ``duration`` (s), ``sample_rate`` and ``channels`` of the file,
    ``loudness_lufs_before`` (BS.1770 integrated), ``sha256`` of its bytes,
    ``settings_key`` and ``outputs`` (audio and feature paths relative to
    ``out_root``, with the gain applied); paired entries add ``role``, ``pair`` and
    ``alignment`` (:class:`aural.data.alignment.AlignmentResult` as a dict).

    Returns a :class:`PreprocessReport`; raises :class:`AuralError` only for problems
    with the whole run (missing input folder, unwritable output).
    """
    started = time.perf_counter()
    settings.validate()
    input_dir, out_root = Path(input_dir), Path(out_root)
    if not input_dir.is_dir():
        raise AuralError("input folder does not exist", path=input_dir)
    for sub in (UNCOMPRESSED, PREPROCESSED):
        try:
            (out_root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuralError(f"cannot create output folder ({exc.strerror or exc})",
                             path=out_root / sub) from None
    manifest_path = out_root / PREPROCESSED / MANIFEST_NAME
    manifest = load_manifest(manifest_path)
    manifest["settings"] = asdict(settings)
    report = PreprocessReport(manifest_path=manifest_path)
    exclude = [out_root / UNCOMPRESSED, out_root / PREPROCESSED]
    try:
        if settings.paired:
            _run_paired(input_dir, out_root, settings, manifest, report, exclude, progress)
        else:
            _run_files(input_dir, out_root, settings, manifest, report, exclude, progress)
    finally:
        # Written even when interrupted, so finished files are not redone next time.
        manifest["last_run"] = {
            "input_dir": str(input_dir),
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "processed": len(report.processed),
            "skipped": len(report.skipped),
            "failed": {p.path: p.reason for p in report.failed},
            "rejected_pairs": {p.path: p.reason for p in report.rejected_pairs},
        }
        write_manifest(manifest_path, manifest)
    report.wall_seconds = time.perf_counter() - started
    return report


def _progress(items: list, progress: bool | None, unit: str):
    from tqdm import tqdm

    return tqdm(items, desc="preprocess", unit=unit, dynamic_ncols=True, leave=False,
                disable=None if progress is None else not progress)


def _run_files(input_dir: Path, out_root: Path, settings: PreprocessSettings,
               manifest: dict[str, Any], report: PreprocessReport, exclude: list[Path],
               progress: bool | None) -> None:
    files, others = find_audio_files(input_dir, exclude=exclude)
    report.ignored = [p.relative_to(input_dir).as_posix() for p in others]
    stems = _output_stems(files, input_dir)
    known = _catalogue_sources()
    entries = manifest["files"]
    key = settings.key()
    for path in _progress(files, progress, "file"):
        rel = path.relative_to(input_dir)
        name = rel.as_posix()
        old = entries.get(name)
        try:
            sha = sha256_file(path)
            if _unchanged(old, sha, key, out_root):
                report.skipped.append(name)
                continue
            if _is_long(path):
                _remove_outputs(old, out_root)
                decoded, outputs, silent = _stream_outputs(path, sha, stems[path], out_root,
                                                           settings)
            else:
                decoded = _decode(path, sha, settings)
                _remove_outputs(old, out_root)
                outputs, silent = _write_outputs(decoded, decoded.signals, stems[path], out_root,
                                                 settings)
        except AuralError as exc:
            report.failed.append(Problem(name, _reason(exc, path)))
            continue
        except (OSError, ValueError, RuntimeError) as exc:  # one bad file never stops the run
            report.failed.append(Problem(name, _describe(exc)))
            continue
        entries[name] = _entry(decoded, rel, _source_of(path, rel, known), settings, outputs,
                               silent_channels=silent)
        report.processed.append(name)
        report.audio_seconds += decoded.duration


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or " ".join(str(exc).split())
    return text or type(exc).__name__


def _reason(exc: AuralError, path: Path) -> str:
    """The error's message without the path prefix (the summary prints the path itself)."""
    text = str(exc)
    prefix = f"{exc.path}: " if exc.path is not None else ""
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _run_paired(input_dir: Path, out_root: Path, settings: PreprocessSettings,
                manifest: dict[str, Any], report: PreprocessReport, exclude: list[Path],
                progress: bool | None) -> None:
    from aural.data.alignment import MIN_CORRELATION, MIN_PEAK_RATIO, align_pair, aligned_other

    missing = [name for name in (STUDIO, PHONE) if not (input_dir / name).is_dir()]
    if missing:
        raise AuralError(f"paired mode needs {STUDIO}/ and {PHONE}/ folders; "
                         f"missing {', '.join(m + '/' for m in missing)}", path=input_dir)
    sides: dict[str, dict[str, Path]] = {}
    for role in (STUDIO, PHONE):
        files, others = find_audio_files(input_dir / role, exclude=exclude)
        report.ignored += [p.relative_to(input_dir).as_posix() for p in others]
        by_key: dict[str, Path] = {}
        for path in files:
            pair = path.relative_to(input_dir / role).with_suffix("").as_posix()
            if pair in by_key:
                report.rejected_pairs.append(Problem(
                    path.relative_to(input_dir).as_posix(),
                    f"two {role} files for pair '{pair}' "
                    f"(also {by_key[pair].relative_to(input_dir).as_posix()})"))
                continue
            by_key[pair] = path
        sides[role] = by_key
    # Audio elsewhere in the input folder is not part of any pair: say so.
    all_audio, _ = find_audio_files(input_dir,
                                    exclude=exclude + [input_dir / STUDIO, input_dir / PHONE])
    report.ignored += [p.relative_to(input_dir).as_posix() for p in all_audio]

    entries = manifest["files"]
    key = settings.key()
    studio_files, phone_files = sides[STUDIO], sides[PHONE]
    for pair in sorted(set(studio_files) ^ set(phone_files)):
        role, other_role = (STUDIO, PHONE) if pair in studio_files else (PHONE, STUDIO)
        path = sides[role][pair]
        name = path.relative_to(input_dir).as_posix()
        report.rejected_pairs.append(Problem(name, f"no {other_role} partner named '{pair}'"))
        _remove_outputs(entries.pop(name, None), out_root)

    for pair in _progress(sorted(set(studio_files) & set(phone_files)), progress, "pair"):
        paths = {STUDIO: studio_files[pair], PHONE: phone_files[pair]}
        rels = {role: p.relative_to(input_dir) for role, p in paths.items()}
        names = {role: r.as_posix() for role, r in rels.items()}
        shas: dict[str, str] = {}
        for role in (STUDIO, PHONE):
            try:
                shas[role] = sha256_file(paths[role])
            except OSError as exc:
                report.failed.append(Problem(names[role], _describe(exc)))
        if len(shas) < 2:
            continue
        if all(_unchanged(entries.get(names[role]), shas[role], key, out_root, shas[partner])
               for role, partner in ((STUDIO, PHONE), (PHONE, STUDIO))):
            report.skipped += [names[STUDIO], names[PHONE]]
            continue
        decoded: dict[str, _Decoded] = {}
        for role in (STUDIO, PHONE):
            try:
                decoded[role] = _decode(paths[role], shas[role], settings)
            except AuralError as exc:
                report.failed.append(Problem(names[role], _reason(exc, paths[role])))
            except (OSError, ValueError, RuntimeError) as exc:
                report.failed.append(Problem(names[role], _describe(exc)))
        if len(decoded) < 2:
            if decoded:  # its partner is unreadable, so this one is not a usable pair either
                role = next(iter(decoded))
                report.rejected_pairs.append(Problem(names[role], "its partner could not be read"))
            for role in (STUDIO, PHONE):
                _remove_outputs(entries.pop(names[role], None), out_root)
            continue
        studio, phone = decoded[STUDIO], decoded[PHONE]
        result = align_pair(studio.signals, phone.signals, settings.sample_rate,
                            max_lag_seconds=settings.max_lag_seconds)
        if not result.ok:
            report.rejected_pairs.append(Problem(
                names[PHONE],
                f"does not align with {names[STUDIO]}: correlation {result.correlation:.3f} "
                f"(needs {MIN_CORRELATION}), peak ratio {result.peak_ratio:.2f} "
                f"(needs {MIN_PEAK_RATIO})"))
            for role in (STUDIO, PHONE):
                _remove_outputs(entries.pop(names[role], None), out_root)
            continue
        # Shift and polarity-correct the phone take onto the studio timeline; its level is
        # set by loudness normalisation below, so the fitted gain is only recorded.
        phone_signals = aligned_other(phone.signals, result, length=studio.signals.shape[-1])
        if phone_signals.shape[0] != studio.signals.shape[0]:
            # per-channel mode with different channel counts: keep the studio's count
            phone_signals = (np.repeat(phone_signals.mean(axis=0, keepdims=True),
                                       studio.signals.shape[0], axis=0)
                             .astype(np.float32))
        try:
            outputs, silent = {}, {}
            for role, signals in ((STUDIO, studio.signals), (PHONE, phone_signals)):
                _remove_outputs(entries.get(names[role]), out_root)
                outputs[role], silent[role] = _write_outputs(
                    decoded[role], signals, rels[role].with_suffix(""), out_root, settings)
        except AuralError as exc:
            report.failed.append(Problem(names[role], _reason(exc, paths[role])))
            continue
        except (OSError, ValueError, RuntimeError) as exc:
            report.failed.append(Problem(names[role], _describe(exc)))
            continue
        alignment = result.as_dict()
        for role, partner in ((STUDIO, PHONE), (PHONE, STUDIO)):
            entries[names[role]] = _entry(decoded[role], rels[role], pair, settings, outputs[role],
                                          partner_sha256=shas[partner], role=role, pair=pair,
                                          partner=names[partner], alignment=alignment,
                                          silent_channels=silent[role])
            report.processed.append(names[role])
            report.audio_seconds += decoded[role].duration

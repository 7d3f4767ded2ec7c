"""Step (a): the separated background back under the voice, in memory or from a stems file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aural.errors import AuralError

from .settings import MasteringSettings

VOICE = "voice"
_BLOCK_SECONDS = 10.0


def background_gain_db(voice_lufs: float, background_lufs: float,
                       background_db: float) -> float:
    """Gain that puts the background ``background_db`` LU relative to the voice.

    It only ever lowers the background: a faint background (or the little a separator
    leaves in it) is never pulled up, which would raise separation artefacts. Without a
    voice, the background stays as it is.
    """
    if not (np.isfinite(voice_lufs) and np.isfinite(background_lufs)):
        return 0.0
    return min(voice_lufs + background_db - background_lufs, 0.0)


def remix(stems: dict[str, np.ndarray], sample_rate: int,
          background_db: float | None) -> np.ndarray:
    """The voice plus everything else (the background) at ``background_db`` relative to the
    voice; ``None`` gives the voice alone."""
    from aural.audio_io import as_channels_first
    from aural.dsp.loudness import integrated_loudness

    if VOICE not in stems:
        raise AuralError(f"stems must include {VOICE!r}, got {', '.join(stems)}")
    voice = as_channels_first(stems[VOICE])
    others = [as_channels_first(s) for name, s in stems.items() if name != VOICE]
    if any(o.shape != voice.shape for o in others):
        raise AuralError("stems must all have the same shape")
    if background_db is None or not others:
        return voice.copy()
    background = np.sum(others, axis=0)
    gain = background_gain_db(integrated_loudness(voice, sample_rate),
                              integrated_loudness(background, sample_rate), background_db)
    return (voice + background * np.float32(10 ** (gain / 20.0))).astype(np.float32)


def _blocks(path: Path, rate: int, channels: slice | None = None):
    import soundfile as sf

    for block in sf.blocks(str(path), blocksize=int(_BLOCK_SECONDS * rate), dtype="float32",
                           always_2d=True):
        block = np.ascontiguousarray(block.T)
        yield block if channels is None else block[channels]


def remix_file(source: str | Path, target: str | Path, settings: MasteringSettings) -> None:
    """A stems file (the voice's channels, then the background's) -> a float WAV mix with the
    background at ``settings.background_db`` relative to the voice (two streaming passes)."""
    import soundfile as sf

    from aural.atomic import atomic_file
    from aural.audio_io import audio_info

    from .analysis import LoudnessMeter

    info = audio_info(source)
    rate, channels = info.sample_rate, info.channels // 2
    voice, background = slice(0, channels), slice(channels, 2 * channels)
    meters = [LoudnessMeter(rate, channels) for _ in range(2)]
    for block in _blocks(info.path, rate):
        meters[0].push(block[voice])
        meters[1].push(block[background])
    gain = 0.0 if settings.background_db is None else 10 ** (background_gain_db(
        meters[0].loudness(), meters[1].loudness(), settings.background_db) / 20.0)
    with atomic_file(target) as temp, sf.SoundFile(
            str(temp), "w", samplerate=rate, channels=channels, subtype="FLOAT",
            format="WAV") as out:
        for block in _blocks(info.path, rate):
            out.write((block[voice] + np.float32(gain) * block[background]).T)


def split_stems_file(source: str | Path, folder: str | Path, *, bit_depth: str = "24",
                     names: tuple[str, ...] = (VOICE, "background")) -> list[Path]:
    """Write each stem of a stems file as ``folder/<name>.wav`` (atomically, streaming)."""
    import soundfile as sf

    from aural.atomic import atomic_file
    from aural.audio_io import SUBTYPES, audio_info

    from .files import quantise

    info = audio_info(source)
    channels = info.channels // len(names)
    written = []
    for index, name in enumerate(names):
        target = Path(folder) / f"{name}.wav"
        with atomic_file(target) as temp, sf.SoundFile(
                str(temp), "w", samplerate=info.sample_rate, channels=channels,
                subtype=SUBTYPES[bit_depth], format="WAV") as out:
            offset = 0
            for block in _blocks(info.path, info.sample_rate,
                                 slice(index * channels, (index + 1) * channels)):
                out.write(quantise(block, bit_depth, offset).T)
                offset += block.shape[1]
        written.append(target)
    return written

"""Songs in the catalogue as separable parts: the accompaniment (every stem but the vocals,
summed) and the vocal track, each decoded at a given rate.

A song is the set of ``music`` recordings that share a ``source``; a stem whose file name
holds "vocal" is its voice, one that holds "mix" is the finished mixture (left out: it is
the sum of the others).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _songs(recordings: list[Any]) -> dict[str, list[Any]]:
    songs: dict[str, list[Any]] = {}
    for recording in recordings:
        if recording.kind == "music" and "mix" not in recording.path.stem.lower():
            songs.setdefault(recording.source, []).append(recording)
    return dict(sorted(songs.items()))


def _is_vocal(recording: Any) -> bool:
    return "vocal" in recording.path.stem.lower()


def _summed(stems: list[Any], rate: int) -> np.ndarray:
    from aural.audio_io import load_audio

    tracks = [load_audio(r.path, sample_rate=rate, mono=True)[0][0] for r in stems]
    length = min(len(t) for t in tracks)
    return np.sum([t[:length] for t in tracks], axis=0).astype(np.float32)


def accompaniments(recordings: list[Any], rate: int) -> list[tuple[str, np.ndarray, list[str]]]:
    """``(song, accompaniment, stem paths)`` for every song with stems other than vocals."""
    out = []
    for song, stems in _songs(recordings).items():
        backing = [r for r in stems if not _is_vocal(r)]
        if backing:
            out.append((song, _summed(backing, rate), [str(r.path) for r in backing]))
    return out


def separable_songs(recordings: list[Any], rate: int
                    ) -> list[tuple[str, np.ndarray, np.ndarray, list[str]]]:
    """``(song, vocals, accompaniment, stem paths)`` for every song with both, trimmed to
    the same length."""
    out = []
    for song, stems in _songs(recordings).items():
        vocal = [r for r in stems if _is_vocal(r)]
        backing = [r for r in stems if not _is_vocal(r)]
        if vocal and backing:
            voice, rest = _summed(vocal, rate), _summed(backing, rate)
            n = min(len(voice), len(rest))
            out.append((song, voice[:n], rest[:n], [str(r.path) for r in stems]))
    return out

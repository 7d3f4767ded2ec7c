"""The held-out items ``aural evaluate source_separation`` measures, built once per split.

Groups: speech over music at 0 dB (every held-out voice), speech over music at -5, +5 and
+10 dB (cycling), speech over ambience (0-10 dB, cycling), singing over accompaniment (the
held-out songs' own vocal and backing stems), and voice alone / instrumental alone (what
should come out empty must be empty). Every item carries both reference stems.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aural.data.mixing import random_excerpt, scale_to_rms_db, scale_to_snr

#: Songs separated in the test: the catalogue's held-out songs plus the MUSDB18 sample (the
#: stage never trains on it; its museval scores are the metric's known answer).
TEST_SONGS = ("ultimate_nz_tour", "musdb_music_delta_80s_rock")
#: Voice-to-background ratios (dB) beside the 0 dB set every voice is heard at.
TEST_RATIOS_DB = (-5.0, 5.0, 10.0)
UTTERANCE_SECONDS = 6.0
GCOMPRIS_SPEAKERS = 6


def _voices(recordings: list[Any], rate: int) -> list[tuple[str, np.ndarray]]:
    """Whole held-out sentences, and GCompris words of one speaker joined into utterances."""
    from aural.audio_io import load_audio

    voices, words = [], {}
    for r in recordings:
        if r.kind != "speech" or r.source.startswith("klettres_"):
            continue
        if r.source.startswith("gcompris_"):
            words.setdefault(r.source, []).append(r)
            continue
        voices.append((r.path.stem, load_audio(r.path, sample_rate=rate, mono=True)[0][0]))
    pause = np.zeros(rate // 5, np.float32)
    for speaker, clips in sorted(words.items())[:GCOMPRIS_SPEAKERS]:
        pieces, total = [], 0
        for r in clips:
            if total >= UTTERANCE_SECONDS * rate:
                break
            audio = load_audio(r.path, sample_rate=rate, mono=True)[0][0]
            pieces += [audio, pause]
            total += len(audio) + len(pause)
        voices.append((speaker, np.concatenate(pieces)[: int(UTTERANCE_SECONDS * rate)]))
    return voices


def _item(name: str, group: str, voice: np.ndarray, background: np.ndarray,
          **extra: Any) -> dict[str, Any]:
    mixture = (voice + background).astype(np.float32)
    return {"name": name, "group": group, "degraded": mixture, "reference": voice,
            "background": (mixture - voice).astype(np.float32), **extra}


def separation_items(rate: int, split: str = "test") -> list[dict[str, Any]]:
    """The items of ``split`` ("test"; "validation" for tuning), at ``rate``."""
    from aural.audio_io import load_audio
    from aural.data.songs import accompaniments, separable_songs
    from aural.data.sources import catalogue
    from aural.stages.source_separation import COLLECTIONS

    rng = np.random.default_rng(11)
    held = catalogue(split=split, kinds=("speech", "noise", "music"), collections=COLLECTIONS)
    if split == "test":
        held += [r for r in catalogue(kinds=("music",)) if r.source in TEST_SONGS
                 and r not in held]
    songs = [r for r in held if r.kind == "music"]
    music = [(name, audio) for name, audio, _ in accompaniments(songs, rate)]

    ambience = [(r.source, load_audio(r.path, sample_rate=rate, mono=True)[0][0])
                for r in held if r.kind == "noise"]
    items: list[dict[str, Any]] = []
    for k, (voice_name, voice) in enumerate(_voices(held, rate)):
        voice = scale_to_rms_db(voice, -26.0)
        n = len(voice)
        song, backing = music[k % len(music)]
        items.append(_item(f"{voice_name}+{song}@0dB", "speech over music, 0 dB", voice,
                           scale_to_snr(voice, random_excerpt(backing, n, rng), 0.0),
                           ratio_db=0.0))
        ratio = TEST_RATIOS_DB[k % len(TEST_RATIOS_DB)]
        song, backing = music[(k + 1) % len(music)]
        items.append(_item(f"{voice_name}+{song}@{ratio:g}dB", f"speech over music, {ratio:+g} dB",
                           voice, scale_to_snr(voice, random_excerpt(backing, n, rng), ratio),
                           ratio_db=ratio))
        if ambience:
            noise_name, noise = ambience[k % len(ambience)]
            ratio = (0.0, 5.0, 10.0)[k % 3]
            items.append(_item(f"{voice_name}+{noise_name}@{ratio:g}dB", "speech over ambience",
                               voice, scale_to_snr(voice, random_excerpt(noise, n, rng), ratio),
                               ratio_db=ratio))
        if k < 3:
            items.append(_item(f"{voice_name} alone", "voice alone", voice, np.zeros_like(voice)))
    for song, vocals, backing, _ in separable_songs(songs, rate):
        items.append(_item(song, "singing over accompaniment", vocals, backing, song=True))
    for song, backing in music[:3]:
        excerpt = scale_to_rms_db(backing[: 8 * rate], -20.0)
        items.append(_item(f"{song} instrumental", "instrumental alone", np.zeros_like(excerpt),
                           excerpt))
    return items


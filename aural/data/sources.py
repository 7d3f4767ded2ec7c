"""The catalogue of real recordings AURAL trains and tests on, with fixed splits.

Splits are made by speaker, song or source recording, never by cutting a file in two.
The shared recordings live in ``../shared/data`` beside the checkout (or wherever
``AURAL_SHARED_DATA`` points); extra recordings fetched from Debian packages by
``aural fetch-data`` live in ``data/external``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aural.errors import AuralError

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Recording:
    """One real recording: what it holds, who or what it comes from, and its split."""

    path: Path
    kind: str          # "speech", "noise", "music", "rir"
    source: str        # speaker, song or recording identity used for splitting
    split: str         # "train", "validation" or "test"
    origin: str        # data set and licence, for sidecars and reports


def shared_data_dir() -> Path:
    """Folder of the shared recordings (``AURAL_SHARED_DATA`` or ``../shared/data``)."""
    env = os.environ.get("AURAL_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for folder in candidates:
        if (folder / "README.md").exists() or folder.is_dir():
            return folder
    raise AuralError("shared recordings not found; set AURAL_SHARED_DATA to the folder "
                     "that holds speech/, noise/ and rir/")


def external_data_dir() -> Path:
    """Folder where ``aural fetch-data`` unpacks recordings from Debian packages."""
    return Path(os.environ.get("AURAL_EXTERNAL_DATA", REPO_ROOT / "data" / "external"))


def _speech(root: Path) -> list[Recording]:
    out: list[Recording] = []
    arctic = "CMU ARCTIC (free, attribution) via pyroomacoustics (MIT)"
    for path in sorted((root / "speech" / "cmu_arctic").glob("*.wav")):
        if "_axb_" in path.name:
            speaker, split = "arctic_axb", "test"
        elif "_aew_" in path.name:
            speaker, split = "arctic_aew", "train"
        else:
            speaker, split = "arctic_unnamed", "validation"
        out.append(Recording(path, "speech", speaker, split, arctic))
    for path in sorted((root / "speech" / "sisec2011").glob("*.wav")):
        speaker = "sisec_" + path.stem.split("_")[1]
        split = "validation" if path.stem == "dev1_male4_src_4" else "train"
        out.append(Recording(path, "speech", speaker, split, "SiSEC 2011 (research use)"))
    for path in sorted((root / "speech" / "ljspeech" / "wavs").glob("*.wav")):
        out.append(Recording(path, "speech", "ljspeech", "train", "LJ Speech (public domain)"))
    for path in sorted((root / "speech" / "misc").glob("*.wav")):
        out.append(Recording(path, "speech", path.stem, "train", "CC0 (spatialaudio)"))
    # The real pairs are test material only (shared/data/README.md).
    for path in sorted((root / "paired" / "voicebank_demand" / "clean").glob("*.wav")):
        out.append(Recording(path, "speech", "vctk_" + path.stem.split("_")[0], "test",
                             "VoiceBank-DEMAND (CC BY 4.0)"))
    dfn = root / "paired" / "deepfilternet" / "clean_freesound_33711.wav"
    if dfn.exists():
        out.append(Recording(dfn, "speech", "freesound_33711", "test", "freesound 33711 (CC BY-NC)"))
    daps = root / "paired" / "daps_excerpt" / "m2_script1_clean.wav"
    if daps.exists():
        out.append(Recording(daps, "speech", "daps_m2", "test", "DAPS (CC BY-NC 4.0)"))
    return out


def _noise(root: Path) -> list[Recording]:
    out: list[Recording] = []
    speech_commands = "Google Speech Commands background noise (CC BY 4.0)"
    for path in sorted((root / "noise").glob("*.wav")):
        split = "test" if path.stem == "running_tap" else "train"
        out.append(Recording(path, "noise", path.stem, split, speech_commands))
    dfn = root / "paired" / "deepfilternet" / "noise_freesound_573577.wav"
    if dfn.exists():
        out.append(Recording(dfn, "noise", "freesound_573577", "test", "freesound 573577 (CC0)"))
    return out


def _music(root: Path) -> list[Recording]:
    out: list[Recording] = []
    for song, split in (("bearlin_roads", "train"), ("ultimate_nz_tour", "test")):
        for path in sorted((root / "music" / "sisec2011" / song).glob("*.wav")):
            out.append(Recording(path, "music", song, split, "SiSEC 2011 (research use, credit)"))
    for path in sorted((root / "music" / "musdb18_sample" / "stems").glob("*.wav")):
        out.append(Recording(path, "music", "musdb_music_delta_80s_rock", "validation",
                             "MUSDB18 sample (research use)"))
    return out


def _rir(root: Path) -> list[Recording]:
    out: list[Recording] = []
    for path in sorted((root / "rir").glob("*.wav")):
        split = "test" if path.stem == "medium_room" else "train"
        out.append(Recording(path, "rir", path.stem, split, "OpenAIR / CC0 (see rir/)"))
    sim = sorted((root / "paired" / "deepfilternet").glob("rir_*.wav"))
    for path in sim:
        out.append(Recording(path, "rir", path.stem, "test", "DeepFilterNet assets"))
    return out


def _external(folder: Path) -> list[Recording]:
    """Recordings unpacked by ``aural fetch-data`` (absent until it has run)."""
    out: list[Recording] = []
    klettres = folder / "klettres"
    for path in sorted(klettres.glob("*/*/*.ogg")):
        language = path.parts[-3]
        split = "validation" if language == "nl" else "train"
        out.append(Recording(path, "speech", f"klettres_{language}", split,
                             "KLettres data (GPL-2+), Debian klettres-data"))
    sonic = folder / "sonic_pi"
    for path in sorted(sonic.glob("*.flac")):
        if path.stem.startswith(("ambi_", "vinyl_hiss", "loop_3d_printer", "loop_industrial",
                                 "loop_drone", "loop_safari", "loop_garzul")):
            # Two held back so validation has real noise too.
            split = "validation" if path.stem in ("vinyl_hiss", "loop_industrial") else "train"
            out.append(Recording(path, "noise", "sonic_pi_" + path.stem, split,
                                 "Sonic Pi samples (CC0), Debian sonic-pi-samples"))
    return out


#: Speakers of the GCompris voices held out, by language folder and speaker (LICENSE names).
GCOMPRIS_HELD_OUT = {"validation": ("nl", "eu"), "test": ("it", "bg")}
#: Sonic Pi samples that are music (instruments, loops), not noise; opt-in like GCompris.
SONIC_PI_MUSIC = ("guit_", "bass_", "loop_amen", "loop_breakbeat", "loop_compus", "loop_tabla",
                  "loop_mika", "loop_electric", "loop_weirdo", "tabla_", "drum_", "perc_",
                  "ambi_piano", "ambi_choir", "mehackit_")
SONIC_PI_MUSIC_HELD_OUT = {"validation": ("guit_em9", "loop_tabla"),
                           "test": ("guit_e_fifths", "loop_amen_full")}


def _gcompris_speakers(root: Path) -> dict[str, str]:
    """File (relative to the voices folder) -> speaker, read from the voices' LICENSE."""
    import re

    licence = root / "LICENSE"
    speakers: dict[str, str] = {}
    if not licence.exists():
        return speakers
    folder = None
    for line in licence.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("./"):
            folder = line.strip().rstrip(":")[2:]
            continue
        match = re.match(r"^(\S+\.ogg)\s+(.*)$", line.strip())
        if match and folder:
            who = re.split(r"\s+\d{4}|/|<|\(|,", match.group(2))[0].strip()
            if who.lower().startswith(("gpl", "http", "creative")) or not who:
                who = "unnamed"
            speakers[f"{folder}/{match.group(1)}"] = who
    return speakers


def _gcompris(root: Path) -> list[Recording]:
    """GCompris voices: words, letters and short instructions read by ~25 speakers."""
    import re

    folder = root / "speech" / "gcompris_voices"
    speakers = _gcompris_speakers(folder)
    held_languages = {language: name for name, held in GCOMPRIS_HELD_OUT.items()
                      for language in held}
    # A named speaker who also reads in a training language stays in training everywhere.
    trained = {who for rel, who in speakers.items()
               if rel.split("/")[0] not in held_languages and who != "unnamed"}
    out: list[Recording] = []
    for path in sorted(folder.glob("*/*/*.ogg")):
        if path.stat().st_size < 100:
            continue  # a symbolic link stored as text (the name of another file): no audio
        relative = path.relative_to(folder).as_posix()
        language = relative.split("/")[0]
        who = speakers.get(relative, "unnamed")
        speaker = re.sub(r"[^a-z0-9]+", "_", who.lower()).strip("_")
        split = "train" if who in trained else held_languages.get(language, "train")
        out.append(Recording(path, "speech", f"gcompris_{language}_{speaker}", split,
                             "GCompris voices (KDE; GPL 2+/3+ or CC BY-SA per file, see LICENSE)"))
    return out


def _sonic_pi_music(folder: Path) -> list[Recording]:
    out: list[Recording] = []
    for path in sorted((folder / "sonic_pi").glob("*.flac")):
        if not path.stem.startswith(SONIC_PI_MUSIC):
            continue
        split = next((name for name, held in SONIC_PI_MUSIC_HELD_OUT.items()
                      if path.stem in held), "train")
        out.append(Recording(path, "music", "sonic_pi_" + path.stem, split,
                             "Sonic Pi samples (CC0), Debian sonic-pi-samples"))
    return out


#: Fret on Fire songs held out, by song folder (each song is a backing track and its guitar).
FRETSONFIRE_HELD_OUT = {"validation": ("war_of_freedom",), "test": ("chaos_god", "armygeddon")}
#: Left out: its backing keeps a voice-like lead (the noise_reduction stage keeps it at -1.7 dB
#: median, against -4 to -11 dB for the others), which may be a voice: unsafe as background.
FRETSONFIRE_UNSURE = ("feelings",)


def _fretsonfire(folder: Path) -> list[Recording]:
    """Real band songs (Debian fretsonfire-songs-*): ``song.ogg`` + ``guitar.ogg`` per song."""
    import re

    out: list[Recording] = []
    for path in sorted((folder / "fretsonfire").glob("*/*.ogg")):
        song = re.sub(r"[^a-z0-9]+", "_", path.parent.name.lower()).strip("_")
        if song in FRETSONFIRE_UNSURE:
            continue
        split = next((name for name, held in FRETSONFIRE_HELD_OUT.items() if song in held),
                     "train")
        out.append(Recording(path, "music", "fretsonfire_" + song, split,
                             "Fret on Fire songs (Muldjord: CC BY-SA 3.0; Sectoid: GPL), Debian "
                             "fretsonfire-songs-muldjord / -sectoid"))
    return out


#: Opt-in collections: ``catalogue(collections=...)`` adds them (stages that predate them,
#: like noise_reduction, keep their data unchanged).
COLLECTIONS = {"gcompris": lambda: _gcompris(shared_data_dir()),
               "sonic_pi_music": lambda: _sonic_pi_music(external_data_dir()),
               "fretsonfire": lambda: _fretsonfire(external_data_dir())}


def catalogue(*, kinds: tuple[str, ...] | None = None, split: str | None = None,
              include_external: bool = True, collections: tuple[str, ...] = ()) -> list[Recording]:
    """All known recordings, optionally only some kinds and one split; ``collections``
    adds opt-in sets (see :data:`COLLECTIONS`)."""
    if split is not None and split not in SPLITS:
        raise AuralError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    root = shared_data_dir()
    items = _speech(root) + _noise(root) + _music(root) + _rir(root)
    if include_external:
        items += _external(external_data_dir())
    for name in collections:
        items += COLLECTIONS[name]()
    return [r for r in items
            if (kinds is None or r.kind in kinds) and (split is None or r.split == split)]

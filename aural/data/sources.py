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


def catalogue(*, kinds: tuple[str, ...] | None = None, split: str | None = None,
              include_external: bool = True) -> list[Recording]:
    """All known recordings, optionally only some kinds and one split."""
    if split is not None and split not in SPLITS:
        raise AuralError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    root = shared_data_dir()
    items = _speech(root) + _noise(root) + _music(root) + _rir(root)
    if include_external:
        items += _external(external_data_dir())
    return [r for r in items
            if (kinds is None or r.kind in kinds) and (split is None or r.split == split)]

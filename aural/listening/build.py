"""``aural listen build``: a blind listening test as a self-contained static page.

The folder it writes opens straight from disk (or ``python -m http.server``) and needs
nothing from the network:

- ``index.html``, ``app.js``, ``style.css``: the page (the same for every test);
- ``test.js``: the trials, with anonymous stimulus ids only (``window.AURAL_TEST = ...``);
- ``audio/<trial>/<id>.wav``: every stimulus, loudness-matched (BS.1770) so louder does
  not win;
- ``key.json``: which id is which system. The page never loads it: system names are not
  in the page or its source; ``aural listen results`` reads it to decode the answers.

Input is either an evaluation folder (``aural evaluate pipeline`` writes
``audio/<item>/<system>.wav``, ``audio/<item>/input.wav`` and ``audio/<item>/reference.wav``)
or folders of files matched by file name (``--system NAME=DIR``, ``--reference DIR``,
``--input DIR``).

Two kinds of test: ``ab`` (pairs of systems, random order and sides, "no preference"
allowed) and ``mushra`` (ITU-R BS.1534: open reference; hidden reference, 3.5 kHz
low-pass anchor, the unprocessed input and the systems, shuffled, each scored 0-100).
"""

from __future__ import annotations

import itertools
import json
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aural.errors import AuralError

PAGE_DIR = Path(__file__).with_name("page")
#: Every stimulus is brought to this integrated loudness (peaks kept under -1 dBFS).
MATCHED_LUFS = -23.0
ANCHOR_HZ = 3500.0
HIDDEN_REFERENCE, ANCHOR, INPUT = "hidden reference", "anchor (3.5 kHz low-pass)", "input"


@dataclass
class Item:
    """One recording of the test: its reference (if any) and each system's version."""

    name: str
    reference: Path | None
    versions: dict[str, Path]          # system name -> file (the input counts as "input")


def items_from_report(folder: str | Path) -> list[Item]:
    """Items of an evaluation folder's ``audio/<item>/<system>.wav``."""
    root = Path(folder) / "audio"
    if not root.is_dir():
        raise AuralError("no audio/ folder here; run `aural evaluate pipeline` first",
                         path=folder)
    items = []
    for item in sorted(p for p in root.iterdir() if p.is_dir()):
        files = {p.stem: p for p in sorted(item.glob("*.wav"))}
        reference = files.pop("reference", None)
        if files:
            items.append(Item(item.name, reference, files))
    if not items:
        raise AuralError("the evaluation folder holds no audio items", path=root)
    return items


def items_from_folders(systems: dict[str, Path], reference: Path | None,
                       input_dir: Path | None) -> list[Item]:
    """Items from folders of files matched by name (without extension)."""
    folders = dict(systems)
    if input_dir is not None:
        folders[INPUT] = input_dir
    names: set[str] | None = None
    for folder in folders.values():
        if not Path(folder).is_dir():
            raise AuralError("not a folder", path=folder)
        stems = {p.stem for p in Path(folder).iterdir() if p.suffix.lower() in
                 (".wav", ".flac", ".ogg", ".mp3")}
        names = stems if names is None else names & stems
    if not names:
        raise AuralError("the folders share no file names (files are matched by name)")
    items = []
    for name in sorted(names):
        versions = {system: next(p for p in Path(folder).iterdir() if p.stem == name)
                    for system, folder in folders.items()}
        ref = None
        if reference is not None:
            ref = next((p for p in Path(reference).iterdir() if p.stem == name), None)
        items.append(Item(name, ref, versions))
    return items


def _matched(path: Path, rate: int = 48_000) -> np.ndarray:
    """Decoded, mono-or-stereo at ``rate``, at :data:`MATCHED_LUFS` with peaks under -1 dBFS."""
    from aural.audio_io import load_audio
    from aural.dsp.loudness import integrated_loudness

    audio, _ = load_audio(path, sample_rate=rate)
    loudness = integrated_loudness(audio, rate)
    if np.isfinite(loudness):
        audio = audio * 10 ** ((MATCHED_LUFS - loudness) / 20.0)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return (audio * min(1.0, 0.89 / peak) if peak > 0 else audio).astype(np.float32)


def _anchor(reference: np.ndarray, rate: int) -> np.ndarray:
    from aural.dsp.filters import apply_sos, butter_lowpass

    return np.stack([apply_sos(ch, butter_lowpass(ANCHOR_HZ, rate, order=8)) for ch in reference])


def _write(path: Path, audio: np.ndarray, rate: int = 48_000) -> str:
    from aural.audio_io import save_audio

    path.parent.mkdir(parents=True, exist_ok=True)
    save_audio(path, audio, rate, bit_depth="16")
    return path.as_posix()


def build_test(items: list[Item], out_dir: str | Path, *, kind: str = "mushra",
               seed: int | None = None, title: str = "AURAL listening test") -> Path:
    """Write the test folder; returns its ``index.html``."""
    if kind not in ("ab", "mushra"):
        raise AuralError(f"--kind must be 'ab' or 'mushra', got {kind!r}")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise AuralError("output folder is not empty; choose a new one", path=out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    test_id = secrets.token_hex(6)
    trials, key = (_mushra(items, out, rng) if kind == "mushra" else _ab(items, out, rng))
    payload = {"test_id": test_id, "kind": kind, "title": title, "trials": trials}
    (out / "test.js").write_text("window.AURAL_TEST = " + json.dumps(payload, indent=1) + ";\n")
    (out / "key.json").write_text(json.dumps({"test_id": test_id, "kind": kind, "ids": key},
                                             indent=1) + "\n")
    for name in ("index.html", "app.js", "style.css"):
        shutil.copyfile(PAGE_DIR / name, out / name)
    return out / "index.html"


def _token(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list("abcdefghjkmnpqrstuvwxyz23456789"), 6))


def _mushra(items: list[Item], out: Path, rng: np.random.Generator) -> tuple[list, dict]:
    trials, key = [], {}
    for index, item in enumerate(items):
        if item.reference is None:
            raise AuralError(f"MUSHRA needs a reference for every item; {item.name} has none "
                             "(use --kind ab)")
        folder = out / "audio" / f"t{index + 1:02d}"
        reference = _matched(item.reference)
        stimuli = {HIDDEN_REFERENCE: reference, ANCHOR: _anchor(reference, 48_000)}
        stimuli.update({system: _matched(path) for system, path in item.versions.items()})
        entries = []
        for system in rng.permutation(list(stimuli)):
            token = _token(rng)
            key[f"t{index + 1:02d}/{token}"] = {"system": str(system), "item": item.name}
            entries.append({"id": token, "file": f"audio/t{index + 1:02d}/{token}.wav"})
            _write(folder / f"{token}.wav", stimuli[system])
        _write(folder / "reference.wav", reference)
        trials.append({"trial": f"t{index + 1:02d}", "reference": f"audio/t{index + 1:02d}/"
                       "reference.wav", "stimuli": entries})
    return trials, key


def _ab(items: list[Item], out: Path, rng: np.random.Generator) -> tuple[list, dict]:
    trials, key = [], {}
    pairs = [(item, a, b) for item in items
             for a, b in itertools.combinations(sorted(item.versions), 2)]
    for number, index in enumerate(rng.permutation(len(pairs))):
        item, a, b = pairs[index]
        if rng.random() < 0.5:
            a, b = b, a
        trial = f"t{number + 1:02d}"
        entries = []
        for side, system in (("A", a), ("B", b)):
            token = _token(rng)
            key[f"{trial}/{token}"] = {"system": system, "item": item.name, "side": side}
            entries.append({"id": token, "file": f"audio/{trial}/{token}.wav"})
            _write(out / "audio" / trial / f"{token}.wav", _matched(item.versions[system]))
        trials.append({"trial": trial, "stimuli": entries})
    return trials, key

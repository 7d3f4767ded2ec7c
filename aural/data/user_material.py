"""A user's own recordings as training material: what ``aural preprocess`` wrote.

``aural train STAGE --data DIR`` reads ``DIR/preprocessed/manifest.json`` (DIR is the
output root of ``aural preprocess``, or its ``preprocessed/`` folder). Plain recordings
are clean material for the stage's own damage; paired-mode entries (``studio/`` and
``phone/`` takes, already aligned by preprocess) are real training pairs used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aural.errors import AuralError


@dataclass
class RealPair:
    """One aligned studio/phone recording pair at the stage's rate."""

    name: str
    phone: np.ndarray
    studio: np.ndarray


@dataclass
class UserMaterial:
    """Clean recordings and real pairs from one or more preprocess output folders."""

    clean: list[np.ndarray] = field(default_factory=list)
    pairs: list[RealPair] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def split_pairs(self, every: int = 5) -> tuple[list[RealPair], list[RealPair]]:
        """(train, validation): every ``every``-th pair (at least one, if there are two or
        more) is held out, so fine-tuning is judged on takes it did not learn from."""
        if len(self.pairs) < 2:
            return list(self.pairs), []
        held = set(range(len(self.pairs) - 1, -1, -every))
        return ([p for i, p in enumerate(self.pairs) if i not in held],
                [p for i, p in enumerate(self.pairs) if i in held])


def _manifest_path(folder: Path) -> Path:
    for candidate in (folder / "preprocessed" / "manifest.json", folder / "manifest.json"):
        if candidate.exists():
            return candidate
    raise AuralError("no preprocess manifest here; run `aural preprocess` on your recordings "
                     "first and pass its output folder", path=folder)


def load_user_material(folders: list[str | Path], sample_rate: int) -> UserMaterial:
    """Read every folder's manifest and decode its audio at ``sample_rate`` (mono)."""
    import json

    from aural.audio_io import load_audio

    material = UserMaterial()
    for folder in map(Path, folders):
        manifest_path = _manifest_path(folder)
        root = manifest_path.parent.parent
        entries = json.loads(manifest_path.read_text()).get("files", {})
        takes: dict[str, dict[str, np.ndarray]] = {}
        for name, entry in sorted(entries.items()):
            for output in entry.get("outputs", []):
                path = root / output["audio"]
                audio = load_audio(path, sample_rate=sample_rate, mono=True)[0][0]
                material.files.append(str(path))
                role = entry.get("role")
                if role in ("studio", "phone"):
                    takes.setdefault(f"{entry['pair']}/{output['channel']}", {})[role] = audio
                else:
                    material.clean.append(audio)
        for pair, sides in sorted(takes.items()):
            if len(sides) == 2:
                n = min(len(sides["studio"]), len(sides["phone"]))
                material.pairs.append(RealPair(pair, sides["phone"][:n], sides["studio"][:n]))
    if not material.clean and not material.pairs:
        raise AuralError("the preprocess output holds no recordings", path=folders[0])
    return material

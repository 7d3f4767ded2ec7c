"""The record of a batch run's finished outputs, so a rerun after a crash skips them.

One JSON line per finished output, appended (and flushed to disk) as each file is done,
in ``OUT_DIR/aural-manifest.jsonl``. A line says which input, at which size and
modification time, was regenerated with which settings; a rerun skips an output only
when all three still match and the output is there. A line cut short by a crash is
ignored, so at worst that one file is done again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

MANIFEST_NAME = "aural-manifest.jsonl"


def _identity(input_path: Path) -> dict[str, Any]:
    stat = input_path.stat()
    return {"input": str(input_path.resolve()), "input_bytes": stat.st_size,
            "input_mtime_ns": stat.st_mtime_ns}


class Manifest:
    """Finished outputs under ``folder`` for one set of settings (``settings_key``)."""

    def __init__(self, folder: Path, settings_key: str) -> None:
        self.folder, self.settings_key = Path(folder), settings_key
        self.path = self.folder / MANIFEST_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self._torn = False          # the file ends inside a line (a crash mid-append)
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return
        self._torn = bool(text) and not text.endswith("\n")
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                self.entries[entry["output"]] = entry
            except (json.JSONDecodeError, KeyError, TypeError):
                continue

    def _key(self, output_path: Path) -> str:
        return str(Path(output_path).resolve().relative_to(self.folder.resolve()))

    def finished(self, input_path: Path, output_path: Path) -> bool:
        """Whether ``output_path`` was made from this very input with these settings."""
        entry = self.entries.get(self._key(output_path))
        if entry is None or entry.get("settings") != self.settings_key:
            return False
        if not Path(output_path).exists() or not Path(input_path).exists():
            return False
        return all(entry.get(k) == v for k, v in _identity(Path(input_path)).items())

    def record(self, input_path: Path, output_path: Path, report: dict[str, Any]) -> None:
        """Append the line for a finished output and push it to disk before going on."""
        entry = {"output": self._key(output_path), **_identity(Path(input_path)),
                 "settings": self.settings_key,
                 "duration_seconds": report.get("duration_seconds"),
                 "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.entries[entry["output"]] = entry
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(("\n" if self._torn else "") + json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._torn = False

"""Content hashes: of files (model integrity, idempotent preprocessing) and of file lists."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(paths: list[str]) -> str:
    """sha256 of a sorted list of file paths (which recordings a model was trained on)."""
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()

"""Content hashes: of files (model integrity, idempotent preprocessing), of file lists, and of
signals (cache keys)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


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


def signals_key(*signals: np.ndarray) -> str:
    """Hex digest of the signals' samples: a cache key for work done on those signals."""
    digest = hashlib.blake2b()
    for signal in signals:
        digest.update(np.ascontiguousarray(signal).tobytes())
    return digest.hexdigest()

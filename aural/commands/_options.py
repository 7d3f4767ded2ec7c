"""Option parsing shared by the stage commands (kept free of heavy imports)."""

from __future__ import annotations

import json
from typing import Any

from aural.errors import AuralError


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("max_minutes=5", "network={...}")`` -> dict; values are JSON, else strings."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise AuralError(f"--set expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    return overrides


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up chatter on the user's terminal.

    TF_CPP_MIN_LOG_LEVEL hides most of it, but the oneDNN notice is written by native
    code before logging is set up, so stderr's file descriptor is muted for the import.
    """
    import os
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or os.environ.get("AURAL_DEBUG"):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401  (imports tensorflow)
    finally:
        os.dup2(saved, 2)
        os.close(saved)

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
    """Silence TensorFlow's start-up chatter before it is imported."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

"""The one exception type users see: its message is printed as a single line."""

from __future__ import annotations

from pathlib import Path


class AuralError(Exception):
    """A problem the user can act on (bad input, unwritable output, missing model).

    The CLI prints ``error: <message>`` and exits non-zero; no traceback.
    """

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        text = f"{self.path}: {message}" if self.path is not None else message
        super().__init__(" ".join(text.split()))

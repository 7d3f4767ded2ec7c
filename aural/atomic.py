"""Atomic file creation: write to a temporary file in the target folder, then rename.

Every file AURAL writes (audio, models, sidecars, reports) goes through here, so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aural.errors import AuralError


def _current_umask() -> int:
    mask = os.umask(0o022)  # the only way to read the umask is to set it
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | Path, *, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    If the body raises, the temporary file is removed and the exception propagates.
    ``suffix`` lets writers that choose a format by extension (Keras) see the right one.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError as exc:
        raise AuralError(f"cannot create a file in the output folder ({exc.strerror or exc})",
                         path=folder) from None
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        # mkstemp creates the file owner-only (0600); give it the mode a plain open() would.
        os.chmod(temp, 0o666 & ~_current_umask())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

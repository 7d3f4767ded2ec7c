"""Atomic file creation: write to a temporary file in the target folder, then rename.

Every file AURAL writes (audio, models, sidecars, reports) goes through here, so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aural.errors import AuralError
from aural.termination import raise_if_received


#: Marks our temporary files, with the writer's process id: ``.NAME.aural-PID-XXXX.part``.
TAG = "aural-"
_STALE = re.compile(r"^\..+\." + TAG + r"(\d+)-[^/]*$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete temporary files of ours in ``folder`` whose writing process is gone (a run
    killed with SIGKILL cannot clean up after itself; the next run does)."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


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
    remove_stale_temporaries(folder)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.{TAG}{os.getpid()}-",
                                             suffix=suffix, dir=folder)
    except OSError as exc:
        raise AuralError(f"cannot create a file in the output folder ({exc.strerror or exc})",
                         path=folder) from None
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        raise_if_received()  # a signal's swallowed KeyboardInterrupt must not publish the file
        # mkstemp creates the file owner-only (0600); give it the mode a plain open() would.
        os.chmod(temp, 0o666 & ~_current_umask())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

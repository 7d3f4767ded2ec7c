"""The Ray actor of ``aural regenerate --cluster``: one worker process, one model load,
any number of files.

A worker regenerates into its own machine's scratch space (with the same atomic writing
as single-machine mode) and then publishes the finished file into the shared output
folder under a temporary name of its own, renamed into place. It does not write
single-machine temporaries there because their clean-up recognises a dead writer by its
process id, which means nothing on another machine: a worker would delete the file
another machine is still writing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

#: Marks a file being published into the output folder; the driver removes leftovers.
PUBLISH_TAG = ".aural-cluster-"
#: A worker's scratch folders on its machine, named with its process id.
SCRATCH_PREFIX = "aural-cluster-"


def one_line(exc: BaseException) -> str:
    """An exception as the one line a user sees."""
    from aural.errors import AuralError

    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, AuralError) else f"internal error: {text}"


def publish(local: Path, final: Path) -> None:
    """Copy a finished file into the shared folder and rename it into place (atomic on
    that filesystem); on any failure nothing is left there."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{final.name}{PUBLISH_TAG}{uuid.uuid4().hex}.part")
    try:
        shutil.copyfile(local, temp)
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Delete files a killed worker was publishing into ``folder`` (call when no worker
    of the run is left)."""
    for leftover in folder.glob(f".*{PUBLISH_TAG}*.part"):
        leftover.unlink(missing_ok=True)


def remove_dead_workers_scratch() -> None:
    """Delete the scratch folders of workers on this machine that are gone: a killed worker
    cannot clean up after itself, so the next one to start here does."""
    from aural.atomic import _alive

    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(SCRATCH_PREFIX):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


class RegenerateWorker:
    """Holds a :class:`aural.regenerate.Regenerator` for the life of its process."""

    def __init__(self, settings: Any) -> None:
        from aural.commands._options import quiet_tensorflow

        remove_dead_workers_scratch()
        quiet_tensorflow()
        from aural.regenerate import Regenerator

        self.problem: str | None = None
        self.stems_dir = settings.stems_dir     # shared; each file's stems go there at the end
        try:
            self.regenerator = Regenerator(settings)
        except Exception as exc:  # noqa: BLE001 - told to the driver, which stops the run
            self.regenerator, self.problem = None, one_line(exc)

    def describe(self) -> dict[str, Any]:
        """Which stages this worker skips, or why it cannot work."""
        skipped = ([f"{name}: {why}" for name, why in self.regenerator.unavailable]
                   if self.regenerator else [])
        return {"problem": self.problem, "unavailable": skipped}

    def regenerate(self, input_path: str, output_path: str) -> dict[str, Any]:
        """Regenerate one file; a failure comes back as ``{"error": ...}``, never raised."""
        final = Path(output_path)
        try:
            with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as scratch:
                local, stems = Path(scratch) / final.name, Path(scratch) / "stems"
                self.regenerator.settings.stems_dir = stems if self.stems_dir else None
                report = self._regenerate_in(scratch, input_path, local)
                for stem in sorted(stems.rglob("*.*")):   # written only when separation ran
                    publish(stem, self.stems_dir / stem.relative_to(stems))
                publish(local, final)
        except Exception as exc:  # noqa: BLE001 - one file's failure must not end the worker
            return {"input": input_path, "error": one_line(exc)}
        report["output"] = str(final)
        return report

    def _regenerate_in(self, scratch: str, input_path: str, local: Path) -> dict[str, Any]:
        # The Regenerator's own temporary files go inside this file's scratch folder too,
        # so that a worker killed mid-file leaves one folder that names its process.
        tempfile.tempdir = scratch
        try:
            return self.regenerator.regenerate_file(input_path, local)
        finally:
            tempfile.tempdir = None

"""``aural regenerate IN_DIR OUT_DIR --cluster``: folder mode with Ray workers.

The driver (this process) lists the work, skips what is done, hands files to workers
(:mod:`aural.cluster.scheduler`), writes the manifest line of each finished output as
it comes back, and says where the run stands. It loads no model itself. Every node must
see IN_DIR and OUT_DIR at the same paths (a shared filesystem) and have AURAL installed.
Files are the unit of work: a long file runs whole on one worker (mastering measures the
whole recording before it processes it, so its segments could not be finished apart).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from aural import __version__
from aural.cluster.manifest import Manifest
from aural.cluster.progress import Progress
from aural.cluster.scheduler import Job, dispatch
from aural.cluster.session import connect, shutdown
from aural.cluster.worker import RegenerateWorker, remove_leftovers

#: A worker process's environment. Ray limits OpenMP (and with it numpy's BLAS) to an
#: actor's CPUs; the sums of BLAS and of TensorFlow's kernels are split by thread count, so
#: only the threading of a plain run (every core, as an empty value means) gives output
#: byte-identical to single-machine mode. Idle BLAS threads sleep at once instead of
#: spinning (the shortest OPENBLAS_THREAD_TIMEOUT), which leaves the cores to the other
#: workers and changes no result (measured: 20 one-minute files in 30 s instead of 47 s).
WORKER_ENVIRONMENT = {"env_vars": {"OMP_NUM_THREADS": "", "OPENBLAS_THREAD_TIMEOUT": "4"}}


def settings_key(settings: Any) -> str:
    """A short fingerprint of the settings (and AURAL's version) outputs were made with."""
    text = json.dumps({"version": __version__, **asdict(settings)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _absolute_paths(settings: Any) -> Any:
    """The settings with their paths absolute: workers do not share this process's folder."""
    return replace(settings, **{name: Path(value).resolve() for name in ("reference", "stems_dir")
                                if (value := getattr(settings, name)) is not None})


class ClusterRun:
    """One batch run: ``reports()`` yields a report per file as it finishes (skipped ones
    first); ``progress`` counts what the workers have done."""

    def __init__(self, address: str, settings: Any, jobs: list[tuple[Path, Path, bool]],
                 output_root: Path, notice: Callable[[str], None]) -> None:
        self.address, self.notice = address, notice
        self.settings = _absolute_paths(settings)
        self.manifest = Manifest(output_root, settings_key(self.settings))
        self.skipped = [(i, o) for i, o, skip in jobs if skip or self.manifest.finished(i, o)]
        done = set(self.skipped)
        self.todo = [Job(str(i.resolve()), str(o.resolve())) for i, o, _ in jobs
                     if (i, o) not in done]
        self.progress = Progress(len(self.todo))

    def reports(self) -> Iterator[dict[str, Any]]:
        """Regenerate what is left; yield one report per file."""
        for input_path, output_path in self.skipped:
            yield {"input": str(input_path), "output": str(output_path), "skipped": True}
        if not self.todo:
            return
        import ray

        cpus = connect(self.address)
        workers = min(cpus, len(self.todo))
        self.notice(f"Ray cluster {self.address}: {cpus} CPUs, {workers} worker(s) for "
                    f"{len(self.todo)} file(s)")
        actor_class = ray.remote(num_cpus=1, runtime_env=WORKER_ENVIRONMENT)(RegenerateWorker)
        try:
            for job, report in dispatch(self.todo, lambda: actor_class.remote(self.settings),
                                        workers, self.notice):
                if not report.get("error"):
                    self.manifest.record(Path(job.input), Path(job.output), report)
                self.progress.add(report)
                yield report
        finally:
            shutdown()
            for folder in self._written_folders():
                remove_leftovers(folder)

    def _written_folders(self) -> set[Path]:
        """Every folder a worker may have been publishing into."""
        folders = {Path(job.output).parent for job in self.todo}
        if self.settings.stems_dir is not None:
            folders |= {self.settings.stems_dir / Path(job.output).stem for job in self.todo}
        return folders

"""Files to Ray actors, one at a time each, carrying on when a worker dies.

Each actor gets its next file when it hands back the last one, so a long file keeps one
worker busy while the others go through the short ones. When an actor dies (its process
or its whole machine), its file goes back to the front of the queue and a replacement
actor is asked for; it joins when the cluster has room for it. A file whose worker died
:data:`MAX_ATTEMPTS` times is reported as failed instead of being tried forever.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aural.cluster import import_ray
from aural.errors import AuralError

MAX_ATTEMPTS = 3
#: How long to wait for any worker at all while files are waiting and none is running.
NO_WORKER_SECONDS = 600.0


@dataclass
class Job:
    """One file to regenerate (paths as every node sees them)."""

    input: str
    output: str
    attempts: int = 0


def dispatch(jobs: list[Job], make_actor: Callable[[], Any], actors: int,
             notice: Callable[[str], None]) -> Iterator[tuple[Job, dict[str, Any]]]:
    """Run ``jobs`` on up to ``actors`` actors made by ``make_actor``; yield each job with
    its report as it finishes (in the order they finish)."""
    yield from _Dispatcher(jobs, make_actor, notice).run(actors)


class _Dispatcher:
    """The state of one :func:`dispatch`: the queue and what each actor is doing."""

    def __init__(self, jobs: list[Job], make_actor: Callable[[], Any],
                 notice: Callable[[str], None]) -> None:
        self.ray = import_ray()
        self.queue = deque(jobs)
        self.make_actor, self.notice = make_actor, notice
        self.running: dict[Any, tuple[Any, Job | None]] = {}  # ref -> (actor, job or None)
        self.told_skips = False
        self.waiting_since = time.monotonic()

    def run(self, actors: int) -> Iterator[tuple[Job, dict[str, Any]]]:
        for _ in range(min(actors, len(self.queue))):
            self._start_actor()
        try:
            while self.queue or self._busy():
                ref = self._next_finished()
                if ref is not None:
                    yield from self._collect(ref)
        finally:
            for actor, _ in self.running.values():
                self.ray.kill(actor, no_restart=True)

    def _start_actor(self) -> None:
        actor = self.make_actor()
        self.running[actor.describe.remote()] = (actor, None)   # None: not ready yet

    def _busy(self) -> bool:
        return any(job is not None for _, job in self.running.values())

    def _next_finished(self) -> Any:
        done, _ = self.ray.wait(list(self.running), num_returns=1, timeout=10.0)
        if done:
            self.waiting_since = time.monotonic()
            return done[0]
        if not self._busy() and time.monotonic() - self.waiting_since > NO_WORKER_SECONDS:
            raise AuralError(f"no Ray worker could start in {NO_WORKER_SECONDS:.0f} s; "
                             f"{len(self.queue)} files not done (rerun to finish them)")
        return None

    def _collect(self, ref: Any) -> Iterator[tuple[Job, dict[str, Any]]]:
        from ray.exceptions import RayActorError, RayError

        actor, job = self.running.pop(ref)
        try:
            result = self.ray.get(ref)
        except RayActorError:
            yield from self._lost(actor, job)
            return
        except RayError as exc:
            if job is None:
                raise AuralError(f"a Ray worker could not start ({exc})") from None
            result = {"input": job.input, "error": f"internal error: {exc}"}
        if job is None:
            self._ready(result)
        else:
            yield job, result
        self._give_work(actor)

    def _ready(self, info: dict[str, Any]) -> None:
        if info["problem"]:
            raise AuralError(info["problem"])
        if info["unavailable"] and not self.told_skips:
            self.notice("skipping " + "; ".join(info["unavailable"]))
            self.told_skips = True

    def _lost(self, actor: Any, job: Job | None) -> Iterator[tuple[Job, dict[str, Any]]]:
        """An actor died (its process or its machine): its file goes again, on another."""
        self.ray.kill(actor, no_restart=True)   # gone already, or unreachable: either way
        if job is not None:
            job.attempts += 1
            if job.attempts >= MAX_ATTEMPTS:
                yield job, {"input": job.input, "error": f"its worker died {job.attempts} times"}
            else:
                self.notice(f"a worker died while regenerating {job.input}; it goes again")
                self.queue.appendleft(job)
        if self.queue:
            self._start_actor()

    def _give_work(self, actor: Any) -> None:
        if not self.queue:
            self.ray.kill(actor)
            return
        job = self.queue.popleft()
        self.running[actor.regenerate.remote(job.input, job.output)] = (actor, job)

"""Multi-worker training: ``tf.distribute.MultiWorkerMirroredStrategy`` under the shared
training loop (:func:`aural.training.train_stage`).

Every worker runs the same loop on its own stream of examples (its own seed, so the
workers draw different examples from the same sources); gradients are averaged across
workers at each step, so every worker holds the same weights. The batch of the config is
the global batch, split evenly across the workers, so the recipe (batch size, learning
rate) is that of single-worker training. What all workers must decide alike is decided
alike: the time budget and the learning-rate schedule run on the chief's clock, read once
per step. Only the chief writes checkpoints and the model, so ``--run-dir`` must be on
storage every worker reads (for ``--resume``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aural.errors import AuralError


class Distribution:
    """Training on one worker: every hook leaves the loop as it is."""

    workers = 1
    index = 0
    is_chief = True
    final_weights: str | None = None

    def scope(self) -> contextlib.AbstractContextManager:
        """The context the model is built and trained in."""
        return contextlib.nullcontext()

    def write_dir(self, run_dir: Path) -> Path:
        """Where this worker writes checkpoints: the run folder, for the chief."""
        return run_dir

    def prepare(self, model: Any) -> None:
        """Make a compiled model trainable under this distribution."""

    def shard(self, dataset: Any) -> Any:
        """This worker's training dataset."""
        return dataset

    def seed_key(self) -> tuple[int, ...]:
        """Added to the data seed: each worker draws its own examples."""
        return ()

    def agreed_seconds(self, seconds: float) -> float:
        """The elapsed time every worker acts on."""
        return seconds

    def finished(self, model: Any) -> None:
        """Called with the last trained weights, before the best ones are loaded."""


SINGLE_WORKER = Distribution()


class MultiWorker(Distribution):
    """Training on the workers of ``TF_CONFIG``, one replica each."""

    def __init__(self, strategy: Any, task_type: str, index: int) -> None:
        self.strategy = strategy
        self.workers = strategy.num_replicas_in_sync
        cluster = strategy.cluster_resolver.cluster_spec().as_dict()
        # The chief is "chief" if the cluster names one, else worker 0 (TF's own rule).
        self.is_chief = task_type == "chief" or ("chief" not in cluster and index == 0)
        self.index = index + (1 if "chief" in cluster and task_type == "worker" else 0)
        self._scratch: tempfile.TemporaryDirectory | None = None

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        try:
            with self.strategy.scope():
                yield
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()

    def write_dir(self, run_dir: Path) -> Path:
        if self.is_chief:
            return run_dir
        # Saving weights takes part in collectives, so every worker saves when the chief
        # does; the others' copies go to a folder of their own, removed at the end.
        self._scratch = tempfile.TemporaryDirectory(prefix="aural-train-worker-")
        return Path(self._scratch.name)

    def prepare(self, model: Any) -> None:
        import tensorflow as tf

        # Keras 3.15 under this strategy: fit() first reduces one (x, y) batch as a single
        # value, which fails; a model without its own strategy builds in its first step
        # instead (fit then finds the strategy in the scope train_stage runs in).
        model._distribute_strategy = None
        # Keras averages each step's scalar logs across workers "along axis 0", which fails
        # for scalars: give them that axis.
        def with_axis(step):
            return lambda data: {k: tf.reshape(v, [1]) for k, v in step(data).items()}

        model.train_step = with_axis(model.train_step)
        model.test_step = with_axis(model.test_step)
        # Optimizer slots made now, alike on every worker, not inside the first step.
        from aural.training import optimizers

        for optimizer in optimizers(model):
            optimizer.build(model.trainable_variables)

    def shard(self, dataset: Any) -> Any:
        import tensorflow as tf

        # Each worker's generator has its own seed, so its stream is its shard: TF must
        # not split it again (it would have every worker generate all and keep 1/N).
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        return dataset.with_options(options)

    def seed_key(self) -> tuple[int, ...]:
        return (self.index,)

    def agreed_seconds(self, seconds: float) -> float:
        import tensorflow as tf

        # The chief's reading, summed with zeros from the others: one small all-reduce.
        mine = seconds if self.is_chief else 0.0
        value = self.strategy.run(lambda: tf.constant(mine, tf.float32))
        return float(self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None))

    def finished(self, model: Any) -> None:
        self.final_weights = weights_fingerprint(model)


def check_batch_size(batch_size: int, workers: int) -> None:
    """The global batch must split evenly across the workers."""
    if batch_size % workers:
        raise AuralError(f"batch_size {batch_size} does not split evenly across {workers} "
                         "workers (--set batch_size=...)")


def weights_fingerprint(model: Any) -> str:
    """sha256 of a model's weights: equal on every worker when they agree."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(weights.tobytes())
    return digest.hexdigest()[:16]


def cluster_from_environment() -> dict[str, Any] | None:
    """``TF_CONFIG`` as a dict (None when unset), checked before TensorFlow loads."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        task = config["task"]
        workers = config["cluster"]
        index, kind = int(task["index"]), str(task["type"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise AuralError("TF_CONFIG must be JSON with a cluster (worker addresses) and a task "
                         "(its type and index)") from None
    if kind not in ("chief", "worker") or index >= len(workers.get(kind, [])):
        raise AuralError(f"TF_CONFIG's task ({kind} {index}) is not in its cluster")
    return {"task_type": kind, "index": index,
            "workers": sum(len(workers.get(k, [])) for k in ("chief", "worker"))}


def from_environment(expected: int | None = None) -> Distribution:
    """The distribution ``TF_CONFIG`` asks for (one worker without it); ``expected`` is
    the ``--workers`` count the user gave, if any, which must agree with it."""
    cluster = cluster_from_environment()
    count = cluster["workers"] if cluster else 1
    if expected is not None and expected != count:
        raise AuralError(f"--workers {expected} but TF_CONFIG names {count} worker(s)")
    if count == 1:
        return SINGLE_WORKER
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return MultiWorker(strategy, cluster["task_type"], cluster["index"])

"""Training loop shared by every stage: tf.data input, validation, early stopping,
time-based checkpoints and ``--resume`` after an interruption (even ``kill -9``).

A checkpoint is one Keras weights file named by step (it holds the optimizer state
too), then a small ``state.json`` that points at it, written last and atomically; a
crash at any moment leaves the previous consistent checkpoint in place.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import keras
import numpy as np

from aural.atomic import atomic_file
from aural.cluster.multiworker import SINGLE_WORKER, Distribution
from aural.errors import AuralError
from aural.hashing import data_fingerprint
from aural.modelfile import write_json_atomic
from aural.data.user_material import RealPair, load_user_material
from aural.stages.base import Stage, TrainingPair

STATE_FILE = "state.json"


class Material:
    """What examples are drawn from: the stage's pool, plus real aligned pairs (if any)."""

    def __init__(self, pool: Any, real_pairs: list[RealPair] | None = None) -> None:
        self.pool, self.real_pairs = pool, list(real_pairs or [])


def draw_pair(stage: Stage, rng: np.random.Generator, material: Material) -> TrainingPair:
    """A real pair's excerpt (with the config's probability, when there are any), else one
    the stage makes from its pool."""
    config = stage.config
    if material.real_pairs and rng.random() < config.real_pair_probability:
        real = material.real_pairs[int(rng.integers(len(material.real_pairs)))]
        length = int(config.segment_seconds * config.sample_rate)
        start = int(rng.integers(0, max(len(real.studio) - length, 0) + 1))
        phone, studio = real.phone[start:start + length], real.studio[start:start + length]
        pad = (0, max(length - len(studio), 0))
        return TrainingPair(np.pad(phone, pad), np.pad(studio, pad))
    return stage.make_pair(rng, material.pool)


def _example(stage: Stage, rng: np.random.Generator, material: Any) -> tuple[Any, Any]:
    if not isinstance(material, Material):
        material = Material(material)
    return stage.training_example(draw_pair(stage, rng, material))


def echoed(make: Callable[[], Any], rng: np.random.Generator, echo: float, size: int
           ) -> Iterator[Any]:
    """Endless examples from ``make``, each used ``echo`` times on average.

    Data echoing (Choi et al. 2019, "Faster neural network training with data echoing"):
    when making a pair costs more than a training step (frequency_generation runs two
    shipped stages and a codec per pair), a buffer of ``size`` recent examples is drawn
    from and a fresh one replaces a random slot with probability 1/``echo``.
    """
    if echo <= 1.0:
        while True:
            yield make()
    buffer: list[Any] = []
    while True:
        if len(buffer) < size:
            buffer.append(make())
            yield buffer[-1]
        elif rng.random() < 1.0 / echo:
            slot = int(rng.integers(size))
            buffer[slot] = make()
            yield buffer[slot]
        else:
            yield buffer[int(rng.integers(size))]


def _spec(value: Any):
    import tensorflow as tf

    return tf.nest.map_structure(lambda a: tf.TensorSpec(np.shape(a), tf.float32), value)


class _Stopped(Exception):
    pass


class DataGate:
    """Stops the example generator between two examples.

    frequency_generation's examples run shipped TensorFlow models inside the tf.data
    generator; one run saved its model and never exited, its main thread waiting in the
    tf.data iterator's destructor (one py-spy dump; not reproduced), so the pipeline is
    torn down only between examples. Closing the gate waits for the example in progress
    and lets no other start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    def run(self, make: Callable[[], Any]) -> Any:
        with self._lock:
            if self._closed:
                raise _Stopped
            return make()

    def close(self) -> None:
        with self._lock:
            self._closed = True


def _dataset(stage: Stage, pool: Any, seed: int, start_step: int, shard: tuple[int, ...] = (),
             gate: DataGate | None = None):
    import tensorflow as tf

    probe = _example(stage, np.random.default_rng(0), pool)
    gate = gate or DataGate()

    def generate():
        # Seeded by the step we start at, so a resumed run draws fresh, reproducible data
        # (and by the worker, in multi-worker training, so each draws its own).
        rng = np.random.default_rng([seed, start_step, *shard])
        try:
            yield from echoed(lambda: gate.run(lambda: _example(stage, rng, pool)), rng,
                              stage.config.example_echo, stage.config.echo_buffer)
        except _Stopped:
            return

    dataset = tf.data.Dataset.from_generator(generate, output_signature=_spec(probe))
    return dataset.batch(stage.config.batch_size, drop_remainder=True).prefetch(2)


def _stacked(examples: list[Any]) -> Any:
    import tensorflow as tf

    return tf.nest.map_structure(lambda *parts: np.stack(parts), *examples)


def _validation_set(stage: Stage, material: Material) -> tuple[Any, Any, list]:
    rng = np.random.default_rng([stage.config.seed, 999])
    pairs = [draw_pair(stage, rng, material) for _ in range(stage.config.validation_examples)]
    examples = [stage.training_example(pair) for pair in pairs]
    return _stacked([e[0] for e in examples]), _stacked([e[1] for e in examples]), pairs


#: Losses a GAN trainer logs beside its reconstruction loss.
GAN_LOSSES = ("g_loss", "d_loss")


def optimizers(model: Any) -> list[Any]:
    """The optimizers of a training model: a trainer's own list, or the compiled one."""
    return list(getattr(model, "optimizers", None) or [model.optimizer])


class _Checkpointer:
    def __init__(self, run_dir: Path, write_dir: Path | None = None) -> None:
        # Read from run_dir, write to write_dir: in multi-worker training only the chief
        # writes run_dir; the others save alike (saving takes part in collectives) elsewhere.
        self.run_dir, self.write_dir = run_dir, write_dir or run_dir
        run_dir.mkdir(parents=True, exist_ok=True)

    def state(self) -> dict[str, Any] | None:
        path = self.run_dir / STATE_FILE
        return json.loads(path.read_text()) if path.exists() else None

    def save(self, model: Any, state: dict[str, Any]) -> None:
        step = state["step"]
        weights = self.write_dir / f"ckpt-{step}.weights.h5"
        model.save_weights(str(weights))
        with open(weights, "rb+") as handle:
            os.fsync(handle.fileno())
        write_json_atomic(self.write_dir / STATE_FILE, {**state, "weights": weights.name})
        for old in self.write_dir.glob("ckpt-*"):
            if old.name != weights.name:
                old.unlink(missing_ok=True)

    def restore(self, model: Any, state: dict[str, Any]) -> None:
        # The optimizers' slots are built (build_optimizer_slots), so load_weights fills them.
        model.load_weights(str(self.run_dir / state["weights"]))


def build_optimizer_slots(model: Any) -> None:
    """Create every optimizer's slots before the first step, fresh or resumed, so that each
    checkpoint holds them all: an optimizer that never steps (a GAN's discriminator one
    without the adversarial loss) otherwise saves none, and resuming warns about it."""
    if hasattr(model, "build_optimizers"):
        model.build_optimizers()
    else:
        model.optimizer.build(model.trainable_variables)


def train_stage(stage: Stage, run_dir: str | Path, *, resume: bool = False, progress: bool = True,
                log: Callable[[str], None] = print,
                distribution: Distribution = SINGLE_WORKER) -> dict[str, Any]:
    """Train ``stage`` (its config sets budget and sizes); returns a training summary.

    With ``resume`` it continues from ``run_dir``'s last checkpoint, including the
    optimizer state, step count, elapsed time and best validation result. With a
    multi-worker ``distribution`` (:mod:`aural.cluster.multiworker`) every worker calls
    this alike; only the chief writes ``run_dir``.
    """
    with distribution.scope(), single_threaded_blas():
        return _train(stage, Path(run_dir), resume, progress, log, distribution)


def single_threaded_blas() -> Any:
    """A context in which NumPy's BLAS runs on one thread.

    Examples are made while TensorFlow keeps both cores busy; OpenBLAS's own threads then
    spin against TensorFlow's and a small band-pooling matmul takes 15-24 ms instead of
    0.6 ms (measured on these 2 cores with both busy), which made data, not the network,
    the bottleneck of training.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _train(stage: Stage, run_dir: Path, resume: bool, progress: bool,
           log: Callable[[str], None], distribution: Distribution) -> dict[str, Any]:
    config = stage.config
    checkpoints = _Checkpointer(run_dir, distribution.write_dir(run_dir))
    state = checkpoints.state() if resume else None
    if resume and state is None:
        raise AuralError("nothing to resume: no checkpoint in this run folder", path=run_dir)
    if not resume and checkpoints.state() is not None:
        raise AuralError("run folder already holds a training run; use --resume or another "
                         "--run-dir", path=run_dir)
    keras.utils.set_random_seed(config.seed)

    log(f"loading {stage.name} training and validation recordings ...")
    train_pool = stage.load_training_pool("train")
    val_pool = stage.load_training_pool("validation")
    train, validation, user_files = _materials(stage, train_pool, val_pool, log)
    val_x, val_y, val_pairs = _validation_set(stage, validation)

    model = stage.training_model()
    distribution.prepare(model)
    stage.model = stage.inference_model(model)
    build_optimizer_slots(model)
    if state is not None:
        checkpoints.restore(model, state)
        log(f"resumed at step {state['step']} (epoch {state['epoch']}, "
            f"{state['elapsed_seconds'] / 60:.1f} min trained)")
    fresh = state is None
    fine_tune = fresh and _initial_weights(stage, log)
    if fresh:
        state = {"step": 0, "epoch": 0, "elapsed_seconds": 0.0, "best_val_loss": None,
                 "epochs_since_best": 0, "history": []}
    write_json_atomic(checkpoints.write_dir / "config.json",
                      {"stage": stage.name, "config": config.to_dict()})

    monitor = _Monitor(stage, checkpoints, state, (val_x, val_y, val_pairs),
                       progress=progress, log=log, clock=distribution.agreed_seconds)
    monitor.set_model(model)
    if fresh and config.init_from:
        # Where fine-tuning starts from, so its gain on the user's material is visible.
        val_loss, state["initial_score"] = monitor.measure()
        log(f"before training: {stage.score_name} {state['initial_score']:+.3f}")
        if fine_tune:
            # A fine-tune keeps the model it started from unless an epoch beats it.
            monitor.keep_if_best(val_loss, state["initial_score"])
    gate = DataGate()
    dataset = distribution.shard(_dataset(stage, train, config.seed, state["step"],
                                          distribution.seed_key(), gate))
    try:
        model.fit(dataset, steps_per_epoch=config.steps_per_epoch, epochs=config.max_epochs,
                  initial_epoch=state["epoch"], callbacks=[monitor], shuffle=False, verbose=0)
    finally:
        gate.close()
    monitor.close()
    distribution.finished(model)
    if state.get("best_epoch") == 0:
        log("no epoch beat the model training started from: that model is kept")
    best = run_dir / "best.weights.h5"
    if best.exists():
        model.load_weights(str(best))
    return {
        "steps": state["step"],
        "epochs": state["epoch"],
        "wall_minutes": round(state["elapsed_seconds"] / 60.0, 2),
        "best_val_loss": state["best_val_loss"],
        "selected_by": stage.score_name if stage.selection_metric == "score" else "val_loss",
        "best_validation_score": state.get("best_score"),
        "best_epoch": state.get("best_epoch"),
        "initial_validation_score": state.get("initial_score"),
        "history": state["history"],
        "batch_size": config.batch_size,
        "examples_seen": state["step"] * config.batch_size,
        "audio_hours_seen": round(state["step"] * config.batch_size * config.segment_seconds / 3600, 2),
        "stopped_because": state.get("stopped_because", "max_epochs"),
        "train_files": getattr(train_pool, "file_count", None),
        "train_sources": getattr(train_pool, "sources", None),
        "train_data_sha256": getattr(train_pool, "fingerprint", None),
        "validation_sources": getattr(val_pool, "sources", None),
        "user_data": list(config.user_data),
        "user_files": len(user_files),
        "user_data_sha256": data_fingerprint(user_files) if user_files else None,
        "initialised_from": config.init_from,
    }


def _materials(stage: Stage, train_pool: Any, val_pool: Any,
               log: Callable[[str], None]) -> tuple[Material, Material, list[str]]:
    """The stage's pools plus the user's preprocessed recordings (``config.user_data``):
    clean ones join the training pool; real pairs are split into training and validation."""
    if not stage.config.user_data:
        return Material(train_pool), Material(val_pool), []
    user = load_user_material(stage.config.user_data, stage.config.sample_rate)
    if user.clean:
        stage.add_user_recordings(train_pool, user.clean)
    train_pairs, val_pairs = user.split_pairs()
    log(f"your material: {len(user.clean)} clean recordings, {len(train_pairs)} real pairs for "
        f"training and {len(val_pairs)} held out for validation")
    return Material(train_pool, train_pairs), Material(val_pool, val_pairs), user.files


def _initial_weights(stage: Stage, log: Callable[[str], None]) -> bool:
    """Start from another model's weights (``init_from``: a model file, "shipped", or another
    stage's name for its shipped model):
    every layer whose name and weight shapes match is copied (transfer learning).
    True when the donor is a model of this stage (a fine-tune)."""
    from aural.modelfile import default_model_path, load_model

    source = stage.config.init_from
    if not source:
        return False
    from aural.stages import STAGES

    # "shipped": this stage's own model; a stage name: that stage's shipped model.
    named = stage.name if source == "shipped" else source if source in STAGES else None
    path = default_model_path(named) if named else Path(source)
    donor, sidecar = load_model(path)
    donor_layers = {layer.name: layer for layer in donor.layers}
    # A layer that means something else in another stage's model is left out; from this
    # stage's own model (a fine-tune) every layer carries over.
    own_model = sidecar.get("stage") == stage.name
    skip = () if own_model else stage.transfer_skip
    copied = 0
    for layer in stage.model.layers:
        other = donor_layers.get(layer.name)
        if other is None or not layer.weights or layer.name in skip:
            continue
        mine, theirs = layer.get_weights(), other.get_weights()
        if len(mine) == len(theirs) and all(a.shape == b.shape for a, b in zip(mine, theirs)):
            layer.set_weights(theirs)
            copied += 1
    log(f"initialised {copied} of {sum(1 for l in stage.model.layers if l.weights)} layers "
        f"from {path}")
    if copied == 0:
        raise AuralError("no layer of that model fits this stage's network", path=path)
    return own_model


class _Monitor(keras.callbacks.Callback):
    def __init__(self, stage, checkpoints, state, validation, *, progress, log,
                 clock: Callable[[float], float] = lambda seconds: seconds) -> None:
        super().__init__()
        self.stage, self.checkpoints, self.state = stage, checkpoints, state
        self.val_x, self.val_y, self.val_pairs = validation
        self.log, self.show, self.clock = log, progress, clock
        self.config = stage.config
        self.started = time.monotonic()
        self.base_elapsed = state["elapsed_seconds"]
        self.now = self.last_checkpoint = self.base_elapsed
        self.bar = None

    def _tick(self) -> None:
        # Read once per step and at each epoch's end; in multi-worker training every worker
        # gets the chief's reading, so all take the same decisions at the same step.
        self.now = self.clock(self.base_elapsed + time.monotonic() - self.started)

    def on_epoch_begin(self, epoch, logs=None):
        if self.show:
            from tqdm import tqdm

            self.bar = tqdm(total=self.config.steps_per_epoch, desc=f"epoch {epoch + 1}",
                            unit="step", leave=False, dynamic_ncols=True)

    def on_train_batch_begin(self, batch, logs=None):
        self._tick()
        # Cosine decay over the budget: time, or steps when max_epochs ends training first
        # (a step budget keeps an ablation fair whatever else the machine runs).
        steps = self.config.max_epochs * self.config.steps_per_epoch
        progress = min(max(self.now / (self.config.max_minutes * 60),
                           self.state["step"] / steps), 1.0)
        floor = self.config.final_learning_rate_fraction
        scale = floor + (1.0 - floor) * 0.5 * (1.0 + np.cos(np.pi * progress))
        for optimizer in optimizers(self.model):
            optimizer.learning_rate.assign(self.config.learning_rate * scale)

    def on_train_batch_end(self, batch, logs=None):
        self.state["step"] += 1
        if self.bar is not None:
            budget_left = max(self.config.max_minutes * 60 - self.now, 0)
            # A GAN trainer also reports its generator and discriminator losses.
            losses = {k: f"{logs[k]:.4f}" for k in ("loss", *GAN_LOSSES) if k in logs}
            self.bar.set_postfix(**losses, budget_left=f"{budget_left / 60:.1f}min")
            self.bar.update(1)
        if self.now - self.last_checkpoint > self.config.checkpoint_minutes * 60:
            self._checkpoint()
        if self.now > self.config.max_minutes * 60:
            self.state["stopped_because"] = "time budget"
            self.model.stop_training = True

    def _checkpoint(self) -> None:
        self.state["elapsed_seconds"] = self.now
        self.checkpoints.save(self.model, self.state)
        self.last_checkpoint = self.now

    def measure(self) -> tuple[float, float]:
        """The model's validation loss and the stage's validation score."""
        val_loss = float(self.model.evaluate(self.val_x, self.val_y, verbose=0, return_dict=True,
                                             batch_size=self.config.batch_size)["loss"])
        return val_loss, self.stage.validation_score(self.val_pairs)

    def keep_if_best(self, val_loss: float, improvement: float) -> bool:
        """Save the weights as the run's best when they beat the best so far: by the stage's
        own measure of what the waveform gains, or by the validation loss."""
        score = improvement if self.stage.selection_metric == "score" else -val_loss
        best = self.state.get("best_score")
        if not (best is None or (np.isfinite(score) and score > best)):
            self.state["epochs_since_best"] += 1
            return False
        self.state.update(best_score=float(score), best_val_loss=val_loss,
                          best_epoch=self.state["epoch"], epochs_since_best=0)
        with atomic_file(self.checkpoints.write_dir / "best.weights.h5",
                         suffix=".weights.h5") as temp:
            self.model.save_weights(str(temp))
        return True

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        val_loss, improvement = self.measure()
        self.state["epoch"] = epoch + 1
        improved = self.keep_if_best(val_loss, improvement)
        self._tick()
        entry = {"epoch": epoch + 1, "step": self.state["step"],
                 "loss": round(float(logs.get("loss", float("nan"))), 5),
                 "val_loss": round(val_loss, 5), "val_score": round(improvement, 3),
                 "minutes": round(self.now / 60, 2),
                 **{k: round(float(logs[k]), 5) for k in GAN_LOSSES if k in logs}}
        self.state["history"].append(entry)
        rate = self.state["step"] / max(self.now, 1e-9)
        gan = "".join(f"  {k} {entry[k]:.4f}" for k in GAN_LOSSES if k in entry)
        self.log(f"epoch {epoch + 1}: loss {entry['loss']:.4f}{gan}  val_loss {val_loss:.4f}  "
                 f"{self.stage.score_name} {improvement:+.3f}  ({rate:.2f} steps/s, "
                 f"{entry['minutes']:.1f} min){'  *best*' if improved else ''}")
        if self.state["epochs_since_best"] >= self.config.patience:
            self.state["stopped_because"] = "early stopping"
            self.model.stop_training = True
        self._checkpoint()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

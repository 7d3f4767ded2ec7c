"""Training loop shared by every stage: tf.data input, validation, early stopping,
time-based checkpoints and ``--resume`` after an interruption (even ``kill -9``).

A checkpoint is one Keras weights file named by step (it holds the optimizer state
too), then a small ``state.json`` that points at it, written last and atomically; a
crash at any moment leaves the previous consistent checkpoint in place.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np

from aural.atomic import atomic_file
from aural.errors import AuralError
from aural.modelfile import write_json_atomic
from aural.stages.base import Stage

STATE_FILE = "state.json"


def _example(stage: Stage, rng: np.random.Generator, pool: Any) -> tuple[np.ndarray, np.ndarray]:
    pair = stage.make_pair(rng, pool)
    degraded, target = stage.spectrum(pair.degraded), stage.spectrum(pair.target)
    return stage.features(degraded), stage.training_target(degraded, target)


def _dataset(stage: Stage, pool: Any, seed: int, start_step: int):
    import tensorflow as tf

    probe_x, probe_y = _example(stage, np.random.default_rng(0), pool)

    def generate():
        # Seeded by the step we start at, so a resumed run draws fresh, reproducible data.
        rng = np.random.default_rng([seed, start_step])
        while True:
            yield _example(stage, rng, pool)

    signature = (tf.TensorSpec(probe_x.shape, tf.float32), tf.TensorSpec(probe_y.shape, tf.float32))
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.batch(stage.config.batch_size, drop_remainder=True).prefetch(2)


def _validation_set(stage: Stage, pool: Any) -> tuple[np.ndarray, np.ndarray, list]:
    rng = np.random.default_rng([stage.config.seed, 999])
    pairs = [stage.make_pair(rng, pool) for _ in range(stage.config.validation_examples)]
    xs, ys = [], []
    for pair in pairs:
        degraded, target = stage.spectrum(pair.degraded), stage.spectrum(pair.target)
        xs.append(stage.features(degraded))
        ys.append(stage.training_target(degraded, target))
    return np.stack(xs), np.stack(ys), pairs


class _Checkpointer:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)

    def state(self) -> dict[str, Any] | None:
        path = self.run_dir / STATE_FILE
        return json.loads(path.read_text()) if path.exists() else None

    def save(self, model: Any, state: dict[str, Any]) -> None:
        step = state["step"]
        weights = self.run_dir / f"ckpt-{step}.weights.h5"
        model.save_weights(str(weights))
        with open(weights, "rb+") as handle:
            os.fsync(handle.fileno())
        write_json_atomic(self.run_dir / STATE_FILE, {**state, "weights": weights.name})
        for old in self.run_dir.glob("ckpt-*"):
            if old.name != weights.name:
                old.unlink(missing_ok=True)

    def restore(self, model: Any, state: dict[str, Any]) -> None:
        # Built first, the optimizer's slots are restored by load_weights too.
        model.optimizer.build(model.trainable_variables)
        model.load_weights(str(self.run_dir / state["weights"]))


def train_stage(stage: Stage, run_dir: str | Path, *, resume: bool = False, progress: bool = True,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train ``stage`` (its config sets budget and sizes); returns a training summary.

    With ``resume`` it continues from ``run_dir``'s last checkpoint, including the
    optimizer state, step count, elapsed time and best validation result.
    """
    from aural.metrics import si_sdr_db

    config = stage.config
    run_dir = Path(run_dir)
    checkpoints = _Checkpointer(run_dir)
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
    val_x, val_y, val_pairs = _validation_set(stage, val_pool)

    model = stage.build_model()
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
                  loss=stage.loss())
    stage.model = model
    if state is not None:
        checkpoints.restore(model, state)
        log(f"resumed at step {state['step']} (epoch {state['epoch']}, "
            f"{state['elapsed_seconds'] / 60:.1f} min trained)")
    state = state or {"step": 0, "epoch": 0, "elapsed_seconds": 0.0, "best_val_loss": None,
                      "epochs_since_best": 0, "history": []}
    write_json_atomic(run_dir / "config.json", {"stage": stage.name, "config": config.to_dict()})

    monitor = _Monitor(stage, checkpoints, state, (val_x, val_y, val_pairs), si_sdr_db,
                       progress=progress, log=log)
    dataset = _dataset(stage, train_pool, config.seed, state["step"])
    model.fit(dataset, steps_per_epoch=config.steps_per_epoch, epochs=config.max_epochs,
              initial_epoch=state["epoch"], callbacks=[monitor], shuffle=False, verbose=0)
    monitor.close()
    best = run_dir / "best.weights.h5"
    if best.exists():
        model.load_weights(str(best))
    return {
        "steps": state["step"],
        "epochs": state["epoch"],
        "wall_minutes": round(state["elapsed_seconds"] / 60.0, 2),
        "best_val_loss": state["best_val_loss"],
        "selected_by": stage.selection_metric,
        "best_validation_score": state.get("best_score"),
        "history": state["history"],
        "batch_size": config.batch_size,
        "examples_seen": state["step"] * config.batch_size,
        "audio_hours_seen": round(state["step"] * config.batch_size * config.segment_seconds / 3600, 2),
        "stopped_because": state.get("stopped_because", "max_epochs"),
        "train_files": getattr(train_pool, "file_count", None),
        "train_sources": getattr(train_pool, "sources", None),
        "train_data_sha256": getattr(train_pool, "fingerprint", None),
        "validation_sources": getattr(val_pool, "sources", None),
    }


class _Monitor(keras.callbacks.Callback):
    def __init__(self, stage, checkpoints, state, validation, si_sdr, *, progress, log) -> None:
        super().__init__()
        self.stage, self.checkpoints, self.state = stage, checkpoints, state
        self.val_x, self.val_y, self.val_pairs = validation
        self.si_sdr, self.log, self.show = si_sdr, log, progress
        self.config = stage.config
        self.started = time.monotonic()
        self.base_elapsed = state["elapsed_seconds"]
        self.last_checkpoint = time.monotonic()
        self.bar = None

    def _elapsed(self) -> float:
        return self.base_elapsed + time.monotonic() - self.started

    def on_epoch_begin(self, epoch, logs=None):
        if self.show:
            from tqdm import tqdm

            self.bar = tqdm(total=self.config.steps_per_epoch, desc=f"epoch {epoch + 1}",
                            unit="step", leave=False, dynamic_ncols=True)

    def on_train_batch_begin(self, batch, logs=None):
        # Cosine decay over the time budget: the budget, not an epoch count, ends training.
        progress = min(self._elapsed() / (self.config.max_minutes * 60), 1.0)
        floor = self.config.final_learning_rate_fraction
        scale = floor + (1.0 - floor) * 0.5 * (1.0 + np.cos(np.pi * progress))
        self.model.optimizer.learning_rate.assign(self.config.learning_rate * scale)

    def on_train_batch_end(self, batch, logs=None):
        self.state["step"] += 1
        if self.bar is not None:
            budget_left = max(self.config.max_minutes * 60 - self._elapsed(), 0)
            self.bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.4f}",
                                 budget_left=f"{budget_left / 60:.1f}min")
            self.bar.update(1)
        if time.monotonic() - self.last_checkpoint > self.config.checkpoint_minutes * 60:
            self._checkpoint()
        if self._elapsed() > self.config.max_minutes * 60:
            self.state["stopped_because"] = "time budget"
            self.model.stop_training = True

    def _checkpoint(self) -> None:
        self.state["elapsed_seconds"] = self._elapsed()
        self.checkpoints.save(self.model, self.state)
        self.last_checkpoint = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        val_loss = float(self.model.evaluate(self.val_x, self.val_y, verbose=0,
                                             batch_size=self.config.batch_size))
        gains = []
        for pair in self.val_pairs:
            if np.array_equal(pair.degraded, pair.target):
                continue  # a clean example: its input SI-SDR is infinite
            enhanced = self.stage.enhance(pair.degraded)
            gains.append(self.si_sdr(pair.target, enhanced) - self.si_sdr(pair.target, pair.degraded))
        improvement = float(np.mean(gains)) if gains else float("nan")
        # The kept model is the one with the best validation score: the stage's choice of
        # SI-SDR improvement (what the waveform gains) or the validation loss.
        score = improvement if self.stage.selection_metric == "si_sdr_improvement" else -val_loss
        best = self.state.get("best_score")
        improved = best is None or (np.isfinite(score) and score > best)
        if improved:
            self.state["best_score"] = float(score)
            self.state["best_val_loss"] = val_loss
            self.state["epochs_since_best"] = 0
            with atomic_file(self.checkpoints.run_dir / "best.weights.h5",
                             suffix=".weights.h5") as temp:
                self.model.save_weights(str(temp))
        else:
            self.state["epochs_since_best"] += 1
        self.state["epoch"] = epoch + 1
        entry = {"epoch": epoch + 1, "step": self.state["step"],
                 "loss": round(float(logs.get("loss", float("nan"))), 5),
                 "val_loss": round(val_loss, 5), "val_si_sdr_improvement_db": round(improvement, 2),
                 "minutes": round(self._elapsed() / 60, 2)}
        self.state["history"].append(entry)
        rate = self.state["step"] / max(self._elapsed(), 1e-9)
        self.log(f"epoch {epoch + 1}: loss {entry['loss']:.4f}  val_loss {val_loss:.4f}  "
                 f"val SI-SDR improvement {improvement:+.2f} dB  ({rate:.2f} steps/s, "
                 f"{entry['minutes']:.1f} min){'  *best*' if improved else ''}")
        if self.state["epochs_since_best"] >= self.config.patience:
            self.state["stopped_because"] = "early stopping"
            self.model.stop_training = True
        self._checkpoint()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

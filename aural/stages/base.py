"""The one ``Stage`` contract all AURAL stages share.

A stage is one object with one interface: it knows its config, builds its Keras model,
makes its own training pairs, trains, evaluates and applies. A subclass says only what
is particular to it:

- its damage and training pairs (:meth:`Stage.load_training_pool`, :meth:`Stage.make_pair`),
- what the network sees and learns from a pair (:meth:`Stage.example`),
- its network (:meth:`Stage.build_model`, the model that ships) and loss (:meth:`Stage.loss`),
  or a whole training model of its own (:meth:`Stage.training_model`, e.g. a GAN trainer),
- how the network turns one channel into its named outputs (:meth:`Stage.run_channel`),
- its test set, metrics and baselines (:meth:`Stage.test_items`, ``report_metrics``).

Shared here: config and sidecar, loading and saving, dry/wet strength, and the run-time
face the runner uses, :meth:`Stage.process` (audio and rate in; audio, or named stems, out),
which streams in overlapping blocks. Training lives in :mod:`aural.training`, evaluation in
:mod:`aural.evaluation`. Stages that work on STFT band features build on
:class:`aural.stages.spectral.SpectralStage`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from aural import __version__
from aural.errors import AuralError


@dataclass
class StageConfig:
    """Settings every stage has; a stage subclasses this to add its own."""

    sample_rate: int = 48_000
    segment_seconds: float = 2.0       # length of one training example
    batch_size: int = 16
    learning_rate: float = 1e-3
    max_minutes: float = 25.0          # training time budget
    steps_per_epoch: int = 150
    max_epochs: int = 10_000
    patience: int = 8                  # epochs without validation improvement before stopping
    final_learning_rate_fraction: float = 0.05  # cosine decay over the time budget ends here
    validation_examples: int = 48
    checkpoint_minutes: float = 2.0
    seed: int = 0
    max_files_per_kind: int | None = None  # cap on recordings loaded per kind (tiny test runs)
    init_from: str | None = None       # model file (or "shipped") whose weights start training
    user_data: list[str] = field(default_factory=list)  # `aural preprocess` outputs to add
    real_pair_probability: float = 0.5  # share of examples from real aligned pairs, if any
    augment_stretch: float = 0.0       # clean material's tempo changed by up to +-this (0.1 = 10 %)
    augment_semitones: float = 0.0     # and, independently, its pitch by up to +-this
    example_echo: float = 1.0          # each generated example used this often on average
    echo_buffer: int = 256             # examples kept for echoing (data echoing, see training)
    network: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, stored in the sidecar."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StageConfig:
        """Build from a dict, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_overrides(self, **overrides: Any) -> StageConfig:
        """A copy with some fields replaced (unknown names are an error)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise AuralError(f"unknown config field(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **overrides)


@dataclass
class TrainingPair:
    """One training example at the stage's rate: what the device recorded, and the target
    of each named output (``target`` is the first output's, for one-output stages)."""

    degraded: np.ndarray
    target: np.ndarray
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)   # side facts, e.g. the true cut-off

    def targets(self, outputs: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Target per output name: ``target`` for the first, ``stems`` for the others."""
        return {name: self.target if i == 0 else self.stems[name] for i, name in enumerate(outputs)}


class Stage(ABC):
    """Base of every AURAL stage. Subclasses set ``name`` and ``config_class`` and
    implement the abstract methods; see :mod:`aural.stages.noise_reduction`."""

    name: ClassVar[str]
    config_class: ClassVar[type[StageConfig]] = StageConfig
    description: ClassVar[str] = ""
    #: Named outputs: ("audio",) for an enhancer, e.g. ("voice", "background") for separation.
    outputs: ClassVar[tuple[str, ...]] = ("audio",)
    #: The metrics ``aural evaluate`` reports (the first one ranks the baselines).
    report_metrics: ClassVar[tuple[str, ...]] = ("si_sdr", "pesq_wb")
    #: How training picks the weights it keeps: "val_loss", or "score" (:meth:`validation_score`).
    selection_metric: ClassVar[str] = "val_loss"
    #: What :meth:`validation_score` measures, for logs and the sidecar.
    score_name: ClassVar[str] = "val SI-SDR improvement (dB)"
    #: Layers never copied when training starts from another model (``init_from``).
    transfer_skip: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: StageConfig | None = None, *, model: Any = None,
                 sidecar: dict[str, Any] | None = None) -> None:
        self.config = config if config is not None else self.config_class()
        self.model = model
        self.sidecar = sidecar or {}

    # ---- what each stage says ------------------------------------------------------------
    @abstractmethod
    def load_training_pool(self, split: str) -> Any:
        """Load (once) the recordings of ``split`` this stage makes examples from."""

    @abstractmethod
    def make_pair(self, rng: np.random.Generator, pool: Any) -> TrainingPair:
        """One random training pair of ``segment_seconds`` at the stage's rate."""

    @abstractmethod
    def example(self, pair: TrainingPair) -> tuple[Any, Any]:
        """What the network sees and what its loss compares with, for one pair."""

    @abstractmethod
    def build_model(self) -> Any:
        """A fresh, untrained Keras model: the inference model that ships as ``.h5``."""

    @abstractmethod
    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        """Process one 1-D channel at the stage's rate in one piece: output name -> signal."""

    @abstractmethod
    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """Held-out evaluation items of ``split`` ("test", or "validation" for tuning): dicts
        with ``degraded``, ``reference`` (1-D at the stage rate), ``name`` and ``group``."""

    def loss(self) -> Any:
        """The Keras loss of the default supervised training model."""
        raise NotImplementedError(f"{self.name} defines neither loss() nor training_model()")

    def item_metrics(self, item: dict[str, Any], estimate: np.ndarray) -> dict[str, float]:
        """Metrics that depend on the test item (e.g. the band it lacks); by default none."""
        return {}

    def baselines(self) -> dict[str, Any]:
        """Classical methods ``fn(degraded, rate) -> estimate`` evaluated beside the stage."""
        return {}

    def evaluated(self, degraded: np.ndarray, rate: int) -> np.ndarray:
        """What ``aural evaluate`` scores as AURAL for one 1-D test input: the first output
        of :meth:`process` (a stage that stands on earlier ones runs them first)."""
        out = self.process(degraded[np.newaxis], rate)
        return (out[self.outputs[0]] if isinstance(out, dict) else out)[0]

    def pictured_items(self, items: list[dict[str, Any]]) -> list[str]:
        """Names of the test items whose outputs :meth:`report_pictures` draws."""
        return []

    def report_pictures(self, out_dir: Path, items: dict[str, dict[str, Any]],
                        outputs: dict[str, dict[str, np.ndarray]]) -> None:
        """Stage-specific pictures for the evaluation report: ``items`` and ``outputs``
        (system -> estimate) of :meth:`pictured_items`, by item name."""

    # ---- training hooks with shared defaults ------------------------------------------------
    def training_model(self) -> Any:
        """The compiled model ``fit`` trains: by default the inference model with the stage's
        loss. A stage with its own training step (a GAN) returns a trainer model instead,
        with ``optimizers`` and ``build_optimizers()``, and overrides :meth:`inference_model`."""
        return self.compiled(self.build_model(), self.loss())

    def compiled(self, model: Any, loss: Any, **compile_options: Any) -> Any:
        """``model`` compiled with Adam at the config's learning rate (clipped gradients)."""
        import keras

        model.compile(optimizer=keras.optimizers.Adam(self.config.learning_rate, clipnorm=1.0),
                      loss=loss, **compile_options)
        return model

    def training_example(self, pair: TrainingPair) -> tuple[Any, Any]:
        """What training feeds the training model for one pair: by default :meth:`example`
        (a stage with auxiliary outputs adds their targets)."""
        return self.example(pair)

    def inference_model(self, training_model: Any) -> Any:
        """The part of the training model that runs at inference (and ships)."""
        return training_model

    def validation_score(self, pairs: list[TrainingPair]) -> float:
        """Higher is better; by default the mean SI-SDR improvement of the first output."""
        from aural.metrics import si_sdr_db

        gains = []
        for pair in pairs:
            if np.array_equal(pair.degraded, pair.target):
                continue  # a clean example: its input SI-SDR is infinite
            estimate = self.run_channel(pair.degraded)[self.outputs[0]]
            gains.append(si_sdr_db(pair.target, estimate) - si_sdr_db(pair.target, pair.degraded))
        return float(np.mean(gains)) if gains else float("nan")

    def choose_validation_metric(self, metric: str, score_names: dict[str, str]) -> None:
        """Select the validation score by ``metric``, one of ``score_names`` (metric -> what
        the training log calls the score); anything else is a clear error."""
        if metric not in score_names:
            from aural.errors import AuralError

            raise AuralError(f"validation_metric must be {' or '.join(score_names)}, "
                             f"not {metric!r}")
        self.score_name = score_names[metric]

    def pesq_wb_gain(self, pairs: list[TrainingPair]) -> float:
        """Mean PESQ-wb improvement of the first output over the input on ``pairs`` (pairs
        whose input is their target, and those PESQ cannot score, left out): a validation
        score for stages that select their weights by it."""
        from aural.hashing import signals_key
        from aural.metrics import pesq_wb

        rate, gains = self.config.sample_rate, []
        # The inputs' scores do not change between epochs: computed once per pair.
        before = self.__dict__.setdefault("_input_pesq_wb", {})
        for pair in pairs:
            if np.array_equal(pair.degraded, pair.target):
                continue
            key = signals_key(pair.degraded, pair.target)
            if key not in before:
                before[key] = pesq_wb(pair.target, pair.degraded, rate)
            estimate = self.run_channel(pair.degraded)[self.outputs[0]]
            gain = pesq_wb(pair.target, estimate, rate) - before[key]
            if np.isfinite(gain):
                gains.append(gain)
        return float(np.mean(gains)) if gains else float("nan")

    def augmented(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Clean material after the configured stretch and shift (:mod:`aural.data.augment`);
        unchanged, with no random draw, when both ranges are 0."""
        c = self.config
        if c.augment_stretch <= 0 and c.augment_semitones <= 0:
            return clean
        from aural.data.augment import stretch_and_shift

        return stretch_and_shift(clean, c.sample_rate, rng, stretch=c.augment_stretch,
                                 semitones=c.augment_semitones)

    def add_user_recordings(self, pool: Any, recordings: list[np.ndarray]) -> None:
        """Add a user's clean recordings (at the stage rate) to a training pool."""
        raise AuralError(f"the {self.name} stage cannot train on clean recordings of your own")

    # ---- run time (shared) ------------------------------------------------------------------
    def require_model(self) -> Any:
        """The loaded model, or a clear error."""
        if self.model is None:
            raise AuralError(f"the {self.name} stage has no model loaded")
        return self.model

    def dry(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        """What strength 0 gives: the input as the first output, silence for the others."""
        return {name: signal if i == 0 else np.zeros_like(signal)
                for i, name in enumerate(self.outputs)}

    def run_mixed(self, signal: np.ndarray, strength: float = 1.0) -> dict[str, np.ndarray]:
        """:meth:`run_channel` mixed with :meth:`dry` by ``strength`` (dry/wet)."""
        signal = np.asarray(signal, dtype=np.float32)
        if len(signal) == 0:
            return self.dry(signal)
        wet = self.run_channel(signal)
        if strength >= 1.0:
            return wet
        dry = self.dry(signal)
        return {name: (strength * wet[name] + (1.0 - strength) * dry[name]).astype(np.float32)
                for name in self.outputs}

    def block_function(self, strength: float = 1.0):
        """A ``(channels, n) -> (outputs * channels, n)`` function for :mod:`aural.streaming`:
        the outputs' channels stacked in the order of ``outputs``."""
        def run(block: np.ndarray) -> np.ndarray:
            per_channel = [self.run_mixed(channel, strength) for channel in block]
            return np.concatenate([np.stack([c[name] for c in per_channel])
                                   for name in self.outputs])
        return run

    def dry_block(self, block: np.ndarray) -> np.ndarray:
        """:meth:`block_function`'s layout at strength 0: the input, then silent stems."""
        return np.concatenate([block] + [np.zeros_like(block)] * (len(self.outputs) - 1))

    def streaming_sizes(self) -> dict[str, int]:
        """Block, context and cross-fade lengths in samples at the stage's rate (8 s blocks,
        0.5 s of context on each side, 10 ms cross-fades)."""
        rate = self.config.sample_rate
        return {"block": 8 * rate, "context": rate // 2, "crossfade": rate // 100}

    def process(self, audio: np.ndarray, sample_rate: int, *,
                strength: float = 1.0) -> np.ndarray | dict[str, np.ndarray]:
        """The run-time face of a stage: ``(channels, samples)`` audio at any rate in, the same
        shape and rate out, streamed in blocks. A stage with several outputs returns a dict
        ``name -> (channels, samples)``. Strength 0 returns the input's samples unchanged."""
        from aural.audio_io import as_channels_first, resample
        from aural.streaming import process_in_blocks

        check_strength(strength)
        audio = as_channels_first(np.asarray(audio, dtype=np.float32))
        if strength == 0.0:
            stems = {name: audio.copy() if i == 0 else np.zeros_like(audio)
                     for i, name in enumerate(self.outputs)}
        else:
            work = resample(audio, sample_rate, self.config.sample_rate)
            out = process_in_blocks(work, self.block_function(strength), **self.streaming_sizes())
            channels = audio.shape[0]
            stems = {name: resample(out[i * channels:(i + 1) * channels],
                                    self.config.sample_rate, sample_rate)
                     for i, name in enumerate(self.outputs)}
        return stems[self.outputs[0]] if len(self.outputs) == 1 else stems

    def apply_file(self, input_path: str | Path, output_path: str | Path, *, strength: float = 1.0,
                   output_rate: int | None = None, bit_depth: str = "24",
                   progress: bool = False) -> Any:
        """Stream a file through the stage and write the result atomically (one-output stages;
        strength 0 copies the input's samples, resampled only if ``output_rate`` asks).
        Returns a :class:`aural.streaming.StreamResult`."""
        from aural.audio_io import audio_info
        from aural.streaming import stream_file

        check_strength(strength)
        if len(self.outputs) != 1:
            raise AuralError(f"the {self.name} stage writes several stems; use apply_stems()")
        if strength == 0.0:
            rate = audio_info(input_path).sample_rate
            return stream_file(input_path, output_path, lambda block: block, process_rate=rate,
                               output_rate=output_rate, bit_depth=bit_depth, progress=progress,
                               block=rate, context=0, crossfade=0)
        self.require_model()
        return stream_file(input_path, output_path, self.block_function(strength),
                           process_rate=self.config.sample_rate, output_rate=output_rate,
                           bit_depth=bit_depth, progress=progress, **self.streaming_sizes())

    def apply_stems(self, input_path: str | Path, folder: str | Path, *, strength: float = 1.0,
                    output_rate: int | None = None, bit_depth: str = "24",
                    progress: bool = False) -> list[Path]:
        """Stream a file through a stage with several outputs and write one file per output,
        ``folder/<output>.wav`` (each atomically). Returns the paths written."""
        import tempfile

        from aural.audio_io import audio_info
        from aural.mastering import split_stems_file
        from aural.streaming import stream_file

        check_strength(strength)
        info = audio_info(input_path)
        if strength == 0.0:
            function, rate = self.dry_block, info.sample_rate
            sizes = {"block": rate, "context": 0, "crossfade": 0}
        else:
            self.require_model()
            function, rate = self.block_function(strength), self.config.sample_rate
            sizes = self.streaming_sizes()
        with tempfile.TemporaryDirectory(prefix="aural-stems-") as scratch:
            stacked = Path(scratch) / "stems.wav"
            stream_file(input_path, stacked, function, process_rate=rate, output_rate=output_rate,
                        bit_depth="float", progress=progress,
                        output_channels=info.channels * len(self.outputs), **sizes)
            Path(folder).mkdir(parents=True, exist_ok=True)
            return split_stems_file(stacked, folder, bit_depth=bit_depth, names=self.outputs)

    # ---- persistence (shared) -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> Stage:
        """Load a shipped or trained model (default ``models/<stage>/<stage>.h5``)."""
        from aural.modelfile import default_model_path, load_model

        path = Path(path) if path is not None else default_model_path(cls.name)
        model, sidecar = load_model(path)
        if sidecar.get("stage") != cls.name:
            raise AuralError(f"model is for stage {sidecar.get('stage')!r}, not {cls.name!r}",
                             path=path)
        config = cls.config_class.from_dict(sidecar.get("config", {}))
        return cls(config, model=model, sidecar=sidecar)

    def sidecar_details(self) -> dict[str, Any]:
        """Stage-specific sidecar fields (e.g. STFT and feature parameters)."""
        return {}

    def save(self, path: str | Path, *, training: dict[str, Any]) -> Path:
        """Save the inference model as float32 ``.h5`` with its sidecar (metrics are added by
        ``aural evaluate``)."""
        from aural.modelfile import save_model

        shipped = self.build_model()          # float32 copy: trained weights, no optimizer
        shipped.set_weights(self.require_model().get_weights())
        sidecar = {
            "stage": self.name,
            "aural_version": __version__,
            "description": self.description,
            "outputs": list(self.outputs),
            "sample_rate": self.config.sample_rate,
            **self.sidecar_details(),
            "config": self.config.to_dict(),
            "parameters": int(shipped.count_params()),
            "training": training,
            "metrics": self.sidecar.get("metrics", {}),
            "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        path = save_model(shipped, path, sidecar)
        self.sidecar = json.loads(Path(path).with_suffix(".json").read_text())
        return path


def check_strength(strength: float) -> None:
    """A clear error for a dry/wet strength outside [0, 1]."""
    if not 0.0 <= strength <= 1.0:
        raise AuralError(f"strength must be between 0 and 1, got {strength}")

"""The one ``Stage`` abstraction all five stages share.

A stage says only what is particular to it: the damage it repairs (how it makes a
training pair), its network, its training target and loss, and how the network's
output changes the spectrum. Everything else lives here: STFT and band features,
config and sidecar, training (via :mod:`aural.training`), evaluation (via
:mod:`aural.evaluation`) and streaming apply (via :mod:`aural.streaming`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from aural import __version__
from aural.dsp.bands import BandLayout
from aural.dsp.stft import StftConfig, istft, stft
from aural.errors import AuralError


@dataclass
class StageConfig:
    """Settings every stage has; a stage subclasses this to add its own."""

    sample_rate: int = 48_000
    n_fft: int = 960                   # 20 ms frames, 10 ms hop at 48 kHz
    linear_below_hz: float = 4000.0    # single STFT bins below, ERB bands above
    n_erb_bands: int = 31
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
    """One training example at the stage's rate: what the device recorded and the target."""

    degraded: np.ndarray
    target: np.ndarray


class Stage(ABC):
    """Base of every AURAL stage. Subclasses set ``name`` and ``config_class`` and
    implement the abstract methods; see :mod:`aural.stages.noise_reduction`."""

    name: ClassVar[str]
    config_class: ClassVar[type[StageConfig]] = StageConfig
    description: ClassVar[str] = ""
    #: Which metric ``aural evaluate`` ranks by, and the report's metric list.
    report_metrics: ClassVar[tuple[str, ...]] = ("si_sdr", "pesq_wb")
    #: How training picks the model it keeps: "val_loss" or "si_sdr_improvement" (validation).
    selection_metric: ClassVar[str] = "val_loss"

    def __init__(self, config: StageConfig | None = None, *, model: Any = None,
                 sidecar: dict[str, Any] | None = None) -> None:
        self.config = config if config is not None else self.config_class()
        self.model = model
        self.sidecar = sidecar or {}

    # ---- signal representation (shared) -------------------------------------------------
    @cached_property
    def stft_config(self) -> StftConfig:
        """Frame size and hop of this stage's STFT."""
        return StftConfig(n_fft=self.config.n_fft, hop=self.config.n_fft // 2)

    @cached_property
    def bands(self) -> BandLayout:
        """The band layout the network sees."""
        return BandLayout(self.config.sample_rate, self.config.n_fft,
                          self.config.linear_below_hz, self.config.n_erb_bands)

    def spectrum(self, signal: np.ndarray) -> np.ndarray:
        """Complex STFT ``(frames, bins)`` of a 1-D signal at the stage's rate."""
        return stft(signal, self.stft_config)

    def waveform(self, spectrum: np.ndarray, n_samples: int) -> np.ndarray:
        """Inverse of :meth:`spectrum`."""
        return istft(spectrum, n_samples, self.stft_config)

    def features(self, spectrum: np.ndarray) -> np.ndarray:
        """Network input ``(frames, features, 1)``: log band power, roughly unit-scaled."""
        power = self.bands.band_power(spectrum)
        return ((10.0 * np.log10(power + 1e-12) + 60.0) / 20.0)[..., np.newaxis].astype(np.float32)

    # ---- what each stage says ------------------------------------------------------------
    @abstractmethod
    def load_training_pool(self, split: str) -> Any:
        """Load (once) the recordings of ``split`` this stage makes examples from."""

    @abstractmethod
    def make_pair(self, rng: np.random.Generator, pool: Any) -> TrainingPair:
        """One random (degraded, target) pair of ``segment_seconds`` at the stage's rate."""

    @abstractmethod
    def build_model(self) -> Any:
        """A fresh, untrained Keras model."""

    @abstractmethod
    def training_target(self, degraded_spectrum: np.ndarray, target_spectrum: np.ndarray) -> np.ndarray:
        """What the loss compares the network output with, for one example."""

    @abstractmethod
    def loss(self) -> Any:
        """The Keras loss (a callable ``loss(y_true, y_pred)``)."""

    @abstractmethod
    def apply_output(self, spectrum: np.ndarray, output: np.ndarray, strength: float) -> np.ndarray:
        """Turn the network's output for one signal into the enhanced spectrum."""

    @abstractmethod
    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """Held-out evaluation items of ``split`` ("test", or "validation" for tuning): dicts
        with ``degraded``, ``reference`` (1-D at the stage rate), ``name`` and ``group``."""

    # ---- inference (shared) ---------------------------------------------------------------
    def require_model(self) -> Any:
        """The loaded model, or a clear error."""
        if self.model is None:
            raise AuralError(f"the {self.name} stage has no model loaded")
        return self.model

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Run the network on one signal's features ``(frames, features, channels)``."""
        model = self.require_model()
        if getattr(self, "_compiled_for", None) is not model:
            import tensorflow as tf

            # One traced graph for every length: eager calls cost more than the convolutions.
            spec = tf.TensorSpec((1, None, *model.input_shape[2:]), tf.float32)
            self._compiled = tf.function(lambda x: model(x, training=False),
                                         input_signature=[spec])
            self._compiled_for = model
        return np.asarray(self._compiled(features[np.newaxis]))[0]

    def enhance(self, signal: np.ndarray, strength: float = 1.0) -> np.ndarray:
        """Process a 1-D signal at the stage's rate in one piece."""
        if len(signal) == 0:
            return signal.astype(np.float32)
        spectrum = self.spectrum(signal)
        output = self.predict(self.features(spectrum))
        return self.waveform(self.apply_output(spectrum, output, strength), len(signal))

    def block_function(self, strength: float = 1.0):
        """A ``(channels, n) -> (channels, n)`` function for :mod:`aural.streaming`."""
        def run(block: np.ndarray) -> np.ndarray:
            return np.stack([self.enhance(channel, strength) for channel in block])
        return run

    def streaming_sizes(self) -> dict[str, int]:
        """Block, context and cross-fade lengths in samples at the stage's rate.

        All are whole numbers of STFT hops, so every block sees the same frame grid as the
        whole file would, and the context (over half a second) exceeds the network's reach.
        """
        hop = self.stft_config.hop
        hops_per_second = self.config.sample_rate / hop
        return {"block": hop * int(round(8 * hops_per_second)),
                "context": hop * int(np.ceil(0.5 * hops_per_second)),
                "crossfade": hop * 4}

    def process(self, audio: np.ndarray, sample_rate: int, *, strength: float = 1.0) -> np.ndarray:
        """Enhance in-memory ``(channels, samples)`` audio at any rate; returns the same rate."""
        from aural.audio_io import as_channels_first, resample
        from aural.streaming import process_in_blocks

        _check_strength(strength)
        audio = as_channels_first(audio)
        work = resample(audio, sample_rate, self.config.sample_rate)
        out = process_in_blocks(work, self.block_function(strength), **self.streaming_sizes())
        return resample(out, self.config.sample_rate, sample_rate)

    def apply_file(self, input_path: str | Path, output_path: str | Path, *, strength: float = 1.0,
                   output_rate: int | None = None, bit_depth: str = "24",
                   progress: bool = False) -> Path:
        """Stream a file through the stage and write the result atomically."""
        from aural.streaming import stream_file

        _check_strength(strength)
        self.require_model()
        return stream_file(input_path, output_path, self.block_function(strength),
                           process_rate=self.config.sample_rate, output_rate=output_rate,
                           bit_depth=bit_depth, progress=progress, **self.streaming_sizes())

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

    def save(self, path: str | Path, *, training: dict[str, Any]) -> Path:
        """Save the model as float32 ``.h5`` with its sidecar (metrics are added by evaluate)."""
        from aural.modelfile import save_model

        shipped = self.build_model()          # float32 copy: trained weights, no optimizer
        shipped.set_weights(self.require_model().get_weights())
        sidecar = {
            "stage": self.name,
            "aural_version": __version__,
            "description": self.description,
            "sample_rate": self.config.sample_rate,
            "stft": {"n_fft": self.stft_config.n_fft, "hop": self.stft_config.hop,
                     "window": "sqrt-hann"},
            "features": {"kind": "log band power", "linear_below_hz": self.config.linear_below_hz,
                         "n_erb_bands": self.config.n_erb_bands,
                         "n_features": self.bands.n_features},
            "config": self.config.to_dict(),
            "parameters": int(shipped.count_params()),
            "training": training,
            "metrics": self.sidecar.get("metrics", {}),
            "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        path = save_model(shipped, path, sidecar)
        self.sidecar = json.loads(Path(path).with_suffix(".json").read_text())
        return path


def _check_strength(strength: float) -> None:
    if not 0.0 <= strength <= 1.0:
        raise AuralError(f"strength must be between 0 and 1, got {strength}")

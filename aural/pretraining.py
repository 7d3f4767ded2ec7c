"""Self-supervised pre-training: a stage's band U-Net learns from unpaired audio.

Spans of frames and spans of bands of a recording's log band powers are hidden (set to 0,
the features' -60 dB level) and the network learns to fill them in from what surrounds
them: masked-spectrogram reconstruction, as in masked auto-encoders for audio. No clean and
degraded pairing is needed, so any speech or music (and the user's own recordings) teaches
it. The network has the target stage's band U-Net shape and layer names, so the target's
training starts from it with the transfer it already has (``init_from``: every layer whose
name and weight shapes match is copied)::

    aural pretrain noise_reduction            # -> models/pretrained/noise_reduction_pretrained.h5
    aural train noise_reduction --init-from models/pretrained/noise_reduction_pretrained.h5

:class:`MaskedSpectrogramPretraining` is a :class:`~aural.stages.spectral.SpectralStage`
(config, training loop, checkpoints, resume and saving are the shared ones) but not a
registered stage: it has nothing to run on audio and nothing to evaluate. Keras is imported
only when a model or the loss is built, so a bad command line is refused before TensorFlow
loads.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aural.data.mixing import joined_clips, power, random_excerpt, scale_to_rms_db
from aural.errors import AuralError
from aural.stages.base import TrainingPair
from aural.stages.spectral import SpectralConfig, SpectralStage

#: What a masked cell holds: 0 is the features' -60 dB level (see ``SpectralStage.features``).
MASKED_VALUE = 0.0
#: The target stage's config fields that fix the network and what it sees; copied over.
REPRESENTATION_FIELDS = ("sample_rate", "n_fft", "linear_below_hz", "n_erb_bands", "network",
                         "segment_seconds", "batch_size")
#: Catalogue kinds that are material to learn from (room responses are not).
UNPAIRED_KINDS = ("speech", "music", "noise")
#: Pauses between short clips (single words) of one speaker joined into a segment.
CLIP_GAP_SECONDS = (0.02, 0.25)
#: Segments quieter than this (mean power) are drawn again: silence teaches nothing.
SILENT_POWER = 1e-10


@dataclass
class PretrainingConfig(SpectralConfig):
    """Pre-training settings; the representation fields are the target stage's."""

    for_stage: str = "noise_reduction"       # the stage whose training starts from this model
    n_inputs: int | None = None              # the target network's input channels (None: ask it)
    unpaired_kinds: tuple[str, ...] = ("speech", "music")
    max_minutes: float = 30.0
    learning_rate: float = 1e-3
    level_range_dbfs: tuple[float, float] = (-45.0, -15.0)  # random RMS level of a segment
    time_mask_spans: tuple[int, int] = (2, 4)        # how many spans of frames are hidden
    time_mask_frames: tuple[int, int] = (4, 20)      # and how long each is
    band_mask_spans: tuple[int, int] = (1, 2)        # how many spans of band features
    band_mask_features: tuple[int, int] = (3, 12)    # and how wide each is
    real_pair_probability: float = 0.25      # a user's real pair gives its studio take


@dataclass
class UnpairedPool:
    """Recordings one split offers, decoded mono at the stage's rate."""

    recordings: list[np.ndarray] = field(default_factory=list)
    clips: dict[str, list[np.ndarray]] = field(default_factory=dict)  # short ones, by source
    sources: list[str] = field(default_factory=list)
    file_count: int = 0
    fingerprint: str = ""


def pretraining_config(stage: str, **overrides: Any) -> PretrainingConfig:
    """The pre-training config for ``stage``: its representation fields, then ``overrides``.
    Checked without TensorFlow (:class:`AuralError` for an unknown stage or field)."""
    from aural.stages import stage_class

    target = stage_class(stage)
    if not issubclass(target, SpectralStage):
        raise AuralError(f"the {stage} stage does not work on band features; only spectral "
                         "stages can be pre-trained")
    base = target.config_class()
    config = PretrainingConfig(for_stage=stage,
                               **{name: getattr(base, name) for name in REPRESENTATION_FIELDS})
    config = config.with_overrides(**overrides)
    check_config(config)
    return config


def check_config(config: PretrainingConfig) -> None:
    """A clear error for pre-training settings that cannot work."""
    unknown = sorted(set(config.unpaired_kinds) - set(UNPAIRED_KINDS))
    if unknown or not config.unpaired_kinds:
        raise AuralError(f"unpaired_kinds must be some of {', '.join(UNPAIRED_KINDS)}, "
                         f"got {list(config.unpaired_kinds)}")
    for name in ("time_mask_spans", "time_mask_frames", "band_mask_spans", "band_mask_features"):
        low, high = getattr(config, name)
        if not 0 <= low <= high:
            raise AuralError(f"{name} must be a range [low, high] with 0 <= low <= high, "
                             f"got {[low, high]}")


def target_input_channels(stage: str) -> int:
    """How many input channels ``stage``'s network has (its default build)."""
    from aural.stages import stage_class

    return int(stage_class(stage)().build_model().input_shape[-1])


def pretrained_model_path(stage: str) -> Path:
    """Where ``aural pretrain STAGE`` saves: ``models/pretrained/<stage>_pretrained.h5``."""
    from aural.modelfile import MODELS_DIR

    return MODELS_DIR / "pretrained" / f"{stage}_pretrained.h5"


class MaskedSpectrogramPretraining(SpectralStage):
    """The target stage's band U-Net, trained to fill in masked log band powers."""

    name = "pretrained_encoder"
    config_class = PretrainingConfig
    description = ("A band U-Net pre-trained by masked-spectrogram reconstruction on unpaired "
                   "audio: a starting point for its stage's training (init_from), not a model "
                   "to run.")
    outputs = ("band_features",)
    report_metrics = ()
    selection_metric = "score"
    score_name = "-(val masked-cell MSE)"

    config: PretrainingConfig

    def __init__(self, config: PretrainingConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if self.config.n_inputs is None:
            self.config = dataclasses.replace(
                self.config, n_inputs=target_input_channels(self.config.for_stage))

    @classmethod
    def for_stage(cls, stage: str, **overrides: Any) -> MaskedSpectrogramPretraining:
        """Pre-training for ``stage``'s network (``overrides``: config fields)."""
        return cls(pretraining_config(stage, **overrides))

    # ---- data ---------------------------------------------------------------------------
    def load_training_pool(self, split: str) -> UnpairedPool:
        """Every recording of ``config.unpaired_kinds`` in ``split`` (at most
        ``max_files_per_kind`` of each kind), mono at the stage's rate."""
        from aural.audio_io import load_audio
        from aural.data.sources import catalogue
        from aural.hashing import data_fingerprint

        if split == "test":
            raise ValueError("the test split is for evaluation only")
        c = self.config
        pool, taken, paths, sources = UnpairedPool(), {}, [], set()
        for recording in catalogue(split=split, kinds=tuple(c.unpaired_kinds)):
            taken[recording.kind] = taken.get(recording.kind, 0) + 1
            if c.max_files_per_kind is not None and taken[recording.kind] > c.max_files_per_kind:
                continue
            audio = load_audio(recording.path, sample_rate=c.sample_rate, mono=True)[0][0]
            self._add(pool, audio, recording.source)
            paths.append(str(recording.path))
            sources.add(recording.origin)
        if not pool.recordings and not pool.clips:
            raise AuralError(f"no {split} recordings of kind {', '.join(c.unpaired_kinds)} found "
                             "for pre-training")
        pool.sources, pool.file_count = sorted(sources), len(paths)
        pool.fingerprint = data_fingerprint(paths)
        return pool

    def _add(self, pool: UnpairedPool, audio: np.ndarray, source: str) -> None:
        # Recordings shorter than a segment (single words) are joined with others of their
        # source at draw time rather than looped.
        if len(audio) < self.config.segment_seconds * self.config.sample_rate:
            pool.clips.setdefault(source, []).append(audio)
        else:
            pool.recordings.append(audio)

    def add_user_recordings(self, pool: UnpairedPool, recordings: list[np.ndarray]) -> None:
        """A user's recordings join the pool like the catalogue's."""
        for audio in recordings:
            self._add(pool, audio, "your recordings")

    def _excerpt(self, rng: np.random.Generator, pool: UnpairedPool, length: int) -> np.ndarray:
        # Long recordings are drawn more often, though not in proportion to their length.
        groups = list(pool.clips.values())
        sizes = [len(r) for r in pool.recordings] + [sum(map(len, g)) for g in groups]
        weights = np.sqrt(np.asarray(sizes, dtype=float))
        index = int(rng.choice(len(sizes), p=weights / weights.sum()))
        if index < len(pool.recordings):
            return random_excerpt(pool.recordings[index], length, rng)
        return joined_clips(rng, groups[index - len(pool.recordings)], length,
                            self.config.sample_rate, CLIP_GAP_SECONDS)

    def make_pair(self, rng: np.random.Generator, pool: UnpairedPool) -> TrainingPair:
        """A random segment at a random level, as both the input and the target."""
        c = self.config
        length = int(c.segment_seconds * c.sample_rate)
        for _ in range(8):
            segment = self._excerpt(rng, pool, length)
            if power(segment) > SILENT_POWER:
                break
        segment = scale_to_rms_db(segment, rng.uniform(*c.level_range_dbfs))
        peak = float(np.max(np.abs(segment)))
        if peak > 0.99:
            segment = segment * (0.99 / peak)
        segment = np.asarray(segment, dtype=np.float32)
        return TrainingPair(segment, segment)

    # ---- masks, examples, network and loss ------------------------------------------------
    def random_mask(self, n_frames: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
        """``(frames, features)``: 1 in the hidden cells (every band of a few spans of frames,
        every frame of a few spans of band features), 0 elsewhere."""
        c = self.config
        frames = _random_spans(rng, n_frames, c.time_mask_spans, c.time_mask_frames)
        bands = _random_spans(rng, n_features, c.band_mask_spans, c.band_mask_features)
        return (frames[:, np.newaxis] | bands[np.newaxis, :]).astype(np.float32)

    def example(self, pair: TrainingPair) -> tuple[np.ndarray, np.ndarray]:
        """Input: the segment's features with the masked cells at :data:`MASKED_VALUE` (and
        zeros in the target network's other input channels). Target: the unmasked features
        and the mask, as two channels ``(frames, features, 2)``.

        The mask is drawn from a generator seeded by the segment's samples, so an example is
        a function of its pair: validation is scored on the same masks every epoch, and a
        resumed run stays reproducible."""
        features = self.features(self.spectrum(pair.target))[..., 0]
        seed = zlib.crc32(np.ascontiguousarray(pair.target, dtype=np.float32).tobytes())
        mask = self.random_mask(*features.shape, np.random.default_rng([self.config.seed, seed]))
        x = np.zeros((*features.shape, self.config.n_inputs), np.float32)
        x[..., 0] = np.where(mask > 0, MASKED_VALUE, features)
        return x, np.stack([features, mask], axis=-1).astype(np.float32)

    def build_model(self) -> Any:
        """The target stage's band U-Net shape (same layer names and weight shapes), with
        one linear output per feature: the reconstructed log band powers."""
        return self.band_unet(output_activation="linear", n_inputs=self.config.n_inputs)

    def loss(self) -> Any:
        return _loss_class()()

    def validation_score(self, pairs: list[TrainingPair]) -> float:
        """Minus the mean squared error over the masked cells of ``pairs`` (higher is better)."""
        if not pairs:
            return float("nan")
        model, loss, size = self.require_model(), self.loss(), self.config.batch_size
        examples = [self.example(pair) for pair in pairs]
        errors = []
        for start in range(0, len(examples), size):
            chunk = examples[start:start + size]
            x, y = np.stack([e[0] for e in chunk]), np.stack([e[1] for e in chunk])
            errors.append(np.asarray(loss.call(y, model(x, training=False))))
        return -float(np.mean(np.concatenate(errors)))

    # ---- nothing to run or evaluate -----------------------------------------------------
    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        raise AuralError(f"a pre-trained network is a starting point for training, not a stage "
                         f"to run: aural train {self.config.for_stage} --init-from <this file>")

    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        return []

    def sidecar_details(self) -> dict[str, Any]:
        """STFT and features, the stage it is for, and the pre-training objective."""
        c = self.config
        return {**super().sidecar_details(),
                "for_stage": c.for_stage,
                "pretraining": {
                    "objective": "masked spectrogram reconstruction",
                    "loss": "mean squared error over the masked cells",
                    "masked_value": MASKED_VALUE,
                    "masked_level_db": -60.0,
                    "time_masks": {"spans": list(c.time_mask_spans),
                                   "frames": list(c.time_mask_frames)},
                    "band_masks": {"spans": list(c.band_mask_spans),
                                   "features": list(c.band_mask_features)},
                    "input_channels": c.n_inputs,
                    "unpaired_kinds": list(c.unpaired_kinds),
                    "use": f"aural train {c.for_stage} --init-from <this file>"}}


def _random_spans(rng: np.random.Generator, size: int, count: tuple[int, int],
                  width: tuple[int, int]) -> np.ndarray:
    """``(size,)`` booleans: ``count`` (a range) random spans of ``width`` (a range) set."""
    hidden = np.zeros(size, bool)
    for _ in range(int(rng.integers(count[0], count[1] + 1))):
        span = min(int(rng.integers(width[0], width[1] + 1)), size)
        start = int(rng.integers(0, size - span + 1))
        hidden[start:start + span] = True
    return hidden


@functools.cache
def _loss_class() -> type:
    """Defined on first use, so importing this module does not import Keras."""
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="aural")
    class MaskedReconstructionLoss(keras.losses.Loss):
        """Mean squared error over the masked cells only, per example.

        ``y_true`` ``(batch, frames, features, 2)``: the unmasked features and the mask (1 where
        hidden); ``y_pred`` ``(batch, frames, features)``: the reconstruction. Cells the network
        saw count for nothing: copying its input through is no solution.
        """

        def __init__(self, name: str = "masked_reconstruction_loss", **kwargs: Any) -> None:
            super().__init__(name=name, **kwargs)

        def call(self, y_true: Any, y_pred: Any) -> Any:
            target, mask = y_true[..., 0], y_true[..., 1]
            error = ops.square(ops.cast(y_pred, "float32") - target) * mask
            return ops.sum(error, axis=(-2, -1)) / ops.maximum(ops.sum(mask, axis=(-2, -1)), 1.0)

    return MaskedReconstructionLoss


def __getattr__(name: str) -> Any:
    # ``from aural.pretraining import MaskedReconstructionLoss`` defines (and registers) it.
    if name == "MaskedReconstructionLoss":
        return _loss_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Keras losses of the stages, registered so that checkpoints reload without custom code."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="aural")
class BandGainSpectralLoss(keras.losses.Loss):
    """Compressed spectral loss for band gains applied to an STFT.

    ``y_pred`` holds per-band gains ``(batch, frames, bands)``; ``y_true`` holds per bin
    the noisy magnitude, the clean magnitude and the cosine of their phase difference
    ``(batch, frames, bins, 3)``. The gains are spread over the bins with ``expand``
    (bins x bands) and the enhanced magnitude is compared with the clean one after
    compression ``|X| ** exponent`` (so quiet parts count), plus a complex term that also
    penalises keeping bins whose noisy phase is wrong (as in DeepFilterNet's loss).
    """

    def __init__(self, expand: Any, exponent: float = 0.3, complex_weight: float = 0.3,
                 bin_weights: Any = None, name: str = "band_gain_spectral_loss",
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.expand = np.asarray(expand, dtype=np.float32)
        self.exponent = float(exponent)
        self.complex_weight = float(complex_weight)
        self._expand_t = ops.convert_to_tensor(self.expand.T)
        # Per-bin weights (e.g. perceptual, mean 1); None counts every bin alike.
        self.bin_weights = None if bin_weights is None else np.asarray(bin_weights, np.float32)
        self._bin_weights_t = (ops.ones((self.expand.shape[0],)) if bin_weights is None
                               else ops.convert_to_tensor(self.bin_weights))

    def call(self, y_true: Any, y_pred: Any) -> Any:
        gains = ops.matmul(ops.cast(y_pred, "float32"), self._expand_t)
        return self.masked_error(gains, y_true[..., 0], y_true[..., 1], y_true[..., 2])

    def masked_error(self, gains: Any, noisy: Any, clean: Any, cos_delta: Any) -> Any:
        """The loss of bin gains ``gains`` applied to ``noisy``, against ``clean``."""
        estimate = ops.power(gains * noisy + 1e-8, self.exponent)
        reference = ops.power(clean + 1e-8, self.exponent)
        weights = self._bin_weights_t
        magnitude = ops.mean(ops.square(estimate - reference) * weights, axis=(-2, -1))
        complex_error = ops.mean((ops.square(estimate) + ops.square(reference)
                                  - 2.0 * estimate * reference * cos_delta) * weights,
                                 axis=(-2, -1))
        return (1.0 - self.complex_weight) * magnitude + self.complex_weight * complex_error

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "expand": self.expand.tolist(), "exponent": self.exponent,
                "complex_weight": self.complex_weight,
                "bin_weights": None if self.bin_weights is None else self.bin_weights.tolist()}


@keras.saving.register_keras_serializable(package="aural")
class ComplementaryMaskLoss(BandGainSpectralLoss):
    """Loss of a two-stem separation by one mask: the voice is ``g * X``, the background
    ``(1 - g) * X``, each scored like :class:`BandGainSpectralLoss`.

    ``y_true`` holds per bin the mixture magnitude, the voice magnitude and the cosine of its
    phase difference to the mixture, then the same two for the background ``(..., 5)``.
    ``background_weight`` sets how much the background's error counts against the voice's.
    """

    def __init__(self, expand: Any, exponent: float = 0.3, complex_weight: float = 0.3,
                 background_weight: float = 1.0, bin_weights: Any = None,
                 name: str = "complementary_mask_loss", **kwargs: Any) -> None:
        super().__init__(expand, exponent, complex_weight, bin_weights, name=name, **kwargs)
        self.background_weight = float(background_weight)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        gains = ops.matmul(ops.cast(y_pred, "float32"), self._expand_t)
        mixture = y_true[..., 0]
        voice = self.masked_error(gains, mixture, y_true[..., 1], y_true[..., 2])
        background = self.masked_error(1.0 - gains, mixture, y_true[..., 3], y_true[..., 4])
        return voice + self.background_weight * background

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "background_weight": self.background_weight}


@keras.saving.register_keras_serializable(package="aural")
class WeightedBandLoss(keras.losses.Loss):
    """Weighted mean absolute error between predicted and target log band powers.

    ``y_true`` holds ``(batch, frames, bands, 2)``: the target value and a per-band weight
    (e.g. 1 where the input lacks the band, a little where it has it, 0 where the target
    itself has no real content); ``y_pred`` is ``(batch, frames, bands)``.
    """

    def __init__(self, name: str = "weighted_band_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        target, weight = y_true[..., 0], y_true[..., 1]
        error = ops.abs(ops.cast(y_pred, "float32") - target) * weight
        return ops.sum(error, axis=(-2, -1)) / (ops.sum(weight, axis=(-2, -1)) + 1e-6)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


@keras.saving.register_keras_serializable(package="aural")
class PitchAuxiliaryLoss(keras.losses.Loss):
    """Loss of the auxiliary pitch head (multi-task learning): binary cross-entropy of the
    voicing, plus the mean absolute error of the normalised log f0 on voiced frames.

    ``y_true`` is ``(batch, frames, 2)``: voicing in [0, 1] and log f0 in [0, 1];
    ``y_pred`` is ``(batch, frames, 2)``: a voicing logit and the log f0.
    """

    def __init__(self, name: str = "pitch_auxiliary_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = ops.cast(y_pred, "float32")
        voicing, f0 = y_true[..., 0], y_true[..., 1]
        cross_entropy = ops.mean(ops.binary_crossentropy(voicing, y_pred[..., 0], from_logits=True),
                                 axis=-1)
        f0_error = (ops.sum(ops.abs(y_pred[..., 1] - f0) * voicing, axis=-1)
                    / (ops.sum(voicing, axis=-1) + 1e-6))
        return cross_entropy + f0_error

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


@keras.saving.register_keras_serializable(package="aural")
class VoiceAuxiliaryLoss(keras.losses.Loss):
    """Loss of the auxiliary voice head (multi-task learning): binary cross-entropy of the
    voice's share of each band, ``y_true`` in [0, 1] and ``y_pred`` logits, both
    ``(batch, frames, bands)``."""

    def __init__(self, name: str = "voice_auxiliary_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = ops.cast(y_pred, "float32")
        return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=True), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

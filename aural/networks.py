"""Keras network builders shared by the stages.

Only built-in Keras layers are used, so the saved ``.h5`` files load in safe mode
without executing any code from the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers


@dataclass(frozen=True)
class BandUNetConfig:
    """Sizes of the band U-Net: channels per level and the temporal bottleneck."""

    channels: tuple[int, ...] = (16, 32, 48, 64)
    bottleneck_units: int = 128
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    output_activation: str = "sigmoid"
    zero_output: bool = False   # head starts at zero: e.g. 0 dB gains, the identity


def _conv(x: keras.KerasTensor, filters: int, *, stride: int = 1, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, (3, 3), strides=(1, stride), padding="same", name=f"{name}_conv")(x)
    return layers.ELU(name=f"{name}_elu")(x)


def band_unet(n_features: int, n_outputs: int, config: BandUNetConfig = BandUNetConfig(),
              *, n_inputs: int = 1, name: str = "band_unet") -> keras.Model:
    """A compact U-Net over (time, band) features, the spirit of the AURAL paper's model.

    Input ``(batch, frames, n_features, n_inputs)``; output ``(batch, frames, n_outputs)``
    after the output activation (e.g. per-band gains in [0, 1]). The encoder halves the
    band axis at each level; the bottleneck runs dilated 1-D convolutions over time so
    each frame sees about +-(2 * sum(dilations)) frames of context; the decoder mirrors
    the encoder with skip connections. Fully convolutional in time, so it runs on any
    number of frames. ``n_features`` must be divisible by ``2 ** (levels - 1)``.
    """
    levels = len(config.channels)
    if n_features % (2 ** (levels - 1)):
        raise ValueError(f"n_features={n_features} must be divisible by {2 ** (levels - 1)}")
    inputs = keras.Input(shape=(None, n_features, n_inputs), name="features")
    x = inputs
    skips = []
    for level, filters in enumerate(config.channels):
        x = _conv(x, filters, stride=1 if level == 0 else 2, name=f"enc{level}")
        skips.append(x)
    bands_at_bottom = n_features // 2 ** (levels - 1)
    x = layers.Reshape((-1, bands_at_bottom * config.channels[-1]), name="to_sequence")(x)
    x = layers.Dense(config.bottleneck_units, name="bottleneck_in")(x)
    x = layers.ELU(name="bottleneck_in_elu")(x)
    for dilation in config.dilations:
        y = layers.Conv1D(config.bottleneck_units, 3, padding="same", dilation_rate=dilation,
                          name=f"temporal_d{dilation}")(x)
        y = layers.ELU(name=f"temporal_d{dilation}_elu")(y)
        x = layers.Add(name=f"temporal_d{dilation}_residual")([x, y])
    x = layers.Dense(bands_at_bottom * config.channels[-1], name="bottleneck_out")(x)
    x = layers.ELU(name="bottleneck_out_elu")(x)
    x = layers.Reshape((-1, bands_at_bottom, config.channels[-1]), name="to_bands")(x)
    for level in range(levels - 2, -1, -1):
        filters = config.channels[level]
        x = layers.Conv2DTranspose(filters, (1, 3), strides=(1, 2), padding="same",
                                   name=f"dec{level}_up")(x)
        x = layers.Concatenate(name=f"dec{level}_skip")([x, skips[level]])
        x = _conv(x, filters, name=f"dec{level}")
    start = "zeros" if config.zero_output else "glorot_uniform"
    x = layers.Conv2D(1, (1, 1), kernel_initializer=start, name="head")(x)
    x = layers.Reshape((-1, n_features), name="to_frames")(x)
    if n_outputs != n_features:
        x = layers.Dense(n_outputs, kernel_initializer=start, name="head_dense")(x)
    outputs = layers.Activation(config.output_activation, dtype="float32", name="gains")(x)
    return keras.Model(inputs, outputs, name=name)


#: Names of the auxiliary heads' layers (training only; never in a shipped model).
PITCH_HEAD = "aux_pitch"
VOICE_HEAD = "aux_voice"


def _multitask(model: keras.Model, head: keras.KerasTensor) -> keras.Model:
    """``model`` with ``head`` as one more output; the first output is unchanged, so
    ``keras.Model(m.inputs, m.outputs[0])`` is the original network again."""
    name = model.name if model.name.endswith("_multitask") else f"{model.name}_multitask"
    return keras.Model(model.inputs, [*model.outputs, head], name=name)


def with_pitch_head(model: keras.Model) -> keras.Model:
    """``model`` (a :func:`band_unet`) with one more output for multi-task learning: per
    frame a voicing logit and a log f0, read from the temporal bottleneck, where the
    network's sense of each frame's time context lives."""
    residuals = [layer for layer in model.layers if layer.name.endswith("_residual")]
    bottleneck = residuals[-1].output if residuals else model.get_layer("bottleneck_in_elu").output
    return _multitask(model, layers.Dense(2, name=PITCH_HEAD, dtype="float32")(bottleneck))


def with_voice_head(model: keras.Model) -> keras.Model:
    """``model`` (a :func:`band_unet`) with one more output for multi-task learning: per
    frame and band a logit of the voice's share of the input (a source-separation mask),
    read from the last decoder features, beside the main head."""
    features = model.get_layer("head").input
    voice = layers.Conv2D(1, (1, 1), name=VOICE_HEAD, dtype="float32")(features)
    return _multitask(model, layers.Reshape((-1, features.shape[2]), name=f"{VOICE_HEAD}_frames")(voice))

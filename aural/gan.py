"""Adversarial training of a band-gain generator: the discriminators and the trainer.

The generator (the model that ships) maps band features to per-band gains in dB; the
trainer applies them to the input's STFT power and compares the result with the studio
target in log band power. Three discriminators look at log band-power "images" at three
time scales (frames averaged by 1, 2 and 4: the multi-scale idea of MelGAN, here on
spectral features). Losses (HiFi-GAN's recipe on spectral features): least-squares
adversarial, feature matching on every discriminator layer, and an L1 reconstruction of
log band power that anchors the output to its target. With ``adversarial_weight`` 0 the
same trainer is the no-GAN ablation: reconstruction only, the discriminators idle.

Only built-in layers: a saved generator loads in safe mode without any of this code.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

#: Time pooling of each discriminator's input (frames averaged).
SCALES = (1, 2, 4)


def discriminator(n_bands: int, pooling: int, channels: tuple[int, ...] = (16, 32, 64),
                  name: str = "discriminator") -> keras.Model:
    """A patch discriminator on ``(frames, bands, 1)`` log band power: returns its score
    map and every intermediate feature map (for feature matching)."""
    inputs = keras.Input(shape=(None, n_bands, 1), name=f"{name}_in")
    x = inputs
    if pooling > 1:
        x = layers.AveragePooling2D((pooling, 1), padding="same", name=f"{name}_pool")(x)
    features = []
    for i, filters in enumerate(channels):
        x = layers.Conv2D(filters, (5, 3), strides=(1, 2), padding="same",
                          name=f"{name}_conv{i}")(x)
        x = layers.LeakyReLU(0.2, name=f"{name}_act{i}")(x)
        features.append(x)
    score = layers.Conv2D(1, (3, 3), padding="same", name=f"{name}_score")(x)
    return keras.Model(inputs, [score, *features], name=name)


class GanTrainer(keras.Model):
    """Trains ``generator`` against :data:`SCALES` discriminators (see the module doc).

    Batches are ``(x, y)``: ``x`` the generator's input ``(frames, bands, channels)``; ``y``
    per bin ``(frames, bins, 2 or 3)``: the input's STFT power, the target's and, optionally,
    1 where the target's recording has content (below its own bandwidth) and 0 above, where
    no loss looks. ``pool`` (bins x bands) and ``expand`` (bins x bands) map between bins and
    band features.
    """

    def __init__(self, generator: keras.Model, *, pool: np.ndarray, expand: np.ndarray,
                 max_gain_db: float, adversarial_weight: float = 1.0,
                 feature_weight: float = 2.0, reconstruction_weight: float = 45.0,
                 overshoot_weight: float = 1.0, loudness_weight: float = 0.0,
                 loudness_bands: np.ndarray | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        n_bands = pool.shape[0]
        self.discriminators = [discriminator(n_bands, s, name=f"discriminator_x{s}")
                               for s in SCALES]
        self._pool_t = ops.convert_to_tensor(np.asarray(pool, np.float32).T)
        self._expand_t = ops.convert_to_tensor(np.asarray(expand, np.float32).T)
        self._pool_sums = ops.convert_to_tensor(np.asarray(pool, np.float32).sum(axis=1))
        self.max_gain_db = float(max_gain_db)
        self.adversarial_weight = float(adversarial_weight)
        self.feature_weight = float(feature_weight)
        self.reconstruction_weight = float(reconstruction_weight)
        self.overshoot_weight = float(overshoot_weight)
        self.loudness_weight = float(loudness_weight)
        in_view = np.ones(n_bands) if loudness_bands is None else np.asarray(loudness_bands)
        self._loudness_view = ops.convert_to_tensor(
            in_view.astype(np.float32).reshape(1, 1, n_bands, 1))
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "g_loss", "d_loss", "adversarial")}
        self.built = True   # its parts are functional models, built already

    # ---- optimizers (the training loop's hooks) -------------------------------------------------
    def compile_pair(self, learning_rate: float) -> None:
        """Two Adam optimizers, as in HiFi-GAN (beta1 0.8, beta2 0.99)."""
        self.g_optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.8, beta_2=0.99,
                                                 clipnorm=1.0)
        self.d_optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.8, beta_2=0.99,
                                                 clipnorm=1.0)
        self.compile()

    @property
    def optimizers(self) -> list[Any]:
        return [self.g_optimizer, self.d_optimizer]

    def build_optimizers(self) -> None:
        """Create both optimizers' slots, so a checkpoint's optimizer state can load."""
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self._discriminator_variables())

    def _discriminator_variables(self) -> list[Any]:
        return [v for d in self.discriminators for v in d.trainable_variables]

    # ---- the losses ---------------------------------------------------------------------------
    def _log_bands(self, bin_power: Any) -> Any:
        """Normalised log band power (the features' scale), ``(batch, frames, bands, 1)``."""
        band = ops.matmul(bin_power, self._pool_t)
        return ops.expand_dims((10.0 * ops.log10(band + 1e-12) + 60.0) / 20.0, -1)

    def generated(self, x: Any, input_power: Any, training: bool) -> Any:
        """Log band power of the input after the generator's gains."""
        gains_db = self.generator(x, training=training) * self.max_gain_db
        gains = ops.matmul(ops.power(10.0, gains_db / 10.0), self._expand_t)
        return self._log_bands(input_power * gains)

    def _target_only_where_recorded(self, fake: Any, real: Any, y: Any) -> Any:
        """``fake`` with the target in the bands above the target recording's bandwidth:
        a recording band-limited at 11 kHz says nothing about what belongs above it, and
        the reconstruction and the discriminators must not teach the generator to cut it."""
        if y.shape[-1] < 3:
            return fake
        share = ops.matmul(y[..., 2], self._pool_t) / (self._pool_sums + 1e-9)
        usable = ops.expand_dims(ops.cast(share > 0.999, "float32"), -1)
        return usable * fake + (1.0 - usable) * real

    def _reconstruction(self, fake: Any, real: Any) -> Any:
        # Bands that are silent in both carry no timbre to learn.
        audible = ops.cast(ops.maximum(fake, real) > -0.75, "float32")
        # PESQ punishes added energy more than missing energy; overshoot_weight > 1 does too.
        over = ops.cast(fake > real, "float32")
        weight = audible * (1.0 + (self.overshoot_weight - 1.0) * over)
        loss = ops.sum(ops.abs(fake - real) * weight) / (ops.sum(audible) + 1.0)
        if self.loudness_weight > 0.0:
            loss += self.loudness_weight * self._loudness_error(fake, real, weight)
        return loss

    def _loudness_error(self, fake: Any, real: Any, weight: Any) -> Any:
        """L1 of Zwicker loudness (band power ** 0.23, as PESQ's model compresses it) in
        the bands PESQ-wb hears: loud bands count, quiet ones hardly, unlike log power."""
        def loudness(features: Any) -> Any:   # features are (dB + 60) / 20
            return ops.power(10.0, 0.023 * (20.0 * features - 60.0))

        weight = weight * self._loudness_view
        return (ops.sum(ops.abs(loudness(fake) - loudness(real)) * weight)
                / (ops.sum(ops.cast(weight > 0, "float32")) + 1.0))

    def _generator_loss(self, fake: Any, real: Any) -> tuple[Any, Any, Any]:
        adversarial, matching = 0.0, 0.0
        for disc in self.discriminators:
            fake_out, real_out = disc(fake), disc(real)
            adversarial += ops.mean(ops.square(fake_out[0] - 1.0))
            for f, r in zip(fake_out[1:], real_out[1:]):
                matching += ops.mean(ops.abs(f - ops.stop_gradient(r)))
        return adversarial, matching, self._reconstruction(fake, real)

    def _discriminator_loss(self, fake: Any, real: Any) -> Any:
        loss = 0.0
        for disc in self.discriminators:
            loss += (ops.mean(ops.square(disc(real)[0] - 1.0))
                     + ops.mean(ops.square(disc(ops.stop_gradient(fake))[0])))
        return loss

    # ---- steps --------------------------------------------------------------------------------
    @property
    def metrics(self) -> list[Any]:
        return list(self.trackers.values())   # reset by Keras at each epoch's start

    def _report(self, **values: Any) -> dict[str, Any]:
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: self.trackers[name].result() for name in values}

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        x, y = data
        input_power, target_power = y[..., 0], y[..., 1]
        real = self._log_bands(target_power)
        gan = self.adversarial_weight > 0.0
        if gan:
            with tf.GradientTape() as tape:
                fake = self._target_only_where_recorded(
                    self.generated(x, input_power, training=True), real, y)
                d_loss = self._discriminator_loss(fake, real)
            variables = self._discriminator_variables()
            self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, variables), variables))
        else:
            d_loss = ops.convert_to_tensor(0.0)
        with tf.GradientTape() as tape:
            fake = self._target_only_where_recorded(
                self.generated(x, input_power, training=True), real, y)
            if gan:
                adversarial, matching, reconstruction = self._generator_loss(fake, real)
            else:
                adversarial = matching = ops.convert_to_tensor(0.0)
                reconstruction = self._reconstruction(fake, real)
            g_loss = (self.reconstruction_weight * reconstruction
                      + self.adversarial_weight * adversarial + self.feature_weight * matching
                      * (1.0 if gan else 0.0))
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, variables), variables))
        return self._report(loss=reconstruction, g_loss=g_loss, d_loss=d_loss,
                            adversarial=adversarial)

    def test_step(self, data: Any) -> dict[str, Any]:
        x, y = data
        real = self._log_bands(y[..., 1])
        fake = self._target_only_where_recorded(self.generated(x, y[..., 0], training=False),
                                                real, y)
        return self._report(loss=self._reconstruction(fake, real))

    def call(self, x: Any, training: bool = False) -> Any:
        return self.generator(x, training=training)

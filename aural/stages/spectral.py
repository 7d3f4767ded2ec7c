"""``SpectralStage``: a stage whose network works on STFT band features.

The network sees log band powers (single STFT bins below ``linear_below_hz``, ERB bands
above: the representation does the work, as in DeepFilterNet) and its output is turned
back into one STFT per named output by :meth:`SpectralStage.apply_output`, usually gains
applied to the input's STFT so that the output keeps the input's phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from aural.dsp.bands import BandLayout
from aural.dsp.stft import StftConfig, istft, stft
from aural.stages.base import Stage, StageConfig, TrainingPair


@dataclass
class SpectralConfig(StageConfig):
    """STFT and band-feature settings on top of the shared ones."""

    n_fft: int = 960                   # 20 ms frames, 10 ms hop at 48 kHz
    linear_below_hz: float = 4000.0    # single STFT bins below, ERB bands above
    n_erb_bands: int = 31


class SpectralStage(Stage):
    """A stage on STFT band features; subclasses say what the network's output means."""

    config: SpectralConfig
    config_class = SpectralConfig

    # ---- signal representation ------------------------------------------------------------
    @cached_property
    def stft_config(self) -> StftConfig:
        """Frame size and hop of this stage's STFT (sqrt-Hann, half overlap)."""
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

    def band_unet(self, *, output_activation: str = "sigmoid", n_inputs: int = 1,
                  zero_output: bool = False) -> Any:
        """The band U-Net of ``config.network`` over this stage's band features, one output
        per feature (the network every spectral stage builds; named after the stage)."""
        from aural.networks import BandUNetConfig, band_unet

        net = self.config.network
        unet = BandUNetConfig(channels=tuple(net["channels"]),
                              bottleneck_units=int(net["bottleneck_units"]),
                              dilations=tuple(net["dilations"]),
                              output_activation=output_activation, zero_output=zero_output)
        n = self.bands.n_features
        return band_unet(n, n, unet, n_inputs=n_inputs, name=f"{self.name}_unet")

    # ---- what a spectral stage says --------------------------------------------------------
    def training_target(self, degraded_spectrum: np.ndarray,
                        target_spectra: dict[str, np.ndarray]) -> Any:
        """What the loss compares the network output with, for one example."""
        raise NotImplementedError

    def apply_output(self, spectrum: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        """Turn the network's output for one signal into one spectrum per named output."""
        raise NotImplementedError

    # ---- shared --------------------------------------------------------------------------------
    def example(self, pair: TrainingPair) -> tuple[np.ndarray, Any]:
        """Features of the degraded signal, and the stage's training target."""
        degraded = self.spectrum(pair.degraded)
        targets = {name: self.spectrum(t) for name, t in pair.targets(self.outputs).items()}
        return self.features(degraded), self.training_target(degraded, targets)

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

    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        """STFT, features, network, output spectra, inverse STFT."""
        spectrum = self.spectrum(signal)
        spectra = self.apply_output(spectrum, self.predict(self.features(spectrum)))
        return {name: self.waveform(s, len(signal)) for name, s in spectra.items()}

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

    def sidecar_details(self) -> dict[str, Any]:
        """STFT and feature parameters, for the sidecar."""
        return {"stft": {"n_fft": self.stft_config.n_fft, "hop": self.stft_config.hop,
                         "window": "sqrt-hann"},
                "features": {"kind": "log band power",
                             "linear_below_hz": self.config.linear_below_hz,
                             "n_erb_bands": self.config.n_erb_bands,
                             "n_features": self.bands.n_features}}

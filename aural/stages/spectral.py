"""``SpectralStage``: a stage whose network works on STFT band features.

The network sees log band powers (single STFT bins below ``linear_below_hz``, ERB bands
above: the representation does the work, as in DeepFilterNet) and its output is turned
back into one STFT per named output by :meth:`SpectralStage.apply_output`, usually gains
applied to the input's STFT so that the output keeps the input's phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from aural.dsp.bands import BandLayout
from aural.dsp.stft import StftConfig, istft, stft
from aural.errors import AuralError
from aural.stages.base import Stage, StageConfig, TrainingPair


@dataclass
class SpectralConfig(StageConfig):
    """STFT and band-feature settings on top of the shared ones."""

    n_fft: int = 960                   # 20 ms frames, 10 ms hop at 48 kHz
    linear_below_hz: float = 4000.0    # single STFT bins below, ERB bands above
    n_erb_bands: int = 31
    # The paper's techniques, each a switch measured by ablation (README, "Ablations"):
    condition_on_pitch: bool = False   # voicing, log f0 and onset strength as 3 more inputs
    psychoacoustic_inputs: bool = False  # frame loudness and sharpness as 2 more inputs
    perceptual_loss_weighting: bool = False  # spectral loss weighted by the K-weighting curve
    auxiliary_pitch_weight: float = 0.0  # > 0: a voicing/f0 head trained alongside (not shipped)
    auxiliary_voice_weight: float = 0.0  # > 0: a per-band voice-share head alongside (not shipped)


#: Every technique switch of :class:`SpectralConfig` off: what each ablation variant turns
#: one switch on against (a stage's shipped defaults may have one on).
TECHNIQUES_OFF: dict[str, bool | float] = {
    "condition_on_pitch": False, "psychoacoustic_inputs": False,
    "perceptual_loss_weighting": False, "auxiliary_pitch_weight": 0.0,
    "auxiliary_voice_weight": 0.0}


#: Network calls per loaded model run eagerly before one graph is traced (see ``predict``).
EAGER_CALLS = 2


class SpectralStage(Stage):
    """A stage on STFT band features; subclasses say what the network's output means."""

    config: SpectralConfig
    config_class = SpectralConfig
    #: Whether the first output's target is a voice (the auxiliary voice head's reference).
    voice_target: ClassVar[bool] = False

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

    # ---- conditioning channels (switches) ---------------------------------------------------
    #: Pitch range of the pitch conditioning and the auxiliary pitch head (Hz).
    PITCH_RANGE_HZ = (60.0, 800.0)

    @property
    def n_conditioning(self) -> int:
        """Input channels the switched-on conditioning adds to the network's input."""
        return 3 * bool(self.config.condition_on_pitch) + 2 * bool(self.config.psychoacoustic_inputs)

    def conditioned(self, x: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """``x`` ``(frames, features, channels)``, whose first channel is :meth:`features`,
        with the switched-on per-frame channels appended, each spread over every band:
        voicing, log f0 and onset strength (``condition_on_pitch``); K-weighted level and
        sharpness (``psychoacoustic_inputs``)."""
        if not self.n_conditioning:
            return x
        from aural.dsp.bands import onset_strength

        per_frame = []
        if self.config.condition_on_pitch:
            per_frame += [self.pitch_features(signal, x.shape[0]), onset_strength(x[..., 0])[:, None]]
        if self.config.psychoacoustic_inputs:
            from aural.dsp.psychoacoustics import frame_loudness_and_sharpness

            power = 10.0 ** ((x[..., 0] * 20.0 - 60.0) / 10.0)   # inverse of features()
            per_frame.append(frame_loudness_and_sharpness(power, self.bands.centres_hz,
                                                          self.config.sample_rate))
        channels = np.concatenate(per_frame, axis=1)
        spread = np.broadcast_to(channels[:, np.newaxis, :], (*x.shape[:2], channels.shape[1]))
        return np.concatenate([x, spread], axis=-1).astype(np.float32)

    def pitch_features(self, signal: np.ndarray, n_frames: int) -> np.ndarray:
        """``(n_frames, 2)`` per STFT frame: voicing, and voicing-gated log f0 in [0, 1]."""
        from aural.dsp.pitch import pitch_features, track_pitch

        fmin, fmax = self.PITCH_RANGE_HZ
        track = track_pitch(np.asarray(signal, np.float32), self.config.sample_rate,
                            hop=self.stft_config.hop, n_frames=n_frames, fmin=fmin, fmax=fmax)
        return pitch_features(track, fmin, fmax)

    # ---- training with the switches ----------------------------------------------------------
    def loss_bin_weights(self) -> np.ndarray | None:
        """Per-bin spectral loss weights: the K-weighting curve if
        ``perceptual_loss_weighting``, else None (every bin alike)."""
        if not self.config.perceptual_loss_weighting:
            return None
        from aural.dsp.psychoacoustics import perceptual_bin_weights

        return perceptual_bin_weights(self.config.sample_rate, self.config.n_fft)

    def loss_band_weights(self) -> np.ndarray:
        """:meth:`loss_bin_weights` pooled into the bands ``(features,)`` (ones when off),
        for losses on band values."""
        weights = self.loss_bin_weights()
        return np.ones(self.bands.n_features, np.float32) if weights is None \
            else (self.bands.pool @ weights).astype(np.float32)

    def training_example(self, pair: TrainingPair) -> tuple[Any, Any]:
        """:meth:`example`, plus the targets of the switched-on auxiliary heads (pitch,
        then voice)."""
        x, y = self.example(pair)
        auxiliary = []
        if self.config.auxiliary_pitch_weight > 0:
            auxiliary.append(self.pitch_features(pair.target, x.shape[0]))
        if self.config.auxiliary_voice_weight > 0:
            auxiliary.append(self.voice_share(pair))
        return (x, y) if not auxiliary else (x, (y, *auxiliary))

    def voice_share(self, pair: TrainingPair) -> np.ndarray:
        """``(frames, features)`` target of the voice head: the voice's share of each band's
        power in the input, in [0, 1]. The voice is the first output's target of a stage
        whose target is a voice (``voice_target``)."""
        self.require_voice_target()
        voice = self.bands.band_power(self.spectrum(pair.target))
        total = self.bands.band_power(self.spectrum(pair.degraded))
        return np.clip(voice / (total + 1e-10), 0.0, 1.0).astype(np.float32)

    def require_voice_target(self) -> None:
        """Refuse the voice head on a stage whose target is not a voice."""
        if not self.voice_target:
            raise AuralError(f"{self.name}'s target is not a voice: auxiliary_voice_weight "
                             f"needs noise_reduction or source_separation")

    def training_model(self) -> Any:
        """The default compiled model, with the switched-on auxiliary heads."""
        c = self.config
        if c.auxiliary_pitch_weight <= 0 and c.auxiliary_voice_weight <= 0:
            return super().training_model()
        from aural.losses import PitchAuxiliaryLoss, VoiceAuxiliaryLoss
        from aural.networks import with_pitch_head, with_voice_head

        model, losses, weights = self.build_model(), [self.loss()], [1.0]
        if c.auxiliary_pitch_weight > 0:
            model = with_pitch_head(model)
            losses.append(PitchAuxiliaryLoss())
            weights.append(float(c.auxiliary_pitch_weight))
        if c.auxiliary_voice_weight > 0:
            self.require_voice_target()
            model = with_voice_head(model)
            losses.append(VoiceAuxiliaryLoss())
            weights.append(float(c.auxiliary_voice_weight))
        return self.compiled(model, losses, loss_weights=weights)

    def inference_model(self, training_model: Any) -> Any:
        """The training model without the auxiliary head (what runs and ships)."""
        if len(training_model.outputs) == 1:
            return training_model
        import keras

        # A single input as a tensor, not a one-item list, as the network is called with one.
        inputs = training_model.inputs
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs, training_model.outputs[0],
                           name=training_model.name.removesuffix("_multitask"))

    def band_unet(self, *, output_activation: str = "sigmoid", n_inputs: int = 1,
                  zero_output: bool = False) -> Any:
        """The band U-Net of ``config.network`` over this stage's band features, one output
        per feature (the network every spectral stage builds; named after the stage).
        ``n_inputs`` counts the stage's own input channels; conditioning adds its own."""
        from aural.networks import BandUNetConfig, band_unet

        net = self.config.network
        unet = BandUNetConfig(channels=tuple(net["channels"]),
                              bottleneck_units=int(net["bottleneck_units"]),
                              dilations=tuple(net["dilations"]),
                              output_activation=output_activation, zero_output=zero_output)
        n = self.bands.n_features
        return band_unet(n, n, unet, n_inputs=n_inputs + self.n_conditioning,
                         name=f"{self.name}_unet")

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
        x = self.conditioned(self.features(degraded), pair.degraded)
        return x, self.training_target(degraded, targets)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Run the network on one signal's features ``(frames, features, channels)``: the
        first :data:`EAGER_CALLS` calls eagerly, then through one traced graph for every
        length (an eager call costs 0.04-0.15 s more per 8-s block than the graph, tracing
        0.4-0.5 s once: a memo of a block or two is done before tracing would pay off)."""
        model = self.require_model()
        if getattr(self, "_compiled_for", None) is not model:
            self._compiled_for, self._compiled, self._eager_calls = model, None, 0
        batch = features[np.newaxis]
        if self._eager_calls < EAGER_CALLS:
            self._eager_calls += 1
            return np.asarray(model(batch, training=False))[0]
        if self._compiled is None:
            import tensorflow as tf

            spec = tf.TensorSpec((1, None, *model.input_shape[2:]), tf.float32)
            self._compiled = tf.function(lambda x: model(x, training=False),
                                         input_signature=[spec])
        return np.asarray(self._compiled(batch))[0]

    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        """STFT, features, network, output spectra, inverse STFT."""
        spectrum = self.spectrum(signal)
        x = self.conditioned(self.features(spectrum), signal)
        spectra = self.apply_output(spectrum, self.predict(x))
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

"""frequency_generation: restores studio timbre after the earlier stages, trained as a GAN.

It sees what the earlier stages leave of a phone recording (generated high bands that are
plausible but flat, a phone microphone's boxy balance, codec smear, denoising residue):
its pairs are clean recordings through the phone simulator (``phone_damage``: microphone,
codec - real ones via ffmpeg -, noise; the "chain" recipe adds recorded noise, rooms and
gain damage), then the shipped ``earlier_stages`` as `aural regenerate` runs them; after a
separation the target is the same separation's voice of the clean recording. A band U-Net
generator predicts a gain per band and frame in +-12 dB, applied to the input's STFT; its
head starts at zero, so an untrained generator is the identity and a trained one can
leave good audio alone (the residual path). It shares frequency_expansion's band layout
and input (log band power and the missing-band mask), so its encoder and bottleneck start
from the shipped frequency_expansion weights (the paper's transfer learning). Training is
adversarial (:mod:`aural.gan`): multi-scale spectral discriminators, least-squares and
feature-matching losses, and an L1 log-band-power reconstruction; ``adversarial_weight``
0 is the no-GAN ablation. Only the generator ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import copy
import zlib

import numpy as np

from aural.errors import AuralError
from aural.metrics import PESQ_WB_RATE
from aural.stages.base import TrainingPair
from aural.stages.frequency_expansion import (FrequencyExpansion, FrequencyExpansionConfig,
                                              FullBandPool)

#: Cut-offs of the plain band-limited test set (``phone_damage`` None), in Hz.
TEST_CUTOFFS_HZ = (4000.0, 8000.0)

#: Held-out files per speaker or song in the phone-damage test set.
TEST_FILES_PER_SOURCE = 3

#: Earlier-stage outputs kept for evaluation and sweeps (about 2 MB per 10 s test item).
EARLIER_OUTPUTS_KEPT = 64

_CODECS: dict[str, Any] = {"probability": 0.9, "ffmpeg_probability": 0.5, "bundled_ffmpeg": True,
                           "codecs": ["amr_nb", "mp3", "opus"]}

#: Training damage (simulator settings) by name, for ``phone_damage``:
#: "mild" (the shipped generator's): a cheap microphone's response, a codec (a real encoder
#: through ffmpeg for half of them) and mild noise, which the earlier stages then repair as
#: far as they can; what is left is this stage's to fix.
#: "chain": what the pipeline evaluation's phone chain brings, milder on the whole -
#: recorded noise down to 5 dB SNR and rooms (with ``recorded_noise``, of the training
#: split), automatic gain and over-compression besides the microphone and codec - so that
#: the residue of every earlier stage (denoising, a compressor's pumping, a separation's
#: smear) is in the pairs.
PHONE_DAMAGE: dict[str, dict[str, dict[str, Any]]] = {
    "mild": {"noise": {"probability": 0.5, "snr_db": [20.0, 40.0]},
             "mic_response": {"probability": 0.8}, "codec": _CODECS},
    "chain": {"reverb": {"probability": 0.3, "wet": [0.2, 0.6]},
              "noise": {"probability": 0.8, "snr_db": [5.0, 35.0]},
              "mic_response": {"probability": 0.8}, "agc": {"probability": 0.3},
              "over_compression": {"probability": 0.3}, "codec": _CODECS}}

#: The test set's phone damage, one item per file and kind, drawn from a seed of the file's
#: name: every microphone and noise, and a band-limit to 4 kHz or a real low-rate codec.
PHONE_TEST_DAMAGE: dict[str, dict[str, dict[str, Any]]] = {
    "narrow-band phone": {"noise": {"probability": 1.0, "snr_db": [25.0, 35.0]},
                          "mic_response": {"probability": 1.0},
                          "codec": {"probability": 1.0, "rates": [8000],
                                    "ffmpeg_probability": 0.0}},
    "codec phone": {"noise": {"probability": 1.0, "snr_db": [25.0, 35.0]},
                    "mic_response": {"probability": 1.0},
                    "codec": {"probability": 1.0, "ffmpeg_probability": 1.0,
                              "bundled_ffmpeg": True, "codecs": ["amr_nb", "mp3", "opus"]}}}


def require_ffmpeg(damage: Any, what: str, hint: str = "") -> None:
    """Refuse simulator settings ``damage`` that ask for real codecs where no ffmpeg runs:
    the pairs or test items would silently differ from the shipped model's."""
    from aural.data.simulator import ffmpeg_executable

    codec = damage.codec
    if codec.enabled and codec.ffmpeg_probability > 0 and not ffmpeg_executable(
            codec.bundled_ffmpeg):
        raise AuralError(f"frequency_generation's {what} needs ffmpeg for real codecs: "
                         f"pip install imageio-ffmpeg (in AURAL's [eval] extra){hint}")


def with_pause(audio: np.ndarray, rate: int, rng: np.random.Generator,
               seconds: tuple[float, float] = (0.3, 1.0)) -> np.ndarray:
    """``audio`` with a span of digital silence (10 ms fades at its edges), as between a
    voice memo's words: the phone noise fills it, and the target says it stays silent."""
    length = min(int(rng.uniform(*seconds) * rate), len(audio) // 2)
    start = int(rng.integers(0, len(audio) - length + 1))
    fade = min(int(0.01 * rate), length // 2)
    gain = np.ones(len(audio), np.float32)
    gain[start:start + length] = 0.0
    ramp = (np.arange(fade, 0, -1) / (fade + 1.0)).astype(np.float32)   # 1 -> 0, exclusive
    gain[max(start - fade, 0):start] = ramp[fade - min(start, fade):]
    end = start + length
    gain[end:end + fade] = ramp[::-1][:len(gain[end:end + fade])]
    return (audio * gain).astype(np.float32)


@dataclass
class EarlierOutput:
    """What the chain's earlier stages make of a test input: the voice this stage gets, and
    a separation's other outputs, which `aural regenerate` mixes back under it."""

    voice: np.ndarray                       # 1-D
    others: dict[str, np.ndarray]           # output name -> 1-D; empty without a separation
    background_db: float | None             # their level under the voice (regenerate's mix)
    rate: int
    runs_here: bool                         # whether regenerate runs this stage after them

    def remixed(self, voice: np.ndarray) -> np.ndarray:
        """``voice`` (this stage's output or the earlier stages') with the others back under
        it at ``background_db``."""
        from aural.mastering.stems import VOICE, remix

        if not self.others:
            return voice
        return remix({VOICE: voice, **self.others}, self.rate, self.background_db)[0]


def _first_and_others(stage: Any, out: Any, others: dict[str, np.ndarray]
                      ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A stage's ``process`` output split into its first output (1-D, passed on down the
    chain) and its other outputs (kept, as the chain keeps them, beside ``others``)."""
    if not isinstance(out, dict):
        return out[0], others
    first, *rest = stage.outputs
    return out[first][0], {**others, **{name: out[name][0] for name in rest}}


@dataclass
class FrequencyGenerationConfig(FrequencyExpansionConfig):
    """Settings beyond frequency_expansion's (defaults = the shipped model's)."""

    max_minutes: float = 40.0
    learning_rate: float = 2e-4
    init_from: str | None = "frequency_expansion"
    max_gain_db: float = 12.0
    adversarial_weight: float = 0.0          # 1: the GAN; off by default (README ablation)
    feature_weight: float = 2.0
    reconstruction_weight: float = 45.0
    full_band_probability: float = 0.15     # pairs left undamaged: "leave it alone"
    phone_damage: str | dict[str, Any] | None = "mild"   # a PHONE_DAMAGE name, settings or None
    earlier_stages: tuple[str, ...] = ("noise_reduction", "frequency_expansion")
    recorded_noise: bool = False             # the split's noise and room recordings in pairs
    inference_gain_scale: float = 1.0        # run-time scale of the dB gains (tuned on validation)
    inference_min_hz: float = 0.0            # gains fade out below it (tuned on validation)
    chain_by_content: bool = True            # pairs skip what regenerate skips (music, clean)
    pause_probability: float = 0.3           # pairs with a span of digital silence (a pause)
    loss_within_bandwidth: bool = True       # no loss above a target's own bandwidth
    validation_metric: str = "lsd"           # what picks the kept weights: "lsd" or "pesq_wb"
    overshoot_weight: float = 1.0            # loss weight of bands made louder than the target
    loudness_weight: float = 0.0             # + L1 of loudness in the bands PESQ-wb hears
    network: dict[str, Any] = field(default_factory=lambda: {
        "channels": [16, 32, 48, 64], "bottleneck_units": 128, "dilations": [1, 2, 4, 8]})


class FrequencyGeneration(FrequencyExpansion):
    """Band-gain U-Net generator (+-12 dB) trained against spectral discriminators."""

    name = "frequency_generation"
    config_class = FrequencyGenerationConfig
    description = ("Restores studio timbre after bandwidth extension: a GAN-trained band U-Net "
                   "predicts per-band gains in +-12 dB, applied to the 48 kHz STFT; it starts "
                   "as the identity.")
    report_metrics = ("lsd", "lsd_above_4khz", "pesq_wb", "visqol", "dnsmos_ovrl", "si_sdr",
                      "energy_above_reference_db", "tonal_excess_db")
    transfer_skip = ("head",)   # frequency_expansion's head predicts power, ours gains

    config: FrequencyGenerationConfig

    def __init__(self, config: FrequencyGenerationConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.choose_validation_metric(self.config.validation_metric, {
            "lsd": self.score_name, "pesq_wb": "val PESQ-wb improvement"})

    # ---- data: clean full band against the earlier stages' output -----------------------------
    @cached_property
    def earlier(self) -> list[Any]:
        """The shipped stages that run before this one, loaded once."""
        from aural.stages import stage_class

        return [stage_class(name).load() for name in self.config.earlier_stages]

    def load_training_pool(self, split: str) -> FullBandPool:
        """frequency_expansion's pool, each recording's content decided as `aural regenerate`
        decides it (from its first minute), so that pairs go through the stages it would run."""
        pool = self.with_contents(super().load_training_pool(split))
        if self.config.recorded_noise and self.config.phone_damage is not None:
            self.add_noise_and_rooms(pool, split)
        return pool

    def add_noise_and_rooms(self, pool: FullBandPool, split: str) -> None:
        """The split's noise recordings and room responses, for the phone damage (without
        them the simulator makes hiss, hum and synthetic rooms)."""
        from aural.data.simulator import noise_and_room_recordings
        from aural.data.sources import catalogue
        from aural.hashing import data_fingerprint

        recordings = catalogue(split=split, kinds=("noise", "rir"))
        found = noise_and_room_recordings(recordings, self.config.sample_rate)
        pool.noises, pool.rirs = found.noises, found.rirs
        paths = [str(r.path) for r in recordings]
        pool.file_count += len(paths)
        pool.fingerprint = data_fingerprint([pool.fingerprint, *paths])

    def add_user_recordings(self, pool: FullBandPool, recordings: list[np.ndarray]) -> None:
        super().add_user_recordings(pool, recordings)
        pool.contents += self.contents_of(recordings)   # the pool's own are decided already

    def with_contents(self, pool: FullBandPool) -> FullBandPool:
        """``pool`` with the content of every recording decided from its audio."""
        pool.contents = self.contents_of(pool.recordings)
        return pool

    def contents_of(self, recordings: list[np.ndarray]) -> list[str]:
        """Speech or music per recording, as `aural regenerate` decides it; with
        ``chain_by_content`` only (it costs up to half a second per recording)."""
        from aural.content import classify_content

        if not self.config.chain_by_content:
            return []
        return [classify_content(audio, self.config.sample_rate).content for audio in recordings]

    def chain_for(self, signal: np.ndarray, rate: int, content: str | None = None) -> list[Any]:
        """The earlier stages and this one, as far as `aural regenerate` would run them on
        ``signal``: it leaves out those that treat a music accompaniment as noise,
        noise_reduction when the recording is already clean, and this stage when it is
        full band. ``content`` None: decided from the signal, as there."""
        from aural.regenerate import recording_conditions

        return self.chain_in(recording_conditions(signal, rate, content or "auto"))

    def chain_in(self, conditions: Any) -> list[Any]:
        """:meth:`chain_for` a recording in these :class:`aural.regenerate.Conditions`."""
        from aural.regenerate import stages_to_run

        return stages_to_run([*self.earlier, self], conditions)[0]

    def earlier_for(self, signal: np.ndarray, rate: int, content: str | None = None) -> list[Any]:
        """The earlier stages of :meth:`chain_for`."""
        return [stage for stage in self.chain_for(signal, rate, content) if stage is not self]

    def earlier_stages_for_pair(self, signal: np.ndarray, content: str | None = None
                                ) -> list[Any]:
        """The earlier stages a training input goes through: as in the chain (without
        ``chain_by_content``: all of them, as the first models were trained)."""
        if not self.config.chain_by_content:
            return list(self.earlier)
        return self.earlier_for(np.asarray(signal, np.float32), self.config.sample_rate, content)

    @staticmethod
    def through(stages: list[Any], signal: np.ndarray) -> np.ndarray:
        """``signal`` (1-D, at the stages' rate) through ``stages``, keeping the first output
        of each: the voice of a separation, which the chain passes on to this stage."""
        signal = np.asarray(signal, np.float32)
        for stage in stages:
            signal = stage.run_channel(signal)[stage.outputs[0]]
        return np.asarray(signal, np.float32)

    def separated_target(self, stages: list[Any], target: np.ndarray) -> np.ndarray:
        """The target for a voice this stage gets from a separation: the same separation of
        the clean recording (for speech about the recording itself; for a song its voice,
        which is all that this stage sees of it in the chain)."""
        separations = [stage for stage in stages if len(stage.outputs) > 1]
        return self.through(separations, target) if separations else target

    @cached_property
    def damage(self) -> Any:
        """The simulator settings of ``phone_damage``; refused when they ask for real codecs
        and no ffmpeg runs here (the pairs would silently differ from the shipped model's)."""
        from aural.data.simulator import DamageConfig

        settings = self.config.phone_damage or {}
        if isinstance(settings, str):
            if settings not in PHONE_DAMAGE:
                raise AuralError(f"phone_damage must be one of {', '.join(PHONE_DAMAGE)}, "
                                 f"simulator settings or null, not {settings!r}")
            settings = PHONE_DAMAGE[settings]
        damage = DamageConfig.from_settings(copy.deepcopy(settings))
        require_ffmpeg(damage, "phone damage", hint=", or --set phone_damage=null for "
                                                     "band-limited pairs")
        return damage

    def make_pair(self, rng: np.random.Generator, pool: FullBandPool) -> TrainingPair:
        """Phone damage (or, with ``phone_damage`` None, frequency_expansion's band-limit and
        hiss), then the earlier stages; the target is the clean excerpt."""
        from aural.data.simulator import simulate

        if self.config.phone_damage is None:
            pair = super().make_pair(rng, pool)
        else:
            clean, bandwidth, content = self.clean_excerpt(rng, pool)
            if rng.random() < self.config.pause_probability:
                clean = with_pause(clean, self.config.sample_rate, rng)
            degraded = clean
            if rng.random() >= self.config.full_band_probability:
                degraded, _ = simulate(clean, self.config.sample_rate, rng, self.damage,
                                       noises=pool.noises, rirs=pool.rirs)
            pair = TrainingPair(degraded, clean,
                                info={"bandwidth_hz": bandwidth, "content": content})
        stages = self.earlier_stages_for_pair(pair.degraded, pair.info.get("content"))
        return TrainingPair(self.through(stages, pair.degraded),
                            self.separated_target(stages, pair.target), info=pair.info)

    # ---- network -----------------------------------------------------------------------------
    def build_model(self) -> Any:
        return self.band_unet(output_activation="tanh", n_inputs=2, zero_output=True)

    def example(self, pair: TrainingPair) -> tuple[np.ndarray, np.ndarray]:
        """Input features and mask; per bin the input's and the target's STFT power, and 1
        where the target recording has content (below its bandwidth less ``margin_hz``)."""
        degraded = self.spectrum(pair.degraded)
        target = self.spectrum(pair.target)
        recorded = np.ones(target.shape, np.float32)
        if self.config.loss_within_bandwidth:
            bandwidth = float(pair.info.get("bandwidth_hz", self.config.sample_rate / 2.0))
            bin_hz = np.fft.rfftfreq(self.stft_config.n_fft, 1.0 / self.config.sample_rate)
            recorded = np.broadcast_to(bin_hz < bandwidth - self.config.margin_hz, target.shape)
        powers = np.stack([np.abs(degraded) ** 2, np.abs(target) ** 2, recorded], axis=-1)
        return (self.conditioned(self.network_input(degraded), pair.degraded),
                powers.astype(np.float32))

    def training_model(self) -> Any:
        from aural.gan import GanTrainer

        c = self.config
        if (c.auxiliary_pitch_weight > 0 or c.auxiliary_voice_weight > 0
                or c.perceptual_loss_weighting):
            raise AuralError("frequency_generation's GAN training has no auxiliary head or "
                             "perceptual loss weighting; leave those switches off")
        trainer = GanTrainer(self.build_model(), pool=self.bands.pool, expand=self.bands.expand,
                             max_gain_db=c.max_gain_db, adversarial_weight=c.adversarial_weight,
                             feature_weight=c.feature_weight,
                             reconstruction_weight=c.reconstruction_weight,
                             overshoot_weight=c.overshoot_weight,
                             loudness_weight=c.loudness_weight,
                             loudness_bands=self.bands.centres_hz < PESQ_WB_RATE / 2)
        trainer.compile_pair(c.learning_rate)
        return trainer

    def inference_model(self, training_model: Any) -> Any:
        return training_model.generator

    # ---- run time ----------------------------------------------------------------------------
    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        spectrum = self.spectrum(signal)
        x = self.conditioned(self.network_input(spectrum), signal)
        gains_db = self.predict(x) * self.config.max_gain_db * self.config.inference_gain_scale
        gains = self.bands.bin_gains(10 ** (gains_db * self.band_weights() / 20.0))
        return {"audio": self.waveform(spectrum * gains, len(signal)).astype(np.float32)}

    def band_weights(self) -> np.ndarray:
        """Per band, the share of the predicted gain applied: 1 from ``inference_min_hz`` up,
        fading to 0 over the octave below it, so the band a phone keeps can be left alone."""
        low = self.config.inference_min_hz
        if low <= 0:
            return np.ones(len(self.bands.centres_hz), np.float32)
        octaves = np.log2(np.maximum(self.bands.centres_hz, 1.0) / low)
        return np.clip(octaves + 1.0, 0.0, 1.0).astype(np.float32)

    def evaluated(self, degraded: np.ndarray, rate: int) -> np.ndarray:
        """The earlier stages, then this one, as `aural regenerate` runs them (:meth:`chain_for`;
        after a separation on the voice, with the background back under it as its mix puts
        it): what the chain does to a phone recording."""
        earlier = self.through_earlier(degraded, rate)
        voice = super().evaluated(earlier.voice, rate) if earlier.runs_here else earlier.voice
        return earlier.remixed(voice)

    def earlier_evaluated(self, degraded: np.ndarray, rate: int) -> np.ndarray:
        """A 1-D test input through the earlier stages alone, those that `aural regenerate`
        would run on it (its content decided from the audio, as there), remixed as there."""
        earlier = self.through_earlier(degraded, rate)
        return earlier.remixed(earlier.voice)

    def through_earlier(self, degraded: np.ndarray, rate: int) -> "EarlierOutput":
        """A test input through the earlier stages of :meth:`chain_for`. Kept per input: an
        evaluation asks for each item twice (the stage and the earlier-stages row) and a
        sweep once per value, and only this stage's settings change between those calls."""
        from aural.hashing import signals_key
        from aural.regenerate import DEFAULT_BACKGROUND_DB, recording_conditions

        key = (signals_key(degraded), rate,
               tuple(id(stage) for stage in self.earlier))
        if key not in self._earlier_outputs:
            conditions = recording_conditions(degraded, rate, "auto")
            chain = self.chain_in(conditions)
            voice, others = degraded, {}
            for stage in chain:
                if stage is not self:
                    voice, others = _first_and_others(stage, stage.process(voice[None], rate),
                                                      others)
            if len(self._earlier_outputs) >= EARLIER_OUTPUTS_KEPT:
                self._earlier_outputs.pop(next(iter(self._earlier_outputs)))  # the oldest
            self._earlier_outputs[key] = EarlierOutput(
                voice, others, DEFAULT_BACKGROUND_DB[conditions.content], rate, self in chain)
        return self._earlier_outputs[key]

    @cached_property
    def _earlier_outputs(self) -> dict[tuple[Any, ...], "EarlierOutput"]:
        return {}

    # ---- evaluation --------------------------------------------------------------------------
    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """frequency_expansion's held-out files (up to three per speaker or song: the held-out
        full-band material is six sources), each through the phone damage of
        :data:`PHONE_TEST_DAMAGE` (seeded by its name), plus the full-band originals (do no
        harm). With ``phone_damage`` None: low-passed at 4 and 8 kHz instead."""
        if self.config.phone_damage is None:
            return [item for item in super().test_items(split)
                    if item["cutoff_hz"] in TEST_CUTOFFS_HZ or item["group"].startswith("full")]
        items = []
        for name, clean, content, top in self.test_recordings(split, TEST_FILES_PER_SOURCE):
            for kind, settings in PHONE_TEST_DAMAGE.items():
                items.append(self.phone_item(name, clean, content, top, kind, settings))
            items += self.full_band_items(name, clean, content, top)
        return items

    def phone_item(self, name: str, clean: np.ndarray, content: str, top: float, kind: str,
                   settings: dict[str, Any]) -> dict[str, Any]:
        """One test item: ``clean`` through the simulator with ``settings``."""
        from aural.data.simulator import DamageConfig, simulate

        damage = DamageConfig.from_settings(settings)
        require_ffmpeg(damage, "test set")
        rng = np.random.default_rng(zlib.crc32(f"{name}/{kind}".encode()))
        degraded, drawn = simulate(clean, self.config.sample_rate, rng, damage, noises=[],
                                   rirs=[])
        cutoff = min(drawn["mic_response"]["lowpass_hz"],
                     drawn["codec"].get("band_limit_hz", top))
        return {"name": f"{name}@{kind.replace(' ', '_')}", "degraded": degraded,
                "reference": clean, "group": f"{kind} {content}", "cutoff_hz": cutoff,
                "bandwidth_hz": top, "damage": drawn}

    def item_metrics(self, item: dict[str, Any], estimate: np.ndarray) -> dict[str, float]:
        """frequency_expansion's (LSD to the file's bandwidth, energy added above it), LSD
        above 4 kHz, the strongest added tonal line, ViSQOL, and DNSMOS on speech."""
        from aural.metrics import dnsmos, log_spectral_distance, tonal_excess_db, visqol

        rate, reference, top = self.config.sample_rate, item["reference"], item["bandwidth_hz"]
        scores = super().item_metrics(item, estimate)
        scores["lsd_above_4khz"] = log_spectral_distance(reference, estimate, rate,
                                                         min_hz=4000.0, max_hz=top)
        scores["tonal_excess_db"] = tonal_excess_db(reference, estimate, rate, max_hz=top)
        scores["visqol"] = visqol(reference, estimate, rate)
        scores["dnsmos_ovrl"] = (dnsmos(estimate, rate)["dnsmos_ovrl"]
                                 if "speech" in item["group"] else float("nan"))
        return scores

    def validation_score(self, pairs: list[TrainingPair]) -> float:
        """Mean LSD reduction (dB) against the earlier stages' output or, with
        ``validation_metric="pesq_wb"``, mean PESQ-wb improvement."""
        from aural.metrics import log_spectral_distance

        if self.config.validation_metric == "pesq_wb":
            return self.pesq_wb_gain(pairs)

        rate, gains = self.config.sample_rate, []
        for pair in pairs:
            top = min(float(pair.info.get("bandwidth_hz", rate / 2)), rate / 2)
            estimate = self.run_channel(pair.degraded)["audio"]
            before = log_spectral_distance(pair.target, pair.degraded, rate, max_hz=top)
            gains.append(before - log_spectral_distance(pair.target, estimate, rate, max_hz=top))
        return float(np.mean(gains)) if gains else float("nan")

    def baselines(self) -> dict[str, Any]:
        """The earlier stages alone (those regenerate runs on each item: noise_reduction is
        left out of music and clean takes), and the classical chain: spectral folding, then
        a harmonic exciter."""
        from aural.baselines.bandwidth import harmonic_exciter, spectral_folding

        return {"earlier stages alone (" + " then ".join(self.config.earlier_stages) + ", as "
                "regenerate runs them)": self.earlier_evaluated,
                "spectral folding + harmonic exciter":
                lambda x, rate: harmonic_exciter(spectral_folding(x, rate), rate)}

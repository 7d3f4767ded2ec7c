"""dynamic_compression: undoes a phone's automatic gain control, over-compression and
limiting, and eases clipped peaks.

A phone's AGC and compressor change the level over time, band by band at most; undoing
them means boosting as well as cutting. A compact band U-Net with a long temporal
bottleneck (dilated convolutions reaching about 2.7 s each way, longer than an AGC's
release) predicts a gain per band and frame in +-30 dB, applied to the input's STFT. The
overall level is left alone (the target has the degraded recording's level): even
levelling to a loudness target is mix_and_master's job. Training pairs come from the phone
simulator (one module makes every pair): AGC, compression, clipping and mild noise on
real speech and music.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aural.errors import AuralError
from aural.stages.base import TrainingPair
from aural.stages.spectral import SpectralConfig, SpectralStage

#: Damage the test set applies, each alone, to held-out speech and music.
TEST_DAMAGE = ("agc", "compression", "clipping 1%", "clipping 5%", "clipping 20%")
#: Gains are tanh outputs scaled to this range (dB).
MAX_GAIN_DB = 30.0
#: Below this power (dB) both signals are taken as silent: no gain to learn there.
AUDIBLE_DB = -75.0


def _damage(kind: str | None = None):
    """Simulator settings: the stage's training mix, or one kind of damage for the tests."""
    from aural.data.simulator import DamageConfig

    off = {name: {"enabled": False} for name in ("reverb", "mic_response", "codec", "level")}
    training = {"agc": {"probability": 0.6, "attack_s": [0.005, 0.3], "release_s": [0.1, 3.0],
                        "target_dbfs": [-26.0, -12.0], "max_gain_db": [10.0, 30.0]},
                "over_compression": {"probability": 0.5, "ratio": [2.0, 20.0],
                                     "threshold_db": [-35.0, -10.0]},
                "clipping": {"probability": 0.35, "clipped_fraction": [0.001, 0.2],
                             "soft_probability": 0.4},
                "noise": {"probability": 0.5, "snr_db": [25.0, 45.0]}}
    if kind is not None:
        one = {"agc": "agc", "compression": "over_compression"}.get(kind, "clipping")
        training = {name: ({**values, "probability": 1.0} if name == one
                           else {"enabled": False}) for name, values in training.items()}
        if one == "clipping":
            fraction = float(kind.split()[1].rstrip("%")) / 100.0
            training["clipping"].update(clipped_fraction=[fraction, fraction], soft_probability=0.0)
    return DamageConfig.from_dict({**off, **training})


@dataclass
class DynamicCompressionConfig(SpectralConfig):
    """Dynamics settings beyond the shared ones (defaults = the shipped model's)."""

    n_fft: int = 1024                       # 21 ms frames, 10.7 ms hop at 48 kHz
    linear_below_hz: float = 250.0          # 6 single bins below, ERB bands above
    n_erb_bands: int = 26                   # 32 features in all
    segment_seconds: float = 4.0            # longer than an AGC's release
    batch_size: int = 12
    learning_rate: float = 2e-3
    steps_per_epoch: int = 150
    max_minutes: float = 45.0
    patience: int = 20
    music_probability: float = 0.3
    clean_probability: float = 0.1          # undamaged examples: "leave it alone"
    level_range_dbfs: tuple[float, float] = (-32.0, -14.0)
    # The gain target: band powers averaged over this many frames (an AGC or compressor
    # moves the level smoothly; frame-by-frame ratios are mostly noise) and, if broadband,
    # over all bands (the damage is broadband).
    target_smoothing_frames: int = 5
    broadband_target: bool = True
    # Clipped runs bridged by a spline before the gains. Off: on the validation split's
    # clipped items it gains 3.1-5.3 dB SI-SDR on speech but loses 2.8-5.8 dB on music.
    declip: bool = False
    inference_smoothing_frames: int = 1     # gains averaged over this many frames at run time
    network: dict[str, Any] = field(default_factory=lambda: {
        "channels": [16, 24, 32, 48], "bottleneck_units": 96,
        "dilations": [1, 2, 4, 8, 16, 32, 64]})


@dataclass
class DynamicsPool:
    """Speech clips by speaker and music recordings of one split, at the stage's rate."""

    speakers: dict[str, list[np.ndarray]]
    music: list[np.ndarray]
    sources: list[str]
    file_count: int
    fingerprint: str


class DynamicCompression(SpectralStage):
    """Band-gain U-Net (+-30 dB) with a long temporal context, at 48 kHz."""

    name = "dynamic_compression"
    config_class = DynamicCompressionConfig
    description = ("Undoes AGC pumping and over-compression: per-band gains in +-30 dB from a "
                   "band U-Net that sees about 2.7 s either side, applied to the 48 kHz STFT.")
    report_metrics = ("short_term_loudness_error", "si_sdr", "pesq_wb")
    selection_metric = "score"

    config: DynamicCompressionConfig

    # ---- data -----------------------------------------------------------------------------
    def load_training_pool(self, split: str) -> DynamicsPool:
        from aural.audio_io import load_audio
        from aural.data.sources import catalogue
        from aural.hashing import data_fingerprint

        if split == "test":
            raise ValueError("the test split is for evaluation only; see test_items()")
        rate = self.config.sample_rate
        speakers: dict[str, list[np.ndarray]] = {}
        music, paths, sources = [], [], set()
        limit = self.config.max_files_per_kind
        recordings = catalogue(split=split, kinds=("speech", "music"),
                               collections=("gcompris", "sonic_pi_music"))
        taken: dict[str, int] = {}
        for recording in recordings:
            if recording.kind == "music" and "vocal" in recording.path.stem.lower():
                continue
            taken[recording.kind] = taken.get(recording.kind, 0) + 1
            if limit is not None and taken[recording.kind] > limit:
                continue
            try:
                audio = load_audio(recording.path, sample_rate=rate, mono=True)[0][0]
            except AuralError:
                continue  # a handful of shared files do not decode; the survey lists them
            paths.append(str(recording.path))
            sources.add(recording.origin)
            if recording.kind == "music":
                music.append(audio)
            else:
                speakers.setdefault(recording.source, []).append(audio)
        if not speakers:
            raise AuralError(f"no {split} speech found for {self.name}")
        return DynamicsPool(speakers, music, sorted(sources), len(paths), data_fingerprint(paths))

    def add_user_recordings(self, pool: DynamicsPool, recordings: list[np.ndarray]) -> None:
        """A user's clean recordings join as one more speaker."""
        pool.speakers.setdefault("user", []).extend(recordings)

    def _clean_segment(self, rng: np.random.Generator, pool: DynamicsPool, length: int) -> np.ndarray:
        from aural.data.mixing import joined_clips, random_excerpt

        if pool.music and rng.random() < self.config.music_probability:
            return random_excerpt(pool.music[int(rng.integers(len(pool.music)))], length, rng)
        # One speaker's clips joined with pauses: an AGC does its worst in the pauses.
        clips = pool.speakers[list(pool.speakers)[int(rng.integers(len(pool.speakers)))]]
        return joined_clips(rng, clips, length, self.config.sample_rate, (0.05, 0.7))

    def make_pair(self, rng: np.random.Generator, pool: DynamicsPool) -> TrainingPair:
        from aural.data.simulator import simulate

        c = self.config
        length = int(c.segment_seconds * c.sample_rate)
        clean = self.augmented(self._clean_segment(rng, pool, length), rng).astype(np.float32)
        rms = np.sqrt(np.mean(clean ** 2)) + 1e-9
        clean = clean * (10 ** (rng.uniform(*c.level_range_dbfs) / 20) / rms)
        clean = np.clip(clean, -0.99, 0.99).astype(np.float32)
        if rng.random() < c.clean_probability:
            return TrainingPair(clean.copy(), clean)
        degraded, _ = simulate(clean, c.sample_rate, rng, _damage(), noises=[], rirs=[])
        # The network sees what it will see at run time: clipped runs already bridged.
        degraded = self.declipped(degraded)
        # The target keeps the degraded recording's overall level: only the dynamics change.
        scale = np.sqrt(np.mean(degraded ** 2) / (np.mean(clean ** 2) + 1e-12))
        return TrainingPair(degraded.astype(np.float32), (clean * scale).astype(np.float32))

    def declipped(self, signal: np.ndarray) -> np.ndarray:
        """Clipped runs bridged by a spline, every other sample kept exactly (if ``declip``)."""
        from aural.baselines.dynamics import spline_declip

        return spline_declip(signal, self.config.sample_rate) if self.config.declip else signal

    # ---- network --------------------------------------------------------------------------
    def example(self, pair: TrainingPair) -> tuple[np.ndarray, np.ndarray]:
        """Features; target: the band-level change (in +-30 dB units) and a loss weight."""
        degraded, target = self.spectrum(pair.degraded), self.spectrum(pair.target)
        x = self.conditioned(self.features(degraded), pair.degraded)
        before, after = self._smoothed_power(degraded), self._smoothed_power(target)
        delta = 10.0 * np.log10((after + 1e-12) / (before + 1e-12)) / MAX_GAIN_DB
        delta = np.broadcast_to(delta, x.shape[:2])
        # Frames and bands where both are near silence carry no information about the gain.
        audible = np.maximum(before, after) > 10 ** (AUDIBLE_DB / 10.0)
        weight = np.broadcast_to(np.where(audible, 1.0, 0.05) * self.loss_band_weights(), x.shape[:2])
        return x, np.stack([np.clip(delta, -1.0, 1.0), weight], axis=-1).astype(np.float32)

    def _smoothed_power(self, spectrum: np.ndarray) -> np.ndarray:
        """Band powers moving-averaged over time, and summed over bands if broadband:
        ``(frames, features)`` or ``(frames, 1)``."""
        power = self.bands.band_power(spectrum).astype(np.float64)
        if self.config.broadband_target:
            power = power.sum(axis=1, keepdims=True)
        width = max(int(self.config.target_smoothing_frames), 1)
        kernel = np.ones(width) / width
        return np.stack([np.convolve(column, kernel, mode="same") for column in power.T], axis=1)

    def build_model(self) -> Any:
        return self.band_unet(output_activation="tanh")

    def loss(self) -> Any:
        from aural.losses import WeightedBandLoss

        return WeightedBandLoss()

    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        """Bridge clipped runs, then apply the network's gains."""
        return super().run_channel(self.declipped(np.asarray(signal, np.float32)))

    def apply_output(self, spectrum: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        """Band gains in dB (tanh x 30), smoothed like the targets were, spread over the bins
        and applied to the input's STFT."""
        gains = 10 ** (self.smoothed_gain_db(output) / 20.0)
        return {"audio": spectrum * self.bands.bin_gains(gains)}

    def smoothed_gain_db(self, output: np.ndarray) -> np.ndarray:
        """The network's gains in dB, ``(frames, features)``: averaged over the bands when
        the targets were broadband and over ``inference_smoothing_frames`` frames, so that
        frame-to-frame jitter does not modulate the sound."""
        gain_db = np.asarray(output, np.float64) * MAX_GAIN_DB
        if self.config.broadband_target:
            gain_db = np.broadcast_to(gain_db.mean(axis=1, keepdims=True), gain_db.shape)
        width = max(int(self.config.inference_smoothing_frames), 1)
        if width > 1:
            kernel = np.ones(width) / width
            padded = np.pad(gain_db, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
            gain_db = np.stack([np.convolve(c, kernel, mode="valid") for c in padded.T], axis=1)
        return gain_db

    # ---- evaluation -------------------------------------------------------------------------
    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """Held-out speech and songs (one recording per speaker or song), each with every kind
        of damage of :data:`TEST_DAMAGE` alone, plus the clean original (do no harm)."""
        from aural.audio_io import load_audio
        from aural.data.simulator import simulate
        from aural.data.sources import catalogue

        rate = self.config.sample_rate
        # One recording per speaker or song: a speaker's files joined with short pauses up
        # to 20 s, so the 3 s loudness windows have a contour to follow.
        joined: dict[str, list[np.ndarray]] = {}
        kinds: dict[str, str] = {}
        for recording in catalogue(split=split, kinds=("speech", "music")):
            if recording.source.startswith("klettres_") or (
                    recording.kind == "music" and "mix" not in recording.path.stem.lower()):
                continue
            parts = joined.setdefault(recording.source, [])
            if sum(len(p) for p in parts) < 20 * rate:
                parts += [load_audio(recording.path, sample_rate=rate, mono=True)[0][0],
                          np.zeros(int(0.3 * rate), np.float32)]
            kinds[recording.source] = recording.kind
        items = []
        for index, (source, parts) in enumerate(sorted(joined.items())):
            clean = np.concatenate(parts)[: 20 * rate]
            clean = (clean * 10 ** (-22 / 20) / (np.sqrt(np.mean(clean ** 2)) + 1e-9)).astype(np.float32)
            content = "music" if kinds[source] == "music" else "speech"
            for number, kind in enumerate(TEST_DAMAGE):
                rng = np.random.default_rng([index, number, 11])
                degraded, _ = simulate(clean, rate, rng, _damage(kind), noises=[], rirs=[])
                scale = np.sqrt(np.mean(degraded ** 2) / (np.mean(clean ** 2) + 1e-12))
                items.append({"name": f"{source}@{kind}", "degraded": degraded,
                              "reference": (clean * scale).astype(np.float32),
                              "group": f"{kind}, {content}"})
            items.append({"name": f"{source}@clean", "degraded": clean.copy(), "reference": clean,
                          "group": f"clean, {content}"})
        return items

    def baselines(self) -> dict[str, Any]:
        from aural.baselines.dynamics import BASELINES

        return dict(BASELINES)

    def pictured_items(self, items: list[dict[str, Any]]) -> list[str]:
        """The first AGC-damaged speech item and the first 5 %-clipped one."""
        wanted = ("agc, speech", "clipping 5%, speech")
        return [next(i["name"] for i in items if i["group"] == g) for g in wanted
                if any(i["group"] == g for i in items)]

    def report_pictures(self, out_dir: Path, items: dict[str, dict[str, Any]],
                        outputs: dict[str, dict[str, np.ndarray]]) -> None:
        """``loudness.png``: short-term loudness of input, output and reference over an
        AGC-damaged file; ``clipping.png``: the waveform around the loudest clipped peak."""
        from aural.plots import plot_clipped_peak, plot_loudness_contours

        rate = self.config.sample_rate
        for name, item in items.items():
            curves = {"reference": item["reference"], **outputs[name]}
            if item["group"].startswith("agc"):
                plot_loudness_contours(out_dir / "loudness.png", curves, rate, title=name)
            else:
                plot_clipped_peak(out_dir / "clipping.png", item["degraded"], curves, rate,
                                  title=name)

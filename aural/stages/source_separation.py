"""source_separation: splits a recording into voice (speech or singing) and background.

The band U-Net of noise_reduction predicts one soft mask per band feature; the voice is
the mask applied to the mixture's STFT, and the background is the mixture minus the voice
in the time domain, so the two stems always sum to the input (mixture consistency). By
default training starts from the shipped noise_reduction weights (same network): that
stage already knows what a voice looks like against noise and instrumental music.
Trained on real speech and singing over real music and ambience, at voice-to-background
ratios from -10 to +15 dB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aural.data.mixing import joined_clips, power, random_excerpt, scale_to_rms_db, scale_to_snr
from aural.dsp.filters import apply_sos, butter_lowpass
from aural.stages.base import TrainingPair
from aural.stages.spectral import SpectralConfig, SpectralStage

#: The music and ambience the stage learns to keep apart from a voice.
COLLECTIONS = ("gcompris", "sonic_pi_music", "fretsonfire")
#: A dry opera voice the catalogue keeps outside its songs: singing for training.
EXTRA_SINGING = "music/misc/singing_anechoic_openair.wav"


@dataclass
class SourceSeparationConfig(SpectralConfig):
    """Separation settings beyond the shared ones (defaults = the shipped model's)."""

    n_fft: int = 1536                      # as noise_reduction: its weights fit this network
    n_erb_bands: int = 32
    segment_seconds: float = 2.0
    batch_size: int = 16
    learning_rate: float = 1e-3
    steps_per_epoch: int = 150
    max_minutes: float = 55.0
    patience: int = 40                     # the validation score is noisy (+-0.5 dB per epoch)
    init_from: str | None = "noise_reduction"   # transfer: start from that stage's model
    ratio_range_db: tuple[float, float] = (-10.0, 15.0)
    level_range_dbfs: tuple[float, float] = (-38.0, -18.0)
    singing_probability: float = 0.2
    ambience_probability: float = 0.3      # the rest of the backgrounds are music
    voice_only_probability: float = 0.05   # teaches an empty background
    background_only_probability: float = 0.07  # teaches an empty voice
    band_limit_probability: float = 0.3    # a phone's bandwidth on the whole mixture
    background_weight: float = 1.0
    loss_exponent: float = 0.3
    complex_loss_weight: float = 0.3
    network: dict[str, Any] = field(default_factory=lambda: {
        "channels": [16, 32, 48, 64], "bottleneck_units": 128, "dilations": [1, 2, 4, 8]})


@dataclass
class SeparationPool:
    """Recordings one split offers at the stage's rate: voices by speaker, backgrounds."""

    speakers: dict[str, list[np.ndarray]]
    singing: list[np.ndarray]
    music: list[np.ndarray]
    ambience: list[np.ndarray]
    sources: list[str]
    file_count: int
    fingerprint: str


class SourceSeparation(SpectralStage):
    """Two stems, voice and background, from one band mask at 48 kHz."""

    name = "source_separation"
    voice_target = True
    config_class = SourceSeparationConfig
    outputs = ("voice", "background")
    description = ("Splits a recording into voice (speech or singing) and background: one soft "
                   "mask per band feature from a compact U-Net gives the voice; the background "
                   "is the input minus the voice, so the stems sum to the input.")
    report_metrics = ("voice_si_sdr_i", "background_si_sdr_i", "voice_sdr_i", "pesq_wb", "stoi",
                      "leak_db")
    selection_metric = "score"
    score_name = "val SI-SDR gain, mean of both stems (dB)"

    config: SourceSeparationConfig

    # ---- data ---------------------------------------------------------------------------
    def load_training_pool(self, split: str) -> SeparationPool:
        from aural.audio_io import load_audio
        from aural.data.songs import accompaniments, separable_songs
        from aural.data.sources import catalogue, shared_data_dir
        from aural.errors import AuralError
        from aural.hashing import data_fingerprint

        if split == "test":
            raise ValueError("the test split is for evaluation only; see test_items()")
        rate, limit = self.config.sample_rate, self.config.max_files_per_kind
        recordings = [r for r in catalogue(split=split, kinds=("speech", "noise", "music"),
                                           collections=COLLECTIONS)
                      if not r.source.startswith("musdb")]   # MUSDB: a test song here
        speakers: dict[str, list[np.ndarray]] = {}
        ambience, paths, sources, taken = [], [], set(), {"speech": 0, "noise": 0}
        for recording in recordings:
            if recording.kind == "music":
                continue
            taken[recording.kind] += 1
            if limit is not None and taken[recording.kind] > limit:
                continue
            audio = load_audio(recording.path, sample_rate=rate, mono=True)[0][0]
            if recording.kind == "speech":
                speakers.setdefault(recording.source, []).append(audio)
            else:
                ambience.append(audio)
            paths.append(str(recording.path))
            sources.add(recording.origin)
        songs = [r for r in recordings if r.kind == "music"]
        music = [audio for _, audio, _ in accompaniments(songs, rate)][:limit]
        singing = [voice for _, voice, _, _ in separable_songs(songs, rate)]
        paths += [str(r.path) for r in songs]
        if split == "train":
            opera = shared_data_dir() / EXTRA_SINGING
            if opera.exists():
                singing.append(load_audio(opera, sample_rate=rate, mono=True)[0][0])
                paths.append(str(opera))
        sources.update(r.origin for r in songs)
        if not speakers or not (music or ambience):
            raise AuralError(f"no {split} voices or backgrounds found for {self.name}; "
                             "`aural fetch-data` brings in the music and ambience it trains on")
        return SeparationPool(speakers, singing, music, ambience, sorted(sources), len(paths),
                              data_fingerprint(paths))

    def add_user_recordings(self, pool: SeparationPool, recordings: list[np.ndarray]) -> None:
        """A user's clean voice recordings join the voices (as one more speaker)."""
        pool.speakers.setdefault("user", []).extend(recordings)

    def _voice(self, rng: np.random.Generator, pool: SeparationPool, length: int) -> np.ndarray:
        if pool.singing and rng.random() < self.config.singing_probability:
            return random_excerpt(pool.singing[int(rng.integers(len(pool.singing)))], length, rng)
        names = list(pool.speakers)
        clips = pool.speakers[names[int(rng.integers(len(names)))]]
        return joined_clips(rng, clips, length, self.config.sample_rate, (0.03, 0.3))

    def _background(self, rng: np.random.Generator, pool: SeparationPool, length: int) -> np.ndarray:
        use_ambience = not pool.music or (pool.ambience and
                                          rng.random() < self.config.ambience_probability)
        sounds = pool.ambience if use_ambience else pool.music
        return random_excerpt(sounds[int(rng.integers(len(sounds)))], length, rng)

    def make_pair(self, rng: np.random.Generator, pool: SeparationPool) -> TrainingPair:
        c = self.config
        length = int(c.segment_seconds * c.sample_rate)
        level = rng.uniform(*c.level_range_dbfs)
        voice = scale_to_rms_db(self.augmented(self._voice(rng, pool, length), rng), level)
        background = self.augmented(self._background(rng, pool, length), rng)
        background = background * rng.choice([-1.0, 1.0])
        draw = rng.random()
        if draw < c.voice_only_probability:
            background = np.zeros_like(voice)
        elif draw < c.voice_only_probability + c.background_only_probability or power(voice) == 0:
            voice, background = np.zeros_like(voice), scale_to_rms_db(background, level)
        else:
            background = scale_to_snr(voice, background, rng.uniform(*c.ratio_range_db))
        if rng.random() < c.band_limit_probability:
            # A phone's bandwidth on the whole recording: the same filter on both stems.
            sos = butter_lowpass(rng.uniform(3500.0, 16000.0), c.sample_rate, order=8)
            voice, background = (apply_sos(s, sos, zero_phase=False) for s in (voice, background))
        mixture = voice + background
        peak = float(np.max(np.abs(mixture)))
        if peak > 0.99:
            voice, mixture = voice * 0.99 / peak, mixture * 0.99 / peak
        voice, mixture = voice.astype(np.float32), mixture.astype(np.float32)
        return TrainingPair(mixture, voice, stems={"background": mixture - voice})

    # ---- network and loss ------------------------------------------------------------------
    def build_model(self) -> Any:
        return self.band_unet()

    def training_target(self, degraded_spectrum: np.ndarray,
                        target_spectra: dict[str, np.ndarray]) -> np.ndarray:
        """Per bin: mixture magnitude; then per stem its magnitude and the cosine of its
        phase difference to the mixture."""
        channels = [np.abs(degraded_spectrum)]
        for name in self.outputs:
            stem = target_spectra[name]
            channels += [np.abs(stem), np.cos(np.angle(degraded_spectrum) - np.angle(stem))]
        return np.stack(channels, axis=-1).astype(np.float32)

    def loss(self) -> Any:
        from aural.losses import ComplementaryMaskLoss

        return ComplementaryMaskLoss(expand=self.bands.expand, exponent=self.config.loss_exponent,
                                     complex_weight=self.config.complex_loss_weight,
                                     background_weight=self.config.background_weight,
                                     bin_weights=self.loss_bin_weights())

    def apply_output(self, spectrum: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        """The voice: the band mask spread over the bins, applied to the mixture's STFT."""
        return {"voice": spectrum * self.bands.bin_gains(output)}

    def run_channel(self, signal: np.ndarray) -> dict[str, np.ndarray]:
        """The voice from the mask; the background is what the voice leaves of the input."""
        spectrum = self.spectrum(signal)
        x = self.conditioned(self.features(spectrum), signal)
        voice_spectrum = self.apply_output(spectrum, self.predict(x))["voice"]
        voice = self.waveform(voice_spectrum, len(signal)).astype(np.float32)
        return {"voice": voice, "background": (signal - voice).astype(np.float32)}

    def validation_score(self, pairs: list[TrainingPair]) -> float:
        """Mean over pairs with both stems of the voice's and the background's SI-SDR gains."""
        from aural.metrics import si_sdr_db

        gains = []
        for pair in pairs:
            stems = pair.targets(self.outputs)
            if power(stems["voice"]) == 0.0 or power(stems["background"]) == 0.0:
                continue
            estimate = self.run_channel(pair.degraded)
            gains.append(np.mean([si_sdr_db(stems[n], estimate[n])
                                  - si_sdr_db(stems[n], pair.degraded) for n in self.outputs]))
        return float(np.mean(gains)) if gains else float("nan")

    # ---- evaluation -------------------------------------------------------------------------
    def test_items(self, split: str = "test") -> list[dict[str, Any]]:
        """Held-out voices over held-out backgrounds (see :mod:`aural.data.separation_tests`)."""
        from aural.data.separation_tests import separation_items

        return separation_items(self.config.sample_rate, split)

    def item_metrics(self, item: dict[str, Any], estimate: np.ndarray) -> dict[str, float]:
        """Both stems' SI-SDR gains over the mixture, BSSEval SDR gain on songs, and leakage
        into the stem that should be empty."""
        from aural.metrics import separation_scores

        return separation_scores(item, estimate, self.config.sample_rate)

    def baselines(self) -> dict[str, Any]:
        """HPSS, REPET-SIM and the noise_reduction stage, each as a voice extractor."""
        from aural.baselines.separation import SEPARATION_BASELINES

        return dict(SEPARATION_BASELINES)

"""Is a recording speech or music? A small signal-processing decision for ``--content auto``.

Music holds notes: the harmonic fine structure of its spectrum (the comb of partials,
once the spectral envelope is removed) persists from one moment to the next, while a
voice's pitch glides and its syllables change every 200 ms, and noise has no stable fine
structure at all. So the first measure is that persistence: the correlation of the
envelope-free log spectrum (100 Hz-2.5 kHz) with itself 190 ms later, in the louder half
of the frames. Drums, distorted guitars and dense rock mixes hold few steady partials, but
they keep a beat: the second measure is how strongly the onsets repeat at one period
between 0.3 and 2 s (and at twice and three times it), which speech, with its irregular
syllables, never does. Two measures of rhythm back the first up when it is borderline: the
share of 25 ms frames more than 20 dB below the loud ones (speech pauses), and the depth
of the 2-8 Hz modulation of the level (syllables). The thresholds were set on the shared
and fetched recordings (speech clean, noisy and in 18 languages against song mixes, stems,
band songs and loops; ``scripts/measure_content_rule.py`` lists every decision), not
learned. Speech over a loud rhythmic backing (10 dB or less above it) reads as music; then
noise_reduction is left out and the backing is kept, where the opposite mistake would run
noise_reduction on a song and wreck it. ``--content`` overrides the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPEECH, MUSIC = "speech", "music"


@dataclass(frozen=True)
class ContentDecision:
    """The decision and the measures it rests on."""

    content: str
    quiet_share: float           # share of frames 20 dB below the loud ones
    modulation_depth: float      # 2-8 Hz share of the energy envelope's modulation
    persistence: float           # correlation of the harmonic fine structure 190 ms apart
    beat: float = 0.0            # onset autocorrelation at the beat period and its multiples

    def describe(self) -> str:
        """One line for the user."""
        return (f"content: {self.content} (held notes {self.persistence:.2f}, "
                f"beat {self.beat:.2f}, quiet frames {self.quiet_share:.0%}, "
                f"syllable-rate modulation {self.modulation_depth:.2f})")


def _frame_energy_db(mono: np.ndarray, rate: int) -> np.ndarray:
    frame = max(int(0.025 * rate), 1)
    n = len(mono) // frame
    energy = np.mean(mono[: n * frame].reshape(n, frame) ** 2, axis=1)
    return 10.0 * np.log10(energy + 1e-12)


def _at_16k(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Float32 mono at 16 kHz, the rate both tonal measures work at."""
    from aural.audio_io import resample

    return resample(np.asarray(mono, dtype=np.float32), sample_rate, 16_000)


def harmonic_persistence(mono: np.ndarray, sample_rate: int) -> float:
    """Median correlation of the envelope-free log spectrum with itself 190 ms later."""
    from scipy.ndimage import uniform_filter1d

    x = _at_16k(mono, sample_rate)
    n, hop, lag = 2048, 512, 6
    frames = (len(x) - n) // hop + 1
    if frames < 2 * lag:
        return 0.0
    index = np.arange(n)[np.newaxis] + hop * np.arange(frames)[:, np.newaxis]
    power = np.abs(np.fft.rfft(x[index] * np.hanning(n), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1.0 / 16_000)
    log = 10.0 * np.log10(power[:, (freqs >= 100) & (freqs <= 2500)] + 1e-10)
    fine = log - uniform_filter1d(log, 15, axis=1)
    fine -= fine.mean(axis=1, keepdims=True)
    a, b = fine[:-lag], fine[lag:]
    correlation = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1) + 1e-9)
    loud = log.mean(axis=1)[:-lag] > np.median(log.mean(axis=1))
    return float(np.median(correlation[loud])) if loud.any() else 0.0


def beat_regularity(mono: np.ndarray, sample_rate: int) -> float:
    """How strongly the onsets repeat at one period of 0.3-2 s: the onset envelope's
    normalised autocorrelation at its strongest such lag and at twice and three times it
    (mean of the three; 0 for no repetition, about 0.5-0.7 for a drum loop)."""
    from aural.dsp.bands import log_mel_spectrogram, onset_strength

    x = _at_16k(mono, sample_rate)
    log_mel = log_mel_spectrogram(x, 16_000, n_fft=1024, n_mels=40)  # 31.25 frames a second
    envelope = onset_strength(np.maximum(log_mel, log_mel.max() - 80.0))
    envelope = envelope - envelope.mean()
    rate = 16_000 / 512
    shortest = round(0.3 * rate)
    longest = min(round(2.0 * rate), (len(envelope) - 2) // 3)  # three periods must fit
    if longest <= shortest:
        return 0.0
    spectrum = np.fft.rfft(envelope, 2 * len(envelope))
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: len(envelope)]
    autocorrelation /= autocorrelation[0] + 1e-12
    period = shortest + int(np.argmax(autocorrelation[shortest:longest]))
    # +-1 frame around each multiple: a 32 ms frame does not hold the period exactly.
    return float(np.mean([autocorrelation[k * period - 1: k * period + 2].max() for k in (1, 2, 3)]))


def classify_content(audio: np.ndarray, sample_rate: int, *, seconds: float = 60.0) -> ContentDecision:
    """Speech or music, from the first ``seconds`` of ``(channels, samples)`` or 1-D audio."""
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    mono = mono[: int(seconds * sample_rate)]
    energy_db = _frame_energy_db(mono, sample_rate)
    if len(energy_db) < 120 or np.max(energy_db) < -90.0:
        # Under 3 s (or silent) there is too little to tell: speech, the safer default.
        return ContentDecision(SPEECH, 0.0, 0.0, 0.0)
    loud = np.percentile(energy_db, 95)
    quiet_share = float(np.mean(energy_db < loud - 20.0))
    envelope = 10 ** (np.clip(energy_db - loud, -60, 0) / 20)  # 40 frames per second
    envelope = envelope - envelope.mean()
    spectrum = np.abs(np.fft.rfft(envelope * np.hanning(len(envelope)))) ** 2
    freqs = np.fft.rfftfreq(len(envelope), d=0.025)
    band = (freqs >= 2.0) & (freqs <= 8.0)
    total = spectrum[(freqs > 0.2)].sum() + 1e-12
    modulation = float(spectrum[band].sum() / total)
    mono_16k = _at_16k(mono, sample_rate)  # once, for both tonal measures
    persistence = harmonic_persistence(mono_16k, 16_000)
    beat = beat_regularity(mono_16k, 16_000)
    # Held notes or a steady beat say music; borderline notes need a rhythm without pauses
    # or syllables too. Otherwise speech, so that the voice chain runs.
    music = (persistence >= 0.17 or beat >= 0.22
             or (persistence >= 0.1 and quiet_share < 0.03 and modulation < 0.44))
    return ContentDecision(MUSIC if music else SPEECH, quiet_share, modulation, persistence, beat)

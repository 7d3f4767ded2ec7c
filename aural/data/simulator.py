"""The phone simulator: degrades clean studio recordings the way a phone would.

Real device-versus-studio recordings are rare, so most training pairs are made here:
a clean recording goes through the damage of DESIGN.md section 1, each kind switched
on or off in a :class:`DamageConfig` and drawn at random strength, and comes out
sample-aligned with the clean one (every filter is zero-phase, every convolution is
aligned on the direct path, every resampling is delay-compensated).

The chain follows the signal's path through a phone:

1. ``reverb`` - the room (measured RIRs of the same split, or synthetic ones);
2. ``noise`` - background noise from real recordings of the same split (or hiss / hum);
3. ``mic_response`` - the capsule: high-pass, resonance peaks, low-pass;
4. ``agc`` - slow automatic gain control that pumps the noise up in pauses;
5. ``over_compression`` - a fast, high-ratio compressor;
6. ``clipping`` - the converter running out of headroom;
7. ``codec`` - band-limiting to 8 or 16 kHz (or a real AMR / Opus / MP3 round trip
   through ffmpeg when it is installed);
8. ``level`` - the recording's overall gain.

Example
-------
>>> rng = np.random.default_rng(0)
>>> clean = rng.standard_normal(16000).astype(np.float32) * 0.1
>>> degraded, params = simulate(clean, 16000, rng, DamageConfig.only("noise", "codec"),
...                             noises=[], rirs=[])
>>> degraded.shape == clean.shape
True
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from aural.data.mixing import power, random_excerpt, scale_to_snr
from aural.dsp import filters
from aural.errors import AuralError

#: The kinds of damage, in the order the chain applies them.
DAMAGES = ("reverb", "noise", "mic_response", "agc", "over_compression", "clipping", "codec",
           "level")

#: Segments quieter than this mean power (-70 dBFS) are silence, not training material.
SILENCE_POWER = 1e-7


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ReverbDamage:
    """The room: a measured or synthetic impulse response, mixed wet/dry."""

    enabled: bool = True
    probability: float = 0.5               # chance that a pair gets this damage at all
    measured_probability: float = 0.6      # measured RIR (when the split has one) vs synthetic
    rt60_s: tuple[float, float] = (0.2, 1.2)           # synthetic responses
    wet: tuple[float, float] = (0.3, 1.0)              # share of the reverberant signal


@dataclass(frozen=True)
class NoiseDamage:
    """Background noise from real recordings at a random SNR (or synthetic hiss and hum)."""

    enabled: bool = True
    probability: float = 0.9
    snr_db: tuple[float, float] = (-5.0, 30.0)
    synthetic_probability: float = 0.15    # hiss or hum instead of a recording (always if none)


@dataclass(frozen=True)
class MicResponseDamage:
    """A cheap microphone: high-pass, resonance peaks, low-pass (all zero-phase)."""

    enabled: bool = True
    probability: float = 0.8
    highpass_hz: tuple[float, float] = (100.0, 300.0)
    lowpass_hz: tuple[float, float] = (3400.0, 12000.0)
    peaks: tuple[int, int] = (1, 3)
    peak_hz: tuple[float, float] = (400.0, 8000.0)     # drawn log-uniformly, below the low-pass
    peak_gain_db: tuple[float, float] = (2.0, 10.0)
    peak_q: tuple[float, float] = (0.7, 4.0)


@dataclass(frozen=True)
class AgcDamage:
    """Slow automatic gain control: drops fast on loud sounds, recovers slowly (pumping)."""

    enabled: bool = True
    probability: float = 0.3
    target_dbfs: tuple[float, float] = (-26.0, -14.0)  # RMS level it steers towards
    max_gain_db: tuple[float, float] = (10.0, 30.0)
    attack_s: tuple[float, float] = (0.05, 0.3)
    release_s: tuple[float, float] = (0.5, 3.0)


@dataclass(frozen=True)
class CompressionDamage:
    """Over-compression: a fast high-ratio compressor with make-up gain to the old peak."""

    enabled: bool = True
    probability: float = 0.3
    threshold_db: tuple[float, float] = (-35.0, -15.0)  # relative to the signal's peak
    ratio: tuple[float, float] = (4.0, 20.0)
    attack_ms: tuple[float, float] = (0.5, 10.0)
    release_ms: tuple[float, float] = (20.0, 200.0)


@dataclass(frozen=True)
class ClippingDamage:
    """Clipping: the loudest ``clipped_fraction`` of samples are cut off."""

    enabled: bool = True
    probability: float = 0.2
    clipped_fraction: tuple[float, float] = (0.001, 0.05)
    soft_probability: float = 0.25          # tanh saturation instead of a hard limit


@dataclass(frozen=True)
class CodecDamage:
    """Band-limiting by a narrow- or wide-band codec."""

    enabled: bool = True
    probability: float = 0.5
    rates: tuple[int, ...] = (8000, 16000)  # resample down to one of these and back
    ffmpeg_probability: float = 0.5         # a real encoder instead, only if ffmpeg is installed
    codecs: tuple[str, ...] = ("amr_nb", "amr_wb", "mp3", "opus")   # drawn from, see FFMPEG_CODECS
    bundled_ffmpeg: bool = False            # without ffmpeg on PATH, imageio-ffmpeg's static one

    def __post_init__(self) -> None:
        unknown = set(self.codecs) - set(FFMPEG_CODECS)
        if unknown or not self.codecs:
            raise AuralError(f"unknown codec(s) {', '.join(sorted(unknown)) or '(none given)'}; "
                             f"known: {', '.join(sorted(FFMPEG_CODECS))}")


@dataclass(frozen=True)
class LevelDamage:
    """The recording's overall level: the peak lands at a random dBFS."""

    enabled: bool = True
    probability: float = 0.8
    peak_dbfs: tuple[float, float] = (-35.0, -1.0)


_SECTIONS = {"reverb": ReverbDamage, "noise": NoiseDamage, "mic_response": MicResponseDamage,
             "agc": AgcDamage, "over_compression": CompressionDamage, "clipping": ClippingDamage,
             "codec": CodecDamage, "level": LevelDamage}


@dataclass(frozen=True)
class DamageConfig:
    """Which damage the simulator applies, and at what strengths.

    Each field is one kind of damage with its own ``enabled`` switch, the
    ``probability`` that a pair gets it, and the ranges its parameters are drawn from.

    Example
    -------
    >>> DamageConfig.only("noise", "reverb").enabled_names()
    ('reverb', 'noise')
    >>> DamageConfig.from_names("all", without=("level",)).enabled_names()[-1]
    'codec'
    """

    reverb: ReverbDamage = field(default_factory=ReverbDamage)
    noise: NoiseDamage = field(default_factory=NoiseDamage)
    mic_response: MicResponseDamage = field(default_factory=MicResponseDamage)
    agc: AgcDamage = field(default_factory=AgcDamage)
    over_compression: CompressionDamage = field(default_factory=CompressionDamage)
    clipping: ClippingDamage = field(default_factory=ClippingDamage)
    codec: CodecDamage = field(default_factory=CodecDamage)
    level: LevelDamage = field(default_factory=LevelDamage)

    def enabled_names(self) -> tuple[str, ...]:
        """The switched-on damage, in chain order."""
        return tuple(name for name in DAMAGES if getattr(self, name).enabled)

    def with_enabled(self, names: Iterable[str], *, probability: float | None = None
                     ) -> "DamageConfig":
        """A copy with exactly ``names`` switched on (others off).

        ``probability``, if given, replaces the chance of each switched-on damage
        (``1.0``: every pair gets all of them).
        """
        wanted = set(_check_names(names))
        changes: dict[str, Any] = {}
        for name in DAMAGES:
            section = getattr(self, name)
            update: dict[str, Any] = {"enabled": name in wanted}
            if probability is not None and name in wanted:
                update["probability"] = float(probability)
            changes[name] = dataclasses.replace(section, **update)
        return dataclasses.replace(self, **changes)

    @classmethod
    def only(cls, *names: str, probability: float | None = None) -> "DamageConfig":
        """Default strengths with only ``names`` switched on (what one stage repairs)."""
        return cls().with_enabled(names, probability=probability)

    @classmethod
    def from_names(cls, names: str | Iterable[str] = "all", *,
                   without: str | Iterable[str] = ()) -> "DamageConfig":
        """From a comma-separated list (or ``"all"``), minus ``without``; for the CLI."""
        chosen = _split_names(names)
        if not chosen or chosen == ["all"]:
            chosen = list(DAMAGES)
        removed = set(_check_names(_split_names(without)))
        return cls.only(*[n for n in _check_names(chosen) if n not in removed])

    @classmethod
    def from_settings(cls, settings: dict[str, dict[str, Any]]) -> "DamageConfig":
        """Exactly the damage named in ``settings`` (a config file's form: name -> field
        overrides), each switched on; every other kind off."""
        off = {name: {"enabled": False} for name in DAMAGES if name not in settings}
        return cls.from_dict({**off, **settings})

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DamageConfig":
        """Inverse of :meth:`to_dict`; missing sections and fields keep their defaults."""
        unknown = set(data) - set(DAMAGES)
        if unknown:
            raise AuralError(f"unknown damage {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(DAMAGES)}")
        sections = {}
        for name, values in data.items():
            kind = _SECTIONS[name]
            known = {f.name: f for f in dataclasses.fields(kind)}
            bad = set(values) - set(known)
            if bad:
                raise AuralError(f"unknown setting {', '.join(sorted(bad))} for damage {name}")
            sections[name] = kind(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in values.items()})
        return cls(**sections)


def _split_names(names: str | Iterable[str]) -> list[str]:
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip().replace("-", "_") for n in names if n and n.strip()]


def _check_names(names: Iterable[str]) -> list[str]:
    names = [n.strip().replace("-", "_") for n in names]
    unknown = [n for n in names if n not in DAMAGES]
    if unknown:
        raise AuralError(f"unknown damage {', '.join(unknown)}; choose from "
                         f"{', '.join(DAMAGES)} or all")
    return names


# --------------------------------------------------------------------------- helpers


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], *,
             upper: float | None = None) -> float:
    """A uniform draw from ``bounds``, its top capped at ``upper``."""
    low, high = float(bounds[0]), float(bounds[1])
    if upper is not None:
        high = min(high, upper)
        low = min(low, high)
    return float(rng.uniform(low, high))


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(max(high, low)))))


def _db(value: float) -> float:
    return float(10.0 * np.log10(max(value, 1e-30)))


def _attack_release(target_db: np.ndarray, attack: float, release: float,
                    initial: float) -> np.ndarray:
    """One-pole smoothing of a gain curve: ``attack`` coefficient when the gain falls,
    ``release`` when it rises (coefficients in 0..1 per frame, larger is slower)."""
    out = np.empty(len(target_db), dtype=np.float64)
    state = float(initial)
    # A plain loop over Python floats: a few frames per millisecond of audio, and far
    # faster than indexing NumPy scalars.
    for index, target in enumerate(target_db.tolist()):
        coeff = attack if target < state else release
        state = coeff * state + (1.0 - coeff) * target
        out[index] = state
    return out


def _frame_gain_to_samples(gain_db: np.ndarray, hop: int, length: int) -> np.ndarray:
    centres = np.arange(len(gain_db)) * hop + hop / 2.0
    return 10.0 ** (np.interp(np.arange(length), centres, gain_db) / 20.0)


def _frames(audio: np.ndarray, hop: int) -> np.ndarray:
    count = int(np.ceil(len(audio) / hop))
    padded = np.zeros(count * hop, dtype=np.float64)
    padded[:len(audio)] = audio
    return padded.reshape(count, hop)


def _time_coeff(seconds: float, hop_seconds: float) -> float:
    return float(np.exp(-hop_seconds / max(seconds, 1e-6)))


def _synthetic_noise(rng: np.random.Generator, length: int, sample_rate: int
                     ) -> tuple[np.ndarray, dict[str, Any]]:
    """Hiss (white or pink) or mains hum with harmonics; the kind is drawn."""
    kind = str(rng.choice(["white_hiss", "pink_hiss", "hum"]))
    if kind == "hum":
        mains = float(rng.choice([50.0, 60.0]))
        harmonics = int(rng.integers(2, 8))
        times = np.arange(length) / float(sample_rate)
        noise = np.zeros(length)
        for k in range(1, harmonics + 1):
            if k * mains >= sample_rate / 2:
                break
            noise += rng.uniform(0.1, 1.0) / k * np.sin(2 * np.pi * k * mains * times
                                                         + rng.uniform(0, 2 * np.pi))
        noise += 0.01 * rng.standard_normal(length)  # a hum never comes alone
        return noise.astype(np.float32), {"name": f"synthetic_hum_{int(mains)}hz",
                                          "harmonics": harmonics}
    white = rng.standard_normal(length)
    if kind == "white_hiss":
        return white.astype(np.float32), {"name": "synthetic_white_hiss"}
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(length, 1.0 / sample_rate)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))   # 1/f power: pink
    return np.fft.irfft(spectrum, n=length).astype(np.float32), {"name": "synthetic_pink_hiss"}


# --------------------------------------------------------------------------- damage


def _reverb(audio: np.ndarray, rate: int, rng: np.random.Generator, cfg: ReverbDamage,
            rirs: list[np.ndarray], names: list[str]) -> tuple[np.ndarray, dict[str, Any]]:
    params: dict[str, Any] = {}
    if rirs and rng.random() < cfg.measured_probability:
        index = int(rng.integers(len(rirs)))
        rir = np.asarray(rirs[index], dtype=np.float32)
        params.update(rir=names[index], measured=True)
    else:
        rt60 = _uniform(rng, cfg.rt60_s)
        rir = filters.synthetic_rir(rate, rt60, rng)
        params.update(rir="synthetic", measured=False, rt60_s=rt60)
    direct = filters.direct_path_index(rir)
    # Scale so the direct path is +1: the reverberant copy keeps the dry one's polarity.
    rir = rir / rir[direct]
    tail = rir[direct + 1:]
    params["direct_to_reverberant_db"] = _db(1.0 / max(float(np.sum(tail ** 2)), 1e-30))
    wet = _uniform(rng, cfg.wet)
    reverberant = filters.convolve_rir(audio, rir)
    mixed = (1.0 - wet) * audio + wet * reverberant
    # Keep the signal's power, so later SNRs and levels mean the same with or without a room.
    before, after = power(audio), power(mixed)
    if after > 0:
        mixed = mixed * np.sqrt(before / after)
    params["wet"] = wet
    return mixed.astype(np.float32), params


def _noise(audio: np.ndarray, rate: int, rng: np.random.Generator, cfg: NoiseDamage,
           noises: list[np.ndarray], names: list[str]) -> tuple[np.ndarray, dict[str, Any]]:
    synthetic = not noises or rng.random() < cfg.synthetic_probability
    if synthetic:
        noise, params = _synthetic_noise(rng, len(audio), rate)
    else:
        index = int(rng.integers(len(noises)))
        noise = random_excerpt(np.asarray(noises[index], dtype=np.float32), len(audio), rng)
        params = {"name": names[index]}
        if rng.random() < 0.5:
            noise = -noise
            params["inverted"] = True
    snr = _uniform(rng, cfg.snr_db)
    scaled = scale_to_snr(audio, noise, snr)
    params.update(synthetic=bool(synthetic), snr_db=snr)
    return (audio + scaled).astype(np.float32), params


def _mic_response(audio: np.ndarray, rate: int, rng: np.random.Generator,
                  cfg: MicResponseDamage) -> tuple[np.ndarray, dict[str, Any]]:
    nyquist_cap = 0.45 * rate
    highpass = _uniform(rng, cfg.highpass_hz, upper=nyquist_cap / 4)
    lowpass = _uniform(rng, cfg.lowpass_hz, upper=nyquist_cap)
    count = int(rng.integers(cfg.peaks[0], cfg.peaks[1] + 1))
    peak_top = min(cfg.peak_hz[1], 0.9 * lowpass)
    peak_bottom = min(cfg.peak_hz[0], peak_top)
    sections = [filters.butter_highpass(highpass, rate, order=2)]
    peaks = []
    for _ in range(count):
        frequency = _log_uniform(rng, peak_bottom, peak_top)
        gain = _uniform(rng, cfg.peak_gain_db)
        q = _uniform(rng, cfg.peak_q)
        # Zero-phase filtering applies the response twice: design half the gain.
        sections.append(filters.peaking(frequency, rate, gain_db=gain / 2.0, q=q))
        peaks.append({"hz": frequency, "gain_db": gain, "q": q})
    sections.append(filters.butter_lowpass(lowpass, rate, order=4))
    out = filters.apply_sos(audio, np.vstack(sections), zero_phase=True)
    return out, {"highpass_hz": highpass, "highpass_slope_db_per_octave": 24,
                 "lowpass_hz": lowpass, "lowpass_slope_db_per_octave": 48, "peaks": peaks}


def _agc(audio: np.ndarray, rate: int, rng: np.random.Generator, cfg: AgcDamage
         ) -> tuple[np.ndarray, dict[str, Any]]:
    target = _uniform(rng, cfg.target_dbfs)
    max_gain = _uniform(rng, cfg.max_gain_db)
    attack = _uniform(rng, cfg.attack_s)
    release = _uniform(rng, cfg.release_s)
    hop = max(int(rate * 0.01), 1)  # 10 ms frames
    level = 10.0 * np.log10(np.mean(_frames(audio, hop) ** 2, axis=1) + 1e-12)
    wanted = np.clip(target - level, -max_gain, max_gain)
    # Start from the gain the first half second asks for, as a phone that was already running.
    start = float(np.clip(target - _db(power(audio[: rate // 2]) + 1e-12), -max_gain, max_gain))
    gain_db = _attack_release(wanted, _time_coeff(attack, hop / rate),
                              _time_coeff(release, hop / rate), start)
    out = audio * _frame_gain_to_samples(gain_db, hop, len(audio))
    return out.astype(np.float32), {"target_dbfs": target, "max_gain_db": max_gain,
                                    "attack_s": attack, "release_s": release,
                                    "gain_range_db": [float(gain_db.min()), float(gain_db.max())]}


def _over_compression(audio: np.ndarray, rate: int, rng: np.random.Generator,
                      cfg: CompressionDamage) -> tuple[np.ndarray, dict[str, Any]]:
    threshold_rel = _uniform(rng, cfg.threshold_db)
    ratio = _uniform(rng, cfg.ratio)
    attack = _uniform(rng, cfg.attack_ms) / 1000.0
    release = _uniform(rng, cfg.release_ms) / 1000.0
    hop = max(int(rate * 0.001), 1)  # 1 ms frames: fast enough for a peak compressor
    peak_level = 20.0 * np.log10(np.max(np.abs(_frames(audio, hop)), axis=1) + 1e-9)
    threshold = float(peak_level.max()) + threshold_rel
    reduction = -np.maximum(peak_level - threshold, 0.0) * (1.0 - 1.0 / ratio)
    gain_db = _attack_release(reduction, _time_coeff(attack, hop / rate),
                              _time_coeff(release, hop / rate), 0.0)
    out = audio * _frame_gain_to_samples(gain_db, hop, len(audio))
    # Make-up gain back to the original peak: quiet parts come up, the life goes out.
    old_peak, new_peak = float(np.max(np.abs(audio))), float(np.max(np.abs(out)))
    makeup = old_peak / new_peak if new_peak > 0 else 1.0
    out = out * makeup
    return out.astype(np.float32), {"threshold_dbfs": threshold, "ratio": ratio,
                                    "attack_ms": attack * 1000.0, "release_ms": release * 1000.0,
                                    "makeup_db": 20.0 * float(np.log10(makeup)),
                                    "max_reduction_db": float(-gain_db.min())}


def _clipping(audio: np.ndarray, rate: int, rng: np.random.Generator, cfg: ClippingDamage
              ) -> tuple[np.ndarray, dict[str, Any]]:
    fraction = _uniform(rng, cfg.clipped_fraction)
    soft = bool(rng.random() < cfg.soft_probability)
    threshold = float(np.quantile(np.abs(audio), 1.0 - fraction))
    params: dict[str, Any] = {"clipped_fraction": fraction, "soft": soft,
                              "threshold": threshold}
    if threshold <= 0.0:
        return audio.copy(), {**params, "skipped": "silent"}
    if soft:
        out = threshold * np.tanh(audio / threshold)
    else:
        out = np.clip(audio, -threshold, threshold)
    params["threshold_dbfs"] = 20.0 * float(np.log10(threshold))
    return out.astype(np.float32), params


#: ffmpeg encoders: name -> (encoder, container extension, rate it runs at, bit rates).
FFMPEG_CODECS = {
    "amr_nb": ("libopencore_amrnb", "amr", 8000, ("4.75k", "5.9k", "7.4k", "10.2k", "12.2k")),
    "amr_wb": ("libvo_amrwbenc", "amr", 16000, ("6.6k", "8.85k", "12.65k", "15.85k", "23.85k")),
    "opus": ("libopus", "ogg", 16000, ("8k", "12k", "16k", "24k", "32k")),
    "mp3": ("libmp3lame", "mp3", 16000, ("16k", "24k", "32k", "48k")),
}


def ffmpeg_executable(bundled: bool = False) -> str | None:
    """ffmpeg on PATH; failing that and with ``bundled``, the static build that the
    imageio-ffmpeg package ships (so a pip install alone gives real codecs); else None."""
    found = shutil.which("ffmpeg")
    if found or not bundled:
        return found
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None


def _ffmpeg_round_trip(audio: np.ndarray, rate: int, codec: str, bitrate: str,
                       executable: str = "ffmpeg") -> np.ndarray:
    """Encode with a real codec and decode back; the result is aligned to the input."""
    import soundfile as sf

    from aural.data.alignment import estimate_offset, shift

    encoder, extension, codec_rate, _ = FFMPEG_CODECS[codec]
    with tempfile.TemporaryDirectory(prefix="aural_codec_") as folder:
        source = os.path.join(folder, "in.wav")
        encoded = os.path.join(folder, f"encoded.{extension}")
        decoded = os.path.join(folder, "out.wav")
        sf.write(source, np.clip(audio, -1.0, 1.0), rate, subtype="FLOAT")
        quiet = [executable, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        subprocess.run(quiet + ["-i", source, "-ac", "1", "-ar", str(codec_rate),
                                "-c:a", encoder, "-b:a", bitrate, encoded],
                       check=True, capture_output=True, timeout=120)
        subprocess.run(quiet + ["-i", encoded, "-ar", str(rate), "-c:a", "pcm_f32le", decoded],
                       check=True, capture_output=True, timeout=120)
        out, _ = sf.read(decoded, dtype="float32", always_2d=True)
    out = out[:, 0]
    # Encoders add priming delay; find it by cross-correlation and undo it.
    estimate = estimate_offset(audio, out, max_lag_samples=int(0.1 * rate))
    return shift(out, estimate.offset, length=len(audio)) * estimate.polarity


def _codec(audio: np.ndarray, rate: int, rng: np.random.Generator, cfg: CodecDamage
           ) -> tuple[np.ndarray, dict[str, Any]]:
    from aural.audio_io import resample

    # Draw every choice whether or not ffmpeg is here, so the rest of the chain draws the
    # same numbers on every machine.
    use_ffmpeg = bool(rng.random() < cfg.ffmpeg_probability)
    codec = str(rng.choice(sorted(cfg.codecs)))
    bitrate = str(rng.choice(FFMPEG_CODECS[codec][3]))
    rates = [r for r in cfg.rates if r < rate]
    band_rate = int(rng.choice(rates)) if rates else None
    params: dict[str, Any] = {}
    executable = ffmpeg_executable(cfg.bundled_ffmpeg) if use_ffmpeg else None
    if executable and FFMPEG_CODECS[codec][2] < rate:
        try:
            out = _ffmpeg_round_trip(audio, rate, codec, bitrate, executable)
            return out.astype(np.float32), {"method": "ffmpeg", "codec": codec,
                                            "bitrate": bitrate,
                                            "band_limit_hz": FFMPEG_CODECS[codec][2] / 2}
        except (OSError, subprocess.SubprocessError, AuralError) as exc:
            # An ffmpeg without that encoder: fall back to band-limiting, and say so.
            params["ffmpeg_failed"] = f"{codec}: {type(exc).__name__}"
    if band_rate is None:
        return audio.copy(), {**params, "method": "none", "skipped": "rate already low"}
    out = resample(resample(audio, rate, band_rate), band_rate, rate)
    fitted = np.zeros(len(audio), dtype=np.float32)
    fitted[:min(len(out), len(audio))] = out[:len(audio)]
    return fitted, {**params, "method": "resample", "codec_rate": band_rate,
                    "band_limit_hz": band_rate / 2}


def _level(audio: np.ndarray, rate: int, rng: np.random.Generator, cfg: LevelDamage
           ) -> tuple[np.ndarray, dict[str, Any]]:
    target = _uniform(rng, cfg.peak_dbfs)
    peak = float(np.max(np.abs(audio)))
    if peak <= 0.0:
        return audio.copy(), {"peak_dbfs": target, "skipped": "silent"}
    gain = 10.0 ** (target / 20.0) / peak
    return (audio * gain).astype(np.float32), {"peak_dbfs": target,
                                               "gain_db": 20.0 * float(np.log10(gain))}


# --------------------------------------------------------------------------- simulate


def simulate(clean: np.ndarray, sample_rate: int, rng: np.random.Generator,
             config: DamageConfig = DamageConfig(), *, noises: list[np.ndarray],
             rirs: list[np.ndarray], noise_names: list[str] | None = None,
             rir_names: list[str] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Degrade ``clean`` like a phone would; return the degraded signal and what was drawn.

    Parameters
    ----------
    clean: 1-D float32 audio.
    sample_rate: its rate in Hz.
    rng: the source of every random choice: the same seed gives the same output.
    config: which damage is on, how likely each is, and the ranges of its parameters.
    noises: 1-D noise recordings at ``sample_rate`` (of the same split as ``clean``);
        with none, noise is synthetic hiss or hum.
    rirs: 1-D room impulse responses at ``sample_rate``; with none, reverb is synthetic.
    noise_names, rir_names: names to record in the parameters (default: their index).

    Returns ``(degraded, params)``: ``degraded`` is float32, as long as ``clean`` and
    sample-aligned with it (it may peak above 1.0 when ``level`` does not fire: AGC and
    loud noise can push it there, and only the ``level`` damage sets the gain);
    ``params`` is a JSON-serialisable dict with the damage applied (``"applied"``, in
    chain order) and every parameter drawn for each.
    """
    clean = np.asarray(clean, dtype=np.float32)
    if clean.ndim != 1:
        raise AuralError(f"simulate expects 1-D audio, got shape {clean.shape}")
    if sample_rate < 8000:
        raise AuralError(f"sample rate must be at least 8000 Hz, got {sample_rate}")
    if not np.all(np.isfinite(clean)):
        raise AuralError("clean audio contains NaN or infinite samples")
    noise_names = list(noise_names) if noise_names is not None else [
        f"noise_{i}" for i in range(len(noises))]
    rir_names = list(rir_names) if rir_names is not None else [
        f"rir_{i}" for i in range(len(rirs))]
    if len(noise_names) != len(noises) or len(rir_names) != len(rirs):
        raise AuralError("noise_names and rir_names must match noises and rirs one to one")

    audio = clean.copy()
    params: dict[str, Any] = {"sample_rate": int(sample_rate), "samples": int(len(clean)),
                              "applied": []}
    if len(audio) == 0:
        return audio, params
    for name in DAMAGES:
        section = getattr(config, name)
        if not section.enabled:
            continue
        # One draw per enabled damage, taken whether or not it fires, keeps the later
        # draws independent of this one's outcome.
        if rng.random() >= section.probability:
            continue
        if name == "reverb":
            audio, drawn = _reverb(audio, sample_rate, rng, section, rirs, rir_names)
        elif name == "noise":
            audio, drawn = _noise(audio, sample_rate, rng, section, noises, noise_names)
        elif name == "mic_response":
            audio, drawn = _mic_response(audio, sample_rate, rng, section)
        elif name == "agc":
            audio, drawn = _agc(audio, sample_rate, rng, section)
        elif name == "over_compression":
            audio, drawn = _over_compression(audio, sample_rate, rng, section)
        elif name == "clipping":
            audio, drawn = _clipping(audio, sample_rate, rng, section)
        elif name == "codec":
            audio, drawn = _codec(audio, sample_rate, rng, section)
        else:
            audio, drawn = _level(audio, sample_rate, rng, section)
        params["applied"].append(name)
        params[name] = drawn
    if not np.all(np.isfinite(audio)):  # a bug, not a user error: fail loudly
        raise RuntimeError(f"simulate produced non-finite samples ({params['applied']})")
    return audio.astype(np.float32, copy=False), _plain(params)


def _plain(value: Any) -> Any:
    """NumPy scalars and tuples to plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------- data set


@dataclass
class SimulationSummary:
    """What :func:`simulate_dataset` wrote and how long it took."""

    out_dir: str
    split: str
    pairs: int
    clean_files: int
    skipped_files: int
    seconds: float          # of degraded audio written (the clean twins are as long)
    wall_seconds: float
    noises: int
    rirs: int

    @property
    def speed(self) -> float:
        """Seconds of pairs made per wall-clock second (times real time)."""
        return self.seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "speed": self.speed}


def _recording_name(path: Path) -> str:
    """The path relative to the data folder it came from (stable across checkouts)."""
    from aural.data.sources import external_data_dir, shared_data_dir

    for root in (shared_data_dir(), external_data_dir()):
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "pair"


def _write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (through :func:`aural.atomic.atomic_file`)."""
    from aural.atomic import atomic_file

    with atomic_file(path) as temp:
        temp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _prepare_out_dir(out_dir: Path, split: str) -> list[dict[str, Any]]:
    """Create ``out_dir``; refuse one that holds another split; return its old pairs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / "manifest.json"
    if not manifest.exists():
        return []
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise AuralError("holds an unreadable manifest.json; remove it or choose another folder",
                         path=out_dir) from None
    if old.get("split") != split:
        raise AuralError(f"already holds simulated pairs of the {old.get('split')!r} split; "
                         f"choose another folder so splits never mix", path=out_dir)
    return list(old.get("pairs", []))


@dataclass
class NoiseAndRooms:
    """Noise recordings and room responses of one split, with their names; unreadable
    files are left out and named in ``skipped``."""

    noises: list[np.ndarray] = field(default_factory=list)
    noise_names: list[str] = field(default_factory=list)
    rirs: list[np.ndarray] = field(default_factory=list)
    rir_names: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def noise_and_room_recordings(recordings: Iterable[Any], sample_rate: int, *, noise: bool = True,
                              reverb: bool = True) -> NoiseAndRooms:
    """The noise recordings (mono) and room responses among catalogue ``recordings``, at
    ``sample_rate``: what :func:`simulate` takes as ``noises`` and ``rirs``."""
    from aural.audio_io import load_audio

    found = NoiseAndRooms()
    for recording in recordings:
        if not ((noise and recording.kind == "noise") or (reverb and recording.kind == "rir")):
            continue
        try:
            audio, _ = load_audio(recording.path, sample_rate=sample_rate,
                                  mono=recording.kind == "noise")
        except AuralError:
            found.skipped.append(_recording_name(recording.path))
            continue
        if recording.kind == "noise":
            found.noises.append(audio[0])
            found.noise_names.append(_recording_name(recording.path))
            continue
        # Each channel of a stereo (or binaural) response is a room of its own; averaging
        # them would comb-filter the direct path.
        for channel, response in enumerate(audio):
            if np.any(response):
                found.rirs.append(response)
                suffix = f"#{channel}" if audio.shape[0] > 1 else ""
                found.rir_names.append(_recording_name(recording.path) + suffix)
    return found


def simulate_dataset(out_dir: str | Path, *, split: str = "train", sample_rate: int = 48000,
                     pairs_per_file: int = 2, segment_seconds: float | None = None,
                     seed: int = 0, config: DamageConfig = DamageConfig(),
                     kinds: tuple[str, ...] = ("speech", "music"),
                     include_external: bool = True, progress: bool = True
                     ) -> SimulationSummary:
    """Make (degraded, clean) pairs from the catalogue's clean recordings of one split.

    Parameters
    ----------
    out_dir: folder for ``<id>_clean.wav``, ``<id>_degraded.wav`` (32-bit float WAV,
        so the pair is exactly what :func:`simulate` returned), ``<id>.json`` and
        ``manifest.json``. A folder that holds another split's pairs is refused.
    split: ``train``, ``validation`` or ``test``. Clean recordings, noises and RIRs all
        come from this split only.
    sample_rate: rate of the pairs (everything is resampled to it).
    pairs_per_file: differently degraded pairs per clean recording.
    segment_seconds: cut a random excerpt of this length from each recording
        (shorter recordings are used whole); ``None`` uses whole recordings.
    seed: the base seed; each pair's generator is seeded from it, the recording's
        name and the pair index, so adding recordings does not change other pairs.
    config: the damage to apply.
    kinds: which clean material to degrade.
    include_external: also use recordings brought in by ``aural fetch-data``.
    progress: show a progress bar on stderr.

    Returns a :class:`SimulationSummary`.
    """
    from tqdm import tqdm

    from aural.audio_io import load_audio, save_audio
    from aural.data.sources import catalogue

    if pairs_per_file < 1:
        raise AuralError(f"pairs per file must be at least 1, got {pairs_per_file}")
    if segment_seconds is not None and segment_seconds <= 0:
        raise AuralError(f"segment length must be positive, got {segment_seconds}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    old_pairs = _prepare_out_dir(out_dir, split)
    recordings = catalogue(split=split, kinds=tuple(kinds) + ("noise", "rir"),
                           include_external=include_external)
    clean_recordings = [r for r in recordings if r.kind in kinds]
    if not clean_recordings:
        raise AuralError(f"no clean {'/'.join(kinds)} recordings in the {split!r} split")

    rooms = noise_and_room_recordings(recordings, sample_rate, noise=config.noise.enabled,
                                      reverb=config.reverb.enabled)
    noises, noise_names, rirs, rir_names = rooms.noises, rooms.noise_names, rooms.rirs, rooms.rir_names
    skipped = list(rooms.skipped)

    pairs: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    total_seconds = 0.0
    clean_files = 0
    bar = tqdm(total=len(clean_recordings) * pairs_per_file, unit="pair", disable=not progress,
               desc=f"simulate {split}", leave=False)
    try:
        for recording in clean_recordings:
            name = _recording_name(recording.path)
            try:
                audio, _ = load_audio(recording.path, sample_rate=sample_rate, mono=True)
            except AuralError:
                skipped.append(name)
                bar.update(pairs_per_file)
                continue
            audio = audio[0]
            clean_files += 1
            for pair_index in range(pairs_per_file):
                seed_words = [int(seed), zlib.crc32(name.encode("utf-8")), pair_index]
                rng = np.random.default_rng(seed_words)
                segment, start = _choose_segment(audio, sample_rate, segment_seconds, rng)
                bar.update(1)
                if segment is None:
                    continue
                degraded, params = simulate(segment, sample_rate, rng, config, noises=noises,
                                            rirs=rirs, noise_names=noise_names,
                                            rir_names=rir_names)
                pair_id = _safe_id(f"{recording.source}_{Path(name).stem}_{pair_index}")
                while pair_id in used_ids:
                    pair_id += "_b"
                used_ids.add(pair_id)
                save_audio(out_dir / f"{pair_id}_clean.wav", segment, sample_rate,
                           bit_depth="float")
                save_audio(out_dir / f"{pair_id}_degraded.wav", degraded, sample_rate,
                           bit_depth="float")
                seconds = len(segment) / float(sample_rate)
                record = {"id": pair_id, "clean": f"{pair_id}_clean.wav",
                          "degraded": f"{pair_id}_degraded.wav",
                          "source": {"path": name, "kind": recording.kind,
                                     "source": recording.source, "split": recording.split,
                                     "origin": recording.origin},
                          "start_seconds": start / float(sample_rate), "seconds": seconds,
                          "seed": seed_words, "params": params}
                _write_json(out_dir / f"{pair_id}.json", record)
                pairs.append({k: record[k] for k in ("id", "clean", "degraded", "seconds")}
                             | {"source": name, "applied": params["applied"]})
                total_seconds += seconds
    finally:
        bar.close()

    # Files of an earlier run into this folder that this run did not rewrite go, so the
    # folder holds exactly what its manifest lists.
    for old in old_pairs:
        if old.get("id") not in used_ids:
            for suffix in ("_clean.wav", "_degraded.wav", ".json"):
                (out_dir / f"{_safe_id(str(old.get('id')))}{suffix}").unlink(missing_ok=True)
    wall = time.perf_counter() - started
    summary = SimulationSummary(out_dir=str(out_dir), split=split, pairs=len(pairs),
                                clean_files=clean_files, skipped_files=len(skipped),
                                seconds=total_seconds, wall_seconds=wall, noises=len(noises),
                                rirs=len(rirs))
    _write_json(out_dir / "manifest.json", {
        "split": split, "sample_rate": int(sample_rate), "seed": int(seed),
        "pairs_per_file": int(pairs_per_file), "segment_seconds": segment_seconds,
        "kinds": list(kinds), "include_external": bool(include_external),
        "config": config.to_dict(), "noises": noise_names, "rirs": rir_names,
        "skipped": skipped, "summary": summary.to_dict(), "pairs": pairs})
    return summary


def _choose_segment(audio: np.ndarray, sample_rate: int, segment_seconds: float | None,
                    rng: np.random.Generator, tries: int = 5
                    ) -> tuple[np.ndarray | None, int]:
    """A non-silent excerpt (or the whole recording) and its start; ``None`` if all silent."""
    length = len(audio) if segment_seconds is None else int(round(segment_seconds * sample_rate))
    if length >= len(audio):
        return (audio, 0) if power(audio) > SILENCE_POWER else (None, 0)
    for _ in range(tries):
        start = int(rng.integers(0, len(audio) - length + 1))
        segment = audio[start:start + length]
        if power(segment) > SILENCE_POWER:
            return segment, start
    return None, 0

"""The runner: the shipped stages in order, then mix-and-master, file to file.

:class:`Regenerator` is what ``aural regenerate`` and ``aural evaluate pipeline`` share.
It picks the stages (every stage with a shipped model, in :data:`DEFAULT_ORDER`, unless
told otherwise), decides speech or music when asked to, streams the input through the
stages (:mod:`aural.chain`) into a temporary file at the output rate, and masters that
file (:mod:`aural.mastering`: measured in a first pass, processed in a second), so peak
memory does not grow with the file's length.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from aural import PIPELINE_SAMPLE_RATE
from aural.content import MUSIC, SPEECH, classify_content
from aural.dsp.noise_floor import estimated_snr_db
from aural.errors import AuralError

#: The order the stages run in by default (measured: ``aural evaluate pipeline``, see the
#: README's order comparison). Stages without a shipped model are skipped.
DEFAULT_ORDER = ("noise_reduction", "dynamic_compression", "frequency_expansion",
                 "source_separation", "frequency_generation")
#: Loudness presets (LUFS) and the default target per content.
LOUDNESS_PRESETS = {"podcast": -16.0, "streaming": -14.0, "broadcast": -23.0}
DEFAULT_LOUDNESS = {SPEECH: -16.0, MUSIC: -14.0}
#: Background level under the voice after separation, per content (dB; None removes it).
DEFAULT_BACKGROUND_DB = {SPEECH: -12.0, MUSIC: 0.0}
#: Stages that would harm music on the full mix (they treat the accompaniment as noise):
#: for music they run only on the separated voice, or not at all.
VOICE_ONLY_FOR_MUSIC = ("noise_reduction",)
#: Stages that can only take away from a clean recording: left out when its noise floor
#: lies at least :data:`CLEAN_SNR_DB` under its loud passages (:mod:`aural.dsp.noise_floor`;
#: the threshold set on the validation split by ``scripts/measure_clean_gate.py``).
NOISE_ONLY = ("noise_reduction",)
CLEAN_SNR_DB = 44.0
#: Stages that repair band-limited or codec-damaged audio: left out when the recording
#: already reaches :data:`aural.dsp.bandwidth.FULL_BAND_HZ` (studio input, which they
#: would only change; README, frequency_generation).
BAND_LIMITED_ONLY = ("frequency_generation",)
#: Stages that ship but join the chain only when asked for (``--strength STAGE=VALUE`` above
#: 0, or named in ``--stages``): on the pipeline's held-out files they do not yet improve
#: the whole chain (``aural evaluate pipeline``: "AURAL with ..."; README).
OFF_BY_DEFAULT = ("frequency_generation",)


@dataclass(frozen=True)
class Conditions:
    """What the chain's decisions rest on: the content, the estimated SNR and the cut-off."""

    content: str
    content_note: str
    snr_db: float
    cutoff_hz: float


def recording_conditions(audio_head: np.ndarray, rate: int, content: str = "auto") -> Conditions:
    """Decide the content (unless given) and measure the noise floor and the cut-off of a
    recording from its first minute, ``(channels, samples)`` or 1-D."""
    from aural.dsp.bandwidth import detect_cutoff

    note = f"content: {content} (as asked)"
    if content == "auto":
        decision = classify_content(audio_head, rate)
        content, note = decision.content, decision.describe() + " (auto)"
    mono = np.atleast_2d(np.asarray(audio_head, np.float32)).mean(axis=0)
    return Conditions(content, note, estimated_snr_db(audio_head, rate),
                      detect_cutoff(mono[: 60 * rate], rate))


@dataclass
class RegenerateSettings:
    """Everything ``aural regenerate`` lets a user choose."""

    stages: list[str] | None = None              # None: every shipped stage, default order
    strengths: dict[str, float] = field(default_factory=dict)
    content: str = "auto"                        # "speech", "music" or "auto"
    loudness_lufs: float | None = None           # None: by content
    true_peak_dbtp: float = -1.0
    reference: Path | None = None                # match tone and loudness to this file
    background_db: float | None | str = "default"   # "default": by content; None: remove
    eq: bool = True
    output_rate: int | str = PIPELINE_SAMPLE_RATE   # or "input"
    bit_depth: str = "24"
    stems_dir: Path | None = None
    models: dict[str, Path] = field(default_factory=dict)   # stage -> .h5 instead of the shipped


def parse_loudness(value: str) -> float:
    """``podcast`` / ``streaming`` / ``broadcast`` or a number of LUFS (-70 to 0)."""
    if value.lower() in LOUDNESS_PRESETS:
        return LOUDNESS_PRESETS[value.lower()]
    try:
        lufs = float(value)
    except ValueError:
        raise AuralError(f"--loudness must be a number of LUFS or one of "
                         f"{', '.join(LOUDNESS_PRESETS)}, got {value!r}") from None
    if not -70.0 <= lufs <= 0.0:
        raise AuralError(f"--loudness must be between -70 and 0 LUFS, got {lufs:g}")
    return lufs


def parse_strengths(pairs: tuple[str, ...] | list[str]) -> dict[str, float]:
    """``("noise_reduction=0.7", ...)`` -> ``{"noise_reduction": 0.7}``, checked."""
    from aural.stages import STAGES

    strengths: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in STAGES:
            raise AuralError(f"--strength expects STAGE=VALUE with a stage from "
                             f"{', '.join(STAGES)}, got {pair!r}")
        try:
            strength = float(value)
        except ValueError:
            strength = float("nan")
        if not 0.0 <= strength <= 1.0:
            raise AuralError(f"--strength {name} must be between 0 and 1, got {value!r}")
        strengths[name] = strength
    return strengths


def parse_models(pairs: tuple[str, ...] | list[str]) -> dict[str, Path]:
    """``("frequency_generation=my.h5", ...)`` -> ``{"frequency_generation": Path("my.h5")}``,
    each stage known and each file there (whether it is that stage's model is checked when
    it loads)."""
    from aural.stages import STAGES

    models: dict[str, Path] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in STAGES or not value:
            raise AuralError(f"--model expects STAGE=PATH with a stage from "
                             f"{', '.join(STAGES)}, got {pair!r}")
        if not Path(value).is_file():
            raise AuralError("no such model file", path=value)
        models[name] = Path(value)
    return models


def parse_stages(value: str | None) -> list[str] | None:
    """``"noise_reduction,frequency_expansion"`` -> list, every name checked; ``"none"`` -> []."""
    from aural.stages import STAGES

    if value is None:
        return None
    if value.strip().lower() == "none":
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise AuralError(f"unknown stage {unknown[0]!r} in --stages; available: "
                         f"{', '.join(STAGES)}")
    if len(set(names)) != len(names):
        raise AuralError("--stages names a stage twice")
    return names


def skip_reason(name: str, conditions: Conditions, *, separated: bool = False) -> str | None:
    """Why `aural regenerate` leaves stage ``name`` out of a recording in these
    ``conditions`` (:func:`recording_conditions`); None: it runs."""
    from aural.dsp.bandwidth import FULL_BAND_HZ

    if conditions.content == MUSIC and name in VOICE_ONLY_FOR_MUSIC and not separated:
        return "music: would treat the accompaniment as noise"
    if name in NOISE_ONLY and conditions.snr_db >= CLEAN_SNR_DB:
        return (f"clean: its noise floor lies {conditions.snr_db:.0f} dB under it, "
                f"clean from {CLEAN_SNR_DB:g} dB")
    if name in BAND_LIMITED_ONLY and conditions.cutoff_hz >= FULL_BAND_HZ:
        return (f"full band: it reaches {conditions.cutoff_hz / 1000:.1f} kHz, "
                "nothing band-limited to restore")
    return None


def stages_to_run(stages: list[Any], conditions: Conditions
                  ) -> tuple[list[Any], list[tuple[str, str]]]:
    """Of ``stages`` (in chain order), those `aural regenerate` runs on a recording in these
    ``conditions``, and those it leaves out with the reason (:func:`skip_reason`)."""
    kept, left_out, separated = [], [], False
    for stage in stages:
        why = skip_reason(stage.name, conditions, separated=separated)
        if why:
            left_out.append((stage.name, why))
            continue
        separated = separated or len(stage.outputs) > 1
        kept.append(stage)
    return kept, left_out


@dataclass
class StagePlan:
    """Which stages run (loaded), which were left out and why, and what that rests on:
    ``unavailable`` for every recording (not loaded), ``left_out`` for this one."""

    stages: list[Any]
    unavailable: list[tuple[str, str]]
    left_out: list[tuple[str, str]]
    conditions: Conditions

    @property
    def content(self) -> str:
        return self.conditions.content

    def skipped_entries(self) -> list[dict[str, Any]]:
        """The report's skipped stages; ``for_this_file`` marks those decided per recording."""
        return ([{"stage": n, "why": why, "for_this_file": False} for n, why in self.unavailable]
                + [{"stage": n, "why": why, "for_this_file": True} for n, why in self.left_out])


class Regenerator:
    """Loads the stages once; regenerates any number of files or arrays."""

    def __init__(self, settings: RegenerateSettings | None = None,
                 log: Callable[[str], None] = lambda _: None) -> None:
        from aural.modelfile import default_model_path
        from aural.stages import stage_class

        self.settings = settings or RegenerateSettings()
        self.log = log
        names = self.settings.stages if self.settings.stages is not None else list(DEFAULT_ORDER)
        self.loaded: dict[str, Any] = {}
        self.unavailable: list[tuple[str, str]] = []
        for name in names:
            path = self.settings.models.get(name, default_model_path(name))
            if not path.exists():
                self.unavailable.append((name, "no shipped model"))
            elif self._off_by_default(name):
                self.unavailable.append((name, f"off by default (--strength {name}=1 runs it)"))
            else:
                self.loaded[name] = stage_class(name).load(path)
        self.order = [n for n in names if n in self.loaded]

    def _off_by_default(self, name: str) -> bool:
        """A stage of :data:`OFF_BY_DEFAULT` that neither ``--stages``, ``--strength`` nor
        ``--model`` asked for."""
        return (name in OFF_BY_DEFAULT and self.settings.stages is None
                and not self.settings.strengths.get(name) and name not in self.settings.models)

    # ---- decisions ---------------------------------------------------------------------------
    def plan(self, audio_head: np.ndarray, rate: int) -> StagePlan:
        """Stages to run on a recording whose first minute is ``audio_head``."""
        conditions = recording_conditions(audio_head, rate, self.settings.content)
        loaded = [self.loaded[name] for name in self.order]
        if self.settings.stages is not None:  # stages named by the user always run
            return StagePlan(loaded, list(self.unavailable), [], conditions)
        stages, left_out = stages_to_run(loaded, conditions)
        return StagePlan(stages, list(self.unavailable), left_out, conditions)

    def mastering_settings(self, content: str):
        """The mix-and-master settings for this content."""
        from aural.mastering import MasteringSettings

        s = self.settings
        background = (DEFAULT_BACKGROUND_DB[content] if s.background_db == "default"
                      else s.background_db)
        eq: str | None = (str(s.reference) if s.reference else content) if s.eq else None
        loudness = s.loudness_lufs if s.loudness_lufs is not None else DEFAULT_LOUDNESS[content]
        return MasteringSettings(loudness_lufs=loudness, true_peak_dbtp=s.true_peak_dbtp,
                                 eq=eq, background_db=background)

    # ---- in memory ------------------------------------------------------------------------------
    def process(self, audio: np.ndarray, rate: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Regenerate ``(channels, samples)`` audio at ``rate``; returns audio at the output
        rate and a report. Used by the evaluation; files go through :meth:`regenerate_file`."""
        from aural.audio_io import as_channels_first, resample
        from aural.chain import run_chain
        from aural.mastering import master

        audio = as_channels_first(np.asarray(audio, dtype=np.float32))
        plan = self.plan(audio, rate)
        started = time.perf_counter()
        work = resample(audio, rate, PIPELINE_SAMPLE_RATE)
        stems = run_chain(plan.stages, work, PIPELINE_SAMPLE_RATE, self.settings.strengths)
        out_rate = rate if self.settings.output_rate == "input" else int(self.settings.output_rate)
        stems = {k: resample(v, PIPELINE_SAMPLE_RATE, out_rate) for k, v in stems.items()}
        chain_seconds = time.perf_counter() - started
        mix = _stems_for_mastering(stems)
        out, mastering = master(mix, out_rate, self.mastering_settings(plan.content))
        report = self._report(plan, chain_seconds, mastering, out_rate)
        return out, report

    def _report(self, plan: StagePlan, chain_seconds: float, mastering: dict[str, Any],
                out_rate: int) -> dict[str, Any]:
        snr_db, cutoff_hz = plan.conditions.snr_db, plan.conditions.cutoff_hz
        return {"content": plan.content, "content_decision": plan.conditions.content_note,
                "estimated_snr_db": round(snr_db, 1) if np.isfinite(snr_db) else None,
                "detected_cutoff_hz": round(cutoff_hz),
                "stages": [s.name for s in plan.stages],
                "skipped_stages": plan.skipped_entries(),
                "strengths": {s.name: self.settings.strengths.get(s.name, 1.0)
                              for s in plan.stages},
                "chain_seconds": round(chain_seconds, 3), "output_sample_rate": out_rate,
                "mastering": mastering}

    # ---- files -------------------------------------------------------------------------------------
    def regenerate_file(self, input_path: str | Path, output_path: str | Path, *,
                        progress: bool = False) -> dict[str, Any]:
        """Stream ``input_path`` through the stages and mix-and-master into ``output_path``
        (written atomically); returns the report."""
        from aural.audio_io import audio_info, check_output_path, load_audio

        input_path, output_path = Path(input_path), Path(output_path)
        info = audio_info(input_path)
        head, _ = load_audio(input_path, duration=min(60.0, info.duration))
        check_output_path(output_path, bit_depth=self.settings.bit_depth, protect=(input_path,))
        plan = self.plan(head, info.sample_rate)
        out_rate = (info.sample_rate if self.settings.output_rate == "input"
                    else int(self.settings.output_rate))
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="aural-regenerate-") as scratch:
                chained = Path(scratch) / "chain.wav"
                timings = _stream_chain(plan.stages, input_path, chained, out_rate,
                                        self.settings.strengths, progress=progress,
                                        label=output_path.name)
                chain_seconds = time.perf_counter() - started
                mastering = self._master_file(chained, output_path, plan, out_rate, scratch)
        except (OSError, RuntimeError) as exc:  # a full disk, a vanished folder, libsndfile
            reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())
            raise AuralError(f"could not write audio ({reason})", path=output_path) from None
        report = self._report(plan, chain_seconds, mastering, out_rate)
        report.update({"input": str(input_path), "output": str(output_path),
                       "duration_seconds": round(info.duration, 3),
                       "stage_seconds": timings,
                       "total_seconds": round(time.perf_counter() - started, 3)})
        report["real_time_factor"] = round(report["total_seconds"] / max(info.duration, 1e-9), 4)
        return report

    def _master_file(self, chained: Path, output_path: Path, plan: StagePlan, rate: int,
                     scratch: str) -> dict[str, Any]:
        from aural.mastering import master_file, remix_file

        settings = self.mastering_settings(plan.content)
        source = chained
        if any(len(s.outputs) > 1 for s in plan.stages):
            if self.settings.stems_dir is not None:
                _write_stems(chained, self.settings.stems_dir, output_path.stem,
                             self.settings.bit_depth)
            source = Path(scratch) / "mix.wav"
            remix_file(chained, source, settings)
        return master_file(source, output_path, settings, bit_depth=self.settings.bit_depth)


def _stems_for_mastering(stems: dict[str, np.ndarray]) -> np.ndarray | dict[str, np.ndarray]:
    if len(stems) == 1:
        return stems["audio"]
    return {"voice" if k == "audio" else k: v for k, v in stems.items()}


def _stream_chain(stages: list[Any], input_path: Path, output_path: Path, out_rate: int,
                  strengths: dict[str, float], *, progress: bool, label: str,
                  read_seconds: float = 10.0) -> dict[str, float]:
    """Decode, resample to the pipeline rate, run the chain, resample to ``out_rate`` and
    write float samples (stems after the main audio, as extra channels)."""
    import soundfile as sf

    from aural.audio_io import audio_info, read_blocks
    from aural.chain import Chain
    from aural.streaming import _StreamResampler

    info = audio_info(input_path)
    channels = info.channels
    chain = Chain(stages, channels, PIPELINE_SAMPLE_RATE, strengths)
    width = channels * (1 + len(chain.side_names))
    to_chain = _StreamResampler(info.sample_rate, PIPELINE_SAMPLE_RATE, channels)
    to_output = _StreamResampler(PIPELINE_SAMPLE_RATE, out_rate, width)
    bar = _bar(progress, info.duration, label)
    with sf.SoundFile(str(output_path), "w", samplerate=out_rate, channels=width,
                      subtype="FLOAT", format="WAV") as out:
        def write(stems: dict[str, np.ndarray], last: bool = False) -> None:
            data = to_output(np.concatenate([stems["audio"]] + [stems[n] for n in chain.side_names]),
                             last=last)
            if data.shape[1]:
                out.write(data.T)

        for chunk in read_blocks(input_path, seconds=read_seconds):
            write(chain.push(to_chain(chunk)))
            if bar is not None:
                bar.update(round(chunk.shape[1] / info.sample_rate, 1))
        tail = chain.push(to_chain(np.zeros((channels, 0), np.float32), last=True))
        rest = chain.flush()
        write({k: np.concatenate([tail[k], rest[k]], axis=1) for k in rest}, last=True)
    if bar is not None:
        bar.close()
    return {stream.stage.name: round(stream.seconds, 3) for stream in chain.streams}


def _write_stems(chained: Path, folder: Path, name: str, bit_depth: str) -> None:
    """The separated stems as files: ``folder/name/voice.wav`` and ``background.wav``."""
    from aural.mastering import split_stems_file

    (folder / name).mkdir(parents=True, exist_ok=True)
    split_stems_file(chained, folder / name, bit_depth=bit_depth)


def _bar(progress: bool, total: float, label: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=round(total, 1), unit="s", desc=label, leave=False)


def output_name(input_path: Path, input_root: Path, output_root: Path, suffix: str) -> Path:
    """Where folder mode writes the result of ``input_path``: same relative path, new suffix."""
    return (output_root / input_path.relative_to(input_root)).with_suffix(suffix)


def find_inputs(folder: Path) -> list[Path]:
    """Every audio file under ``folder`` (recursively), sorted; skips our temporary files."""
    from aural.audio_io import READABLE_EXTENSIONS

    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in READABLE_EXTENSIONS
             and not p.name.startswith(".")]
    return sorted(files)


def default_output(input_path: Path) -> Path:
    """``memo.mp3`` -> ``memo_regenerated.wav`` beside it."""
    return input_path.with_name(input_path.stem + "_regenerated.wav")


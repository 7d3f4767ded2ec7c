"""``aural evaluate pipeline``: the whole chain on held-out material, beside the input,
classical chains a user could assemble without us, and the strongest offline peer.

Material (test split only, never trained on):

- the real DAPS iPad take against its studio recording (the one real device pair);
- held-out clean speech through the phone simulator's full chain (noise, reverberation,
  microphone response and band-limit, codec, AGC, compression, clipping, level) at three
  strengths, each file with its own seed;
- held-out music through the same chain at moderate strength.

Every system's output is scored against the clean reference: PESQ-wb, STOI, SI-SDR, LSD
(whole band and above 4 kHz, after matching the level), DNSMOS P.835 (no reference),
integrated loudness and its error to the target, true peak, loudness range and the
real-time factor. Stage orders are compared the same way, and the chain with each stage
that is off by default (:data:`aural.regenerate.OFF_BY_DEFAULT`) switched on. Audio of a
few items is kept in ``audio/<item>/<system>.wav`` (plus ``reference.wav``) for
``aural listen build``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from aural.evaluation import save_listening_audio
from aural.modelfile import write_json_atomic
from aural.metrics import LOWER_IS_BETTER as METRIC_LOWER_IS_BETTER

RATE = 48_000
INPUT = "input (unprocessed)"
AURAL = "AURAL regenerate"
SEVERITIES = ("mild", "moderate", "severe")
#: Word clips per memo in the validation items.
WORDS_PER_MEMO = 8
#: Damage per severity (simulator settings; each damage fires with the given probability).
_SEVERITY_DAMAGE: dict[str, dict[str, dict[str, Any]]] = {
    "mild": {"reverb": {"probability": 0.3, "wet": [0.2, 0.4]},
             "noise": {"probability": 1.0, "snr_db": [20.0, 30.0]},
             "mic_response": {"probability": 1.0, "highpass_hz": [60.0, 120.0],
                              "lowpass_hz": [8000.0, 12000.0]},
             "agc": {"probability": 0.0}, "over_compression": {"probability": 0.3},
             "clipping": {"probability": 0.0}, "codec": {"probability": 0.3, "rates": [16000]},
             "level": {"probability": 1.0, "peak_dbfs": [-12.0, -3.0]}},
    "moderate": {"reverb": {"probability": 0.6, "wet": [0.3, 0.7]},
                 "noise": {"probability": 1.0, "snr_db": [8.0, 18.0]},
                 "mic_response": {"probability": 1.0, "highpass_hz": [100.0, 250.0],
                                  "lowpass_hz": [4000.0, 8000.0]},
                 "agc": {"probability": 0.5}, "over_compression": {"probability": 0.5},
                 "clipping": {"probability": 0.3, "clipped_fraction": [0.001, 0.01]},
                 "codec": {"probability": 1.0, "rates": [8000, 16000]},
                 "level": {"probability": 1.0, "peak_dbfs": [-25.0, -3.0]}},
    "severe": {"reverb": {"probability": 1.0, "wet": [0.5, 1.0]},
               "noise": {"probability": 1.0, "snr_db": [0.0, 8.0]},
               "mic_response": {"probability": 1.0, "highpass_hz": [150.0, 300.0],
                                "lowpass_hz": [3400.0, 5000.0]},
               "agc": {"probability": 1.0}, "over_compression": {"probability": 1.0},
               "clipping": {"probability": 1.0, "clipped_fraction": [0.01, 0.05]},
               "codec": {"probability": 1.0, "rates": [8000]},
               "level": {"probability": 1.0, "peak_dbfs": [-35.0, -1.0]}},
}
#: Stage orders compared (names absent from the shipped models drop out).
ORDERS = {
    "seed order": ("noise_reduction", "dynamic_compression", "frequency_expansion",
                   "source_separation", "frequency_generation"),
    "separation first": ("source_separation", "noise_reduction", "dynamic_compression",
                         "frequency_expansion", "frequency_generation"),
    "bandwidth before denoising": ("dynamic_compression", "frequency_expansion",
                                   "noise_reduction", "source_separation",
                                   "frequency_generation"),
}
METRICS = ("pesq_wb", "stoi", "si_sdr", "lsd", "lsd_above_4khz", "dnsmos_sig", "dnsmos_bak",
           "dnsmos_ovrl", "loudness_lufs", "loudness_error_lu", "true_peak_dbtp",
           "loudness_range_lu", "rtf")
LOWER_IS_BETTER = METRIC_LOWER_IS_BETTER | {"loudness_error_lu"}


def _damage(severity: str):
    from aural.data.simulator import DamageConfig

    return DamageConfig.from_dict(_SEVERITY_DAMAGE[severity])


def pipeline_items(*, max_speech_files: int | None = None, split: str = "test"
                   ) -> list[dict[str, Any]]:
    """The held-out items of ``split``: dicts with name, group, content, degraded and
    reference (mono, 48 kHz). "test" adds the real iPad take; "validation" (for choosing
    between models without looking at the test items) has two sentences only, so its word
    clips are joined into memos as well."""
    from aural.audio_io import load_audio
    from aural.data.simulator import simulate
    from aural.data.sources import catalogue, shared_data_dir

    items = []
    daps = shared_data_dir() / "paired" / "daps_excerpt"
    if split == "test" and (daps / "m2_script1_ipad_confroom1.wav").exists():
        from aural.metrics import align

        clean = load_audio(daps / "m2_script1_clean.wav", sample_rate=RATE, mono=True)[0][0]
        ipad = load_audio(daps / "m2_script1_ipad_confroom1.wav", sample_rate=RATE, mono=True)[0][0]
        # The takes are about 1 ms apart and of opposite polarity: line the reference up.
        reference, _ = align(ipad, clean, max_lag=RATE // 10, correct_polarity=True)
        items.append({"name": "daps_m2_ipad", "group": "real device (DAPS iPad)",
                      "content": "speech", "degraded": ipad, "reference": reference})
    held = catalogue(split=split)
    noises = [load_audio(r.path, sample_rate=RATE, mono=True)[0][0] for r in held
              if r.kind == "noise"]
    rirs = [load_audio(r.path, sample_rate=RATE, mono=True)[0][0] for r in held if r.kind == "rir"]
    speech = [(r.path.stem, load_audio(r.path, sample_rate=RATE, mono=True)[0][0]) for r in held
              if r.kind == "speech" and not r.source.startswith("klettres_")
              and r.source != "daps_m2"]
    if split == "validation":
        speech += _word_memos([r for r in held if r.source.startswith("klettres_")])
    speech = speech[:max_speech_files] if max_speech_files else speech
    for index, (name, clean) in enumerate(speech):
        clean = (clean * 0.1 / (np.sqrt(np.mean(clean ** 2)) + 1e-9)).astype(np.float32)
        for severity in SEVERITIES:
            rng = np.random.default_rng([index, SEVERITIES.index(severity), 7])
            degraded, _ = simulate(clean, RATE, rng, _damage(severity), noises=noises, rirs=rirs)
            items.append({"name": f"{name}@{severity}",
                          "group": f"speech, {severity} phone damage", "content": "speech",
                          "degraded": degraded, "reference": clean})
    songs: dict[str, list[np.ndarray]] = {}
    for recording in held:
        if recording.kind == "music" and "mix" in recording.path.stem.lower():
            songs.setdefault(recording.source, []).append(
                load_audio(recording.path, sample_rate=RATE, mono=True)[0][0])
    for index, (song, tracks) in enumerate(sorted(songs.items())):
        clean = (tracks[0] * 0.1 / (np.sqrt(np.mean(tracks[0] ** 2)) + 1e-9)).astype(np.float32)
        rng = np.random.default_rng([100 + index, 1, 7])
        degraded, _ = simulate(clean, RATE, rng, _damage("moderate"), noises=noises, rirs=rirs)
        items.append({"name": f"{song}@moderate", "group": "music, moderate phone damage",
                      "content": "music", "degraded": degraded, "reference": clean})
    return items


def _word_memos(clips: list[Any], words: int = WORDS_PER_MEMO) -> list[tuple[str, np.ndarray]]:
    """Catalogue word recordings joined, ``words`` at a time, into memos with 0.3-s pauses."""
    from aural.audio_io import load_audio

    pause = np.zeros(int(0.3 * RATE), np.float32)
    memos = []
    for start in range(0, len(clips) - words + 1, words):
        group = clips[start:start + words]
        parts = [part for clip in group
                 for part in (load_audio(clip.path, sample_rate=RATE, mono=True)[0][0], pause)]
        memos.append((f"{group[0].source}_{group[0].path.stem}+{words - 1}",
                      np.concatenate(parts).astype(np.float32)))
    return memos


def score(reference: np.ndarray, estimate: np.ndarray, target_lufs: float,
          *, dnsmos: bool = True) -> dict[str, float]:
    """Every pipeline metric of a mono ``estimate`` (48 kHz) against ``reference``."""
    from aural.dsp.loudness import integrated_loudness, loudness_range, true_peak_dbtp
    from aural.metrics import evaluate_pair, trim_pair

    reference, estimate = trim_pair(reference, estimate)
    quality = evaluate_pair(reference, estimate, RATE, metrics=("pesq_wb", "stoi", "si_sdr"))
    # LSD compares levels too: match the estimate's level to the reference's first; and
    # only up to the reference's own bandwidth (a 16 kHz recording says nothing above 8 kHz).
    from aural.dsp.bandwidth import detect_cutoff
    from aural.metrics import log_spectral_distance

    gain = float(np.dot(reference, estimate) / (np.dot(estimate, estimate) + 1e-12))
    top = detect_cutoff(reference, RATE)
    spectral = {"lsd": log_spectral_distance(reference, estimate * abs(gain), RATE, max_hz=top),
                "lsd_above_4khz": log_spectral_distance(reference, estimate * abs(gain), RATE,
                                                        min_hz=4000.0, max_hz=top)}
    loudness = integrated_loudness(estimate[np.newaxis], RATE)
    out = {**quality, **spectral, "loudness_lufs": loudness,
           "loudness_error_lu": abs(loudness - target_lufs) if np.isfinite(loudness) else np.nan,
           "true_peak_dbtp": true_peak_dbtp(estimate[np.newaxis], RATE),
           "loudness_range_lu": loudness_range(estimate[np.newaxis], RATE)}
    if dnsmos:
        from aural.metrics import dnsmos as dnsmos_scores

        out.update(dnsmos_scores(estimate, RATE))
    return out


def _systems(orders: bool, models: dict[str, Path] | None = None
             ) -> dict[str, Callable[[np.ndarray, str], np.ndarray]]:
    """System name -> ``fn(degraded mono, content) -> output mono at 48 kHz``; ``models``
    (stage -> .h5) adds the chain with each of them in place of the shipped one."""
    from aural.baselines.chains import available_chains
    from aural.modelfile import default_model_path
    from aural.regenerate import DEFAULT_LOUDNESS, OFF_BY_DEFAULT, RegenerateSettings, Regenerator

    def regenerate_with(stages: tuple[str, ...] | None, strengths: dict[str, float] | None = None,
                        chosen: dict[str, Path] | None = None
                        ) -> Callable[[np.ndarray, str], np.ndarray]:
        cache: dict[str, Regenerator] = {}

        def run(degraded: np.ndarray, content: str) -> np.ndarray:
            if content not in cache:
                cache[content] = Regenerator(RegenerateSettings(
                    stages=list(stages) if stages else None, strengths=dict(strengths or {}),
                    content=content, models=dict(chosen or {})))
            return cache[content].process(degraded[np.newaxis], RATE)[0][0]
        return run

    systems: dict[str, Callable[[np.ndarray, str], np.ndarray]] = {
        INPUT: lambda x, content: x, AURAL: regenerate_with(None)}
    for name in OFF_BY_DEFAULT:
        if default_model_path(name).exists():  # what it would add, the plan's rules and all
            systems[f"AURAL with {name}"] = regenerate_with(None, {name: 1.0})
    for name, path in (models or {}).items():
        systems[f"AURAL with {name} from {Path(path).name}"] = regenerate_with(
            None, None, {name: Path(path)})
    if orders:
        from aural.regenerate import DEFAULT_ORDER

        seen = {tuple(n for n in DEFAULT_ORDER if default_model_path(n).exists())}
        for label, order in ORDERS.items():
            shipped = tuple(n for n in order if default_model_path(n).exists())
            if shipped in seen or len(shipped) < 2:
                continue
            seen.add(shipped)
            systems[f"AURAL, {label} ({' > '.join(shipped)})"] = regenerate_with(shipped)
    for name, chain in available_chains().items():
        systems[name] = (lambda c: lambda x, content: c(x[np.newaxis], RATE,
                                                       DEFAULT_LOUDNESS[content], -1.0)[0])(chain)
    return systems


def evaluate_pipeline(out_dir: str | Path, *, limit: int | None = None, orders: bool = True,
                      progress: bool = True, keep_audio: int = 4, dnsmos: bool = True,
                      split: str = "test", models: dict[str, Path] | None = None
                      ) -> dict[str, Any]:
    """Run every system on every item of ``split``; write report.json, report.md, PNGs and
    audio. ``models`` (stage -> .h5): the chain with each in place of the shipped one."""
    from aural.regenerate import DEFAULT_LOUDNESS

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = pipeline_items(split=split)
    if limit is not None:
        items = items[:limit]
    systems = _systems(orders, models)
    rows, pictured = [], {}
    bar = _bar(progress, len(items))
    for index, item in enumerate(items):
        for system, run in systems.items():
            started = time.perf_counter()
            estimate = np.asarray(run(item["degraded"], item["content"]), dtype=np.float32)
            seconds = time.perf_counter() - started
            scores = score(item["reference"], estimate, DEFAULT_LOUDNESS[item["content"]],
                           dnsmos=dnsmos)
            scores["rtf"] = seconds / (len(item["degraded"]) / RATE) if system != INPUT else 0.0
            rows.append({"file": item["name"], "group": item["group"], "system": system, **scores})
            if index < keep_audio:
                save_listening_audio(out_dir, item, system, estimate, RATE)
            if index == 0:
                pictured[system] = estimate
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    report = {**_report(rows, items, systems), "split": split}
    write_json_atomic(out_dir / "report.json", report)
    (out_dir / "report.md").write_text(markdown_report(report))
    _plots(out_dir, items[0], pictured)
    return report


def _bar(progress: bool, total: int):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="evaluating pipeline")


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _report(rows: list[dict[str, Any]], items: list[dict[str, Any]],
            systems: dict[str, Any]) -> dict[str, Any]:
    groups = list(dict.fromkeys(item["group"] for item in items))

    def means(selected: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
        return {s: {m: _mean([r[m] for r in selected if r["system"] == s]) for m in METRICS}
                for s in systems}

    return {"items": len(items), "systems": list(systems), "metrics": list(METRICS),
            "summary": means(rows),
            "by_group": {g: means([r for r in rows if r["group"] == g]) for g in groups},
            "files": rows, "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def markdown_report(report: dict[str, Any]) -> str:
    """Tables of means, overall and per group."""
    from aural.evaluation import markdown_tables

    held = "held-out" if report.get("split", "test") == "test" else report["split"]
    header = [f"# The whole pipeline: {report['items']} {held} files", "",
              f"Measured {report['measured']} by `aural evaluate pipeline`; means over files. "
              "Lower is better for lsd, loudness error and rtf; higher for the rest. "
              "Loudness targets: -16 LUFS speech, -14 LUFS music; true-peak ceiling -1 dBTP."]
    return markdown_tables(report, header, highlight=AURAL)


def _plots(out_dir: Path, item: dict[str, Any], outputs: dict[str, np.ndarray]) -> None:
    """Spectrograms (input, AURAL, reference) and loudness over time before and after."""
    from aural.evaluation import AURAL as PANEL_AURAL, INPUT as PANEL_INPUT
    from aural.evaluation import plot_spectrograms
    from aural.plots import plot_loudness_contours

    plot_spectrograms(out_dir / "spectrograms.png",
                      {PANEL_INPUT: outputs[INPUT], PANEL_AURAL: outputs[AURAL]},
                      item["reference"], RATE, None, title=item["name"])
    plot_loudness_contours(out_dir / "loudness.png",
                           {"input": outputs[INPUT], "AURAL": outputs[AURAL],
                            "studio reference": item["reference"]}, RATE,
                           title=item["name"], target_lufs=-16.0)

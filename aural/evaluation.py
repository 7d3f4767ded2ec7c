"""The evaluation harness: a stage beside the unprocessed input and the classical
baselines, on the stage's held-out items, in one run.

Writes ``report.json`` (every file's metrics and the means), ``report.md`` (tables),
``spectrograms.png`` and ``distributions.png`` to ``reports/<stage>/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from aural.modelfile import write_json_atomic
from aural.stages.base import Stage

INPUT = "input (unprocessed)"
AURAL = "AURAL"


def _systems(stage: Stage, with_baselines: bool) -> dict[str, Callable[[np.ndarray, int], np.ndarray]]:
    systems: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {INPUT: lambda x, rate: x}
    if with_baselines:
        baselines = getattr(stage, "baselines", lambda: {})()
        systems.update(baselines)
    systems[AURAL] = stage.evaluated
    return systems


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", name).strip("_")


def save_listening_audio(out_dir: Path, item: dict[str, Any], system: str, estimate: np.ndarray,
                         rate: int) -> None:
    """Audio for the listening test (``aural listen build --from-report``):
    ``audio/<item>/<system>.wav``, the input as ``input.wav``, and ``reference.wav``."""
    from aural.audio_io import save_audio

    folder = Path(out_dir) / "audio" / _safe(item["name"])
    folder.mkdir(parents=True, exist_ok=True)
    name = "input" if system == INPUT else _safe(system)
    save_audio(folder / f"{name}.wav", np.clip(estimate, -1, 1)[np.newaxis], rate, bit_depth="16")
    reference = folder / "reference.wav"
    if not reference.exists():
        save_audio(reference, np.clip(item["reference"], -1, 1)[np.newaxis], rate, bit_depth="16")


def score_item(stage: Stage, item: dict[str, Any], estimate: np.ndarray, metrics: Any, *,
               with_item_metrics: bool = True) -> dict[str, float]:
    """``metrics`` of one estimate: the stage's own per-item ones (:meth:`Stage.item_metrics`,
    e.g. LSD up to the file's bandwidth) where it has them, the plain ones for the rest
    (each computed once)."""
    from aural.metrics import METRICS, evaluate_pair

    scores = stage.item_metrics(item, estimate) if with_item_metrics else {}
    plain = [m for m in metrics if m in METRICS and m not in scores]
    return {**evaluate_pair(item["reference"], estimate, stage.config.sample_rate,
                            metrics=plain), **scores}


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def evaluate_stage(stage: Stage, out_dir: str | Path, *, limit: int | None = None,
                   with_baselines: bool = True, progress: bool = True,
                   plots: bool = True) -> dict[str, Any]:
    """Measure ``stage`` on its held-out items; write the report files; return the report."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rate = stage.config.sample_rate
    items = stage.test_items()
    if limit is not None:
        items = items[:limit]
    systems = _systems(stage, with_baselines)
    stage.process(np.zeros((1, rate), np.float32), rate)  # warm up, so RTF is not compile time
    rows: list[dict[str, Any]] = []
    outputs: dict[str, dict[str, np.ndarray]] = {}
    pictured = _spectrogram_item(items)
    kept = {pictured, *stage.pictured_items(items)}
    iterator = items
    bar = None
    if progress:
        from tqdm import tqdm

        iterator = bar = tqdm(items, desc=f"evaluating {stage.name}", unit="file")
    for item in iterator:
        for system, function in systems.items():
            started = time.perf_counter()
            estimate = np.asarray(function(item["degraded"], rate), dtype=np.float32)
            seconds = time.perf_counter() - started
            scores = score_item(stage, item, estimate, stage.report_metrics)
            scores["rtf"] = seconds / (len(item["degraded"]) / rate)
            rows.append({"file": item["name"], "group": item["group"], "system": system, **scores})
            if item["name"] in kept:
                outputs.setdefault(item["name"], {})[system] = estimate
    if bar is not None:
        bar.close()
    for name, estimates in outputs.items():
        item = next(item for item in items if item["name"] == name)
        for system, estimate in estimates.items():
            save_listening_audio(out_dir, item, system, estimate, rate)

    metric_names = list(stage.report_metrics) + ["rtf"]
    system_names = list(systems)
    groups = sorted({row["group"] for row in rows}, key=_group_order)
    summary = {system: {m: _mean([r[m] for r in rows if r["system"] == system]) for m in metric_names}
               for system in system_names}
    by_group = {group: {system: {m: _mean([r[m] for r in rows if r["system"] == system
                                           and r["group"] == group]) for m in metric_names}
                        for system in system_names} for group in groups}
    report = {
        "stage": stage.name,
        "model_sha256": stage.sidecar.get("sha256"),
        "sample_rate": rate,
        "items": len(items),
        "test_set": sorted({item["group"] for item in items}),
        "metrics": metric_names,
        "summary": summary,
        "by_group": by_group,
        "files": rows,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json_atomic(out_dir / "report.json", report)
    (out_dir / "report.md").write_text(markdown_report(report))
    if plots:
        item = next(item for item in items if item["name"] == pictured)
        if len(stage.outputs) > 1:
            plot_stem_spectrograms(out_dir / "spectrograms.png", item, outputs[pictured][AURAL],
                                   rate, title=pictured)
        else:
            plot_spectrograms(out_dir / "spectrograms.png", outputs[pictured], item["reference"],
                              rate, best_baseline(report), title=pictured)
        plot_distributions(out_dir / "distributions.png", rows, system_names, metric_names)
        stage.report_pictures(out_dir, {i["name"]: i for i in items if i["name"] in kept},
                              outputs)
    return report


def _spectrogram_item(items: list[dict[str, Any]]) -> str:
    # A mid-SNR synthetic mixture shows both what is removed and what is kept.
    for item in items:
        if item.get("input_snr_db") == 5.0 or item.get("ratio_db") == 0.0:
            return item["name"]
    return items[0]["name"]


def _group_order(group: str) -> tuple[int, float, str]:
    try:
        return (0, float(group.split()[0]), group)
    except ValueError:
        return (1, 0.0, group)


def best_baseline(report: dict[str, Any], metric: str | None = None) -> str | None:
    """The baseline with the best mean of ``metric`` (default: the stage's first metric),
    the lowest where lower is better (e.g. LSD)."""
    from aural.metrics import LOWER_IS_BETTER

    metric = metric or report["metrics"][0]
    candidates = {s: v[metric] for s, v in report["summary"].items() if s not in (INPUT, AURAL)
                  and np.isfinite(v[metric])}
    pick = min if metric in LOWER_IS_BETTER else max
    return pick(candidates, key=candidates.get) if candidates else None


def _format(value: float, metric: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.3f}" if metric in ("rtf", "stoi", "estoi") else f"{value:.2f}"


def markdown_report(report: dict[str, Any]) -> str:
    """Tables of means, overall and per group, for ``report.md`` and the README."""
    header = [f"# {report['stage']}: evaluation on {report['items']} held-out files", "",
              f"Measured {report['measured']} by `aural evaluate {report['stage']}`; "
              "means over files (higher is better except rtf, the real-time factor)."]
    return markdown_tables(report, header, highlight=AURAL)


def markdown_tables(report: dict[str, Any], header: list[str], *, highlight: str) -> str:
    """``header``, then a table of ``report``'s means over all files and one per group, the
    ``highlight`` system in bold."""
    metrics = report["metrics"]
    lines = [*header, ""]

    def table(summary: dict[str, dict[str, float]]) -> None:
        lines.append("| system | " + " | ".join(metrics) + " |")
        lines.append("|---" * (len(metrics) + 1) + "|")
        for system, values in summary.items():
            cells = [_format(values[m], m) for m in metrics]
            name = f"**{system}**" if system == highlight else system
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")

    lines.append("## All files")
    table(report["summary"])
    for group, summary in report["by_group"].items():
        lines.append(f"## {group}")
        table(summary)
    return "\n".join(lines)


def plot_spectrograms(path: Path, outputs: dict[str, np.ndarray], reference: np.ndarray, rate: int,
                      baseline: str | None, *, title: str) -> None:
    """Degraded / AURAL / best baseline / clean reference, as log spectrograms."""
    panels = [("degraded input", outputs[INPUT]), ("AURAL", outputs[AURAL])]
    if baseline is not None:
        panels.append((f"best baseline: {baseline}", outputs[baseline]))
    panels.append(("clean reference", reference))
    _plot_panels(path, panels, rate, title)


def plot_stem_spectrograms(path: Path, item: dict[str, Any], voice: np.ndarray, rate: int, *,
                           title: str) -> None:
    """Mixture, then each stem as separated and as it should be (the background being
    the mixture minus the voice)."""
    mixture = item["degraded"]
    panels = [("mixture", mixture), ("voice: AURAL", voice), ("voice: reference", item["reference"]),
              ("background: AURAL", mixture - voice),
              ("background: reference", item["background"])]
    _plot_panels(path, panels, rate, title)


def _plot_panels(path: Path, panels: list[tuple[str, np.ndarray]], rate: int, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aural.dsp.stft import StftConfig, stft

    config = StftConfig(n_fft=2048, hop=1024) if rate > 24_000 else StftConfig(n_fft=512, hop=256)
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.4 * len(panels)), sharex=True)
    for axis, (label, signal) in zip(axes, panels):
        db = 20 * np.log10(np.abs(stft(signal, config)).T + 1e-6)
        top = db.max()
        extent = (0, len(signal) / rate, 0, rate / 2000)
        axis.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=top - 80, vmax=top,
                    cmap="magma")
        axis.set_ylabel("kHz")
        axis.set_title(label, fontsize=10, loc="left")
    axes[-1].set_xlabel("seconds")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_distributions(path: Path, rows: list[dict[str, Any]], systems: list[str],
                       metrics: list[str]) -> None:
    """One box plot per metric: the per-file distribution for every system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in metrics if m != "rtf"]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 4), squeeze=False)
    for axis, metric in zip(axes[0], shown):
        data = [[r[metric] for r in rows if r["system"] == s and np.isfinite(r[metric])]
                for s in systems]
        axis.boxplot(data, showfliers=False)
        axis.set_xticks(range(1, len(systems) + 1), [s.split(" ")[0] for s in systems],
                        rotation=60, fontsize=7)
        axis.set_title(metric, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def best_setting(results: dict[Any, dict[str, float]], metric: str, *,
                 lower_is_better: bool = False, guard: str | None = None) -> Any:
    """The swept value with the best ``metric``; with ``guard`` (higher is better), only among
    values whose guard metric is at least the first value's (the reference setting)."""
    values = list(results)
    floor = results[values[0]][guard] if guard else -np.inf
    allowed = [v for v in values if not guard or results[v][guard] >= floor]
    pick = min if lower_is_better else max
    return pick(allowed, key=lambda v: results[v][metric])


def sweep_inference_setting(stage: Stage, field: str, values: list[Any], *,
                            split: str = "validation",
                            metrics: tuple[str, ...] = ("pesq_wb", "si_sdr", "stoi"),
                            item_metrics: bool = False) -> dict[Any, dict[str, float]]:
    """Mean metrics of ``stage`` on ``split`` items for each value of an inference-time config
    field (e.g. the gain floor). Tuning happens on validation items, never on the test set.
    With ``item_metrics`` the stage's own per-item metrics (:meth:`Stage.item_metrics`, e.g.
    LSD up to each file's bandwidth) replace the plain ones of the same name."""
    rate = stage.config.sample_rate
    items = stage.test_items(split)
    original = getattr(stage.config, field)
    results: dict[Any, dict[str, float]] = {}
    try:
        for value in values:
            setattr(stage.config, field, value)
            scores = []
            for item in items:
                # What `aural evaluate` scores: the stage after any earlier stages.
                estimate = stage.evaluated(item["degraded"], rate)
                scores.append(score_item(stage, item, estimate, metrics,
                                         with_item_metrics=item_metrics))
            results[value] = {m: _mean([s.get(m, float("nan")) for s in scores]) for m in metrics}
    finally:
        setattr(stage.config, field, original)
    return results

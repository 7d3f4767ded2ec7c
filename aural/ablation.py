"""Ablations: models of one stage that differ by one switch, measured on the same held-out
files, reported as paired differences against a baseline with 95 % confidence intervals.

Each model is evaluated alone (no classical baselines) into ``<out>/<name>/report.json``;
a report whose model hash matches is reused. ``<out>/ablation.md`` and ``ablation.json``
hold the table: per variant, the switches that differ from the baseline, the mean change of
each metric over files with its interval, and the training cost from the sidecar.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from aural.evaluation import AURAL
from aural.errors import AuralError
from aural.metrics import LOWER_IS_BETTER
from aural.modelfile import write_json_atomic



def paired_difference(baseline: list[float], variant: list[float],
                      confidence: float = 0.95) -> dict[str, float]:
    """Mean of ``variant - baseline`` over the files where both are finite, with a
    Student-t confidence interval of that mean (paired: each file is its own control)."""
    from scipy import stats

    a, b = np.asarray(baseline, np.float64), np.asarray(variant, np.float64)
    finite = np.isfinite(a) & np.isfinite(b)
    diff = b[finite] - a[finite]
    n = len(diff)
    if n == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    mean = float(diff.mean())
    if n < 2:
        return {"mean": mean, "low": float("nan"), "high": float("nan"), "n": n}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def _per_file(report: dict[str, Any], metric: str) -> dict[str, float]:
    return {row["file"]: float(row.get(metric, float("nan")))
            for row in report["files"] if row["system"] == AURAL}


def compare(baseline: dict[str, Any], variant: dict[str, Any],
            metrics: list[str]) -> dict[str, dict[str, float]]:
    """Paired differences of each metric, file by file, ``variant - baseline``."""
    out = {}
    for metric in metrics:
        base, other = _per_file(baseline, metric), _per_file(variant, metric)
        files = sorted(set(base) & set(other))
        out[metric] = paired_difference([base[f] for f in files], [other[f] for f in files])
    return out


def switches_changed(baseline_config: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Config fields whose value differs from the baseline's (what the variant switched)."""
    ignored = {"max_minutes", "user_data"}
    return {key: value for key, value in config.items()
            if key not in ignored and baseline_config.get(key) != value}


def minutes_to_reach(history: list[dict[str, Any]], score: float | None) -> float | None:
    """Training minutes after which the validation score first reached ``score`` (the
    baseline's best), from a sidecar's training history; None if it never did."""
    if score is None:
        return None
    for entry in history:
        if entry.get("val_score") is not None and entry["val_score"] >= score:
            return float(entry["minutes"])
    return None


def kept_step(training: dict[str, Any]) -> int | None:
    """The step of the weights a run kept: the history entry with the best validation score
    (a run keeps its best epoch, which may come before its last); 0 when a fine-tune kept
    the model it started from. Sidecars without ``best_epoch`` (before 2026-12-05) are
    matched by score."""
    best, history = training.get("best_validation_score"), training.get("history", [])
    epoch = training.get("best_epoch")
    if epoch is not None:
        return 0 if epoch == 0 else next(
            (int(e["step"]) for e in history if e.get("epoch") == epoch), None)
    scored = [e for e in history if e.get("val_score") is not None]
    if best is None or not scored:
        return None
    return int(min(scored, key=lambda e: abs(e["val_score"] - best))["step"])


def evaluated_report(stage_name: str, model_path: Path, out_dir: Path, *,
                     progress: bool = True) -> dict[str, Any]:
    """The model's held-out report without baselines, reused if already measured (the same
    weights, every metric the stage reports now)."""
    from aural.evaluation import evaluate_stage
    from aural.modelfile import read_sidecar
    from aural.stages import stage_class

    existing = out_dir / "report.json"
    sha = read_sidecar(model_path).get("sha256")
    if existing.exists():
        report = json.loads(existing.read_text())
        metrics_now = set(stage_class(stage_name).report_metrics)
        if sha and report.get("model_sha256") == sha and metrics_now <= set(report["metrics"]):
            return report
    stage = stage_class(stage_name).load(model_path)
    return evaluate_stage(stage, out_dir, with_baselines=False, progress=progress, plots=False)


def measured(stage_name: str, model_path: Path, out_dir: Path, *, progress: bool = True
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A variant's held-out report and its model's sidecar. The sidecar is copied beside the
    report, so a variant measured in an earlier session (whose ``.h5`` is gone with its
    machine) still takes part: its committed report and sidecar are used as they are."""
    from aural.modelfile import read_sidecar

    kept = out_dir / "sidecar.json"
    if not model_path.exists():
        if kept.exists() and (out_dir / "report.json").exists():
            return json.loads((out_dir / "report.json").read_text()), json.loads(kept.read_text())
        raise AuralError("no model and no earlier measurement of this variant", path=model_path)
    report = evaluated_report(stage_name, model_path, out_dir, progress=progress)
    sidecar = read_sidecar(model_path)
    write_json_atomic(kept, sidecar)
    return report, sidecar


def run_ablation(stage_name: str, models: dict[str, Path], out_dir: str | Path, *,
                 baseline: str, progress: bool = True) -> dict[str, Any]:
    """Evaluate every model of ``models`` (name -> file) and compare each with ``baseline``."""
    from aural.stages import stage_class

    out_dir = Path(out_dir)
    reports, sidecars = {}, {}
    for name, path in models.items():
        reports[name], sidecars[name] = measured(stage_name, Path(path), out_dir / name,
                                                 progress=progress)
    # A model saved before a switch existed ran with its default: fill those in first.
    defaults = stage_class(stage_name).config_class().to_dict()
    configs = {name: {**defaults, **sidecars[name].get("config", {})} for name in models}
    metrics = [m for m in stage_class(stage_name).report_metrics]
    baseline_best = sidecars[baseline].get("training", {}).get("best_validation_score")
    rows = []
    for name in models:
        training = sidecars[name].get("training", {})
        rows.append({
            "reaches_baseline_validation_at_minutes": minutes_to_reach(
                training.get("history", []), baseline_best),
            "variant": name,
            "switches": switches_changed(configs[baseline], configs[name]),
            "training_minutes": training.get("wall_minutes"),
            "training_steps": training.get("steps"),
            "kept_step": kept_step(training),
            "files": reports[name]["items"],
            "means": {m: reports[name]["summary"][AURAL].get(m) for m in metrics},
            "change": None if name == baseline else compare(reports[baseline], reports[name],
                                                            metrics),
        })
    result = {"stage": stage_name, "baseline": baseline, "metrics": metrics, "rows": rows,
              "baseline_best_validation_score": baseline_best,
              "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_json_atomic(out_dir / "ablation.json", result)
    (out_dir / "ablation.md").write_text(markdown_ablation(result))
    return result


def _cell(change: dict[str, float]) -> str:
    if not np.isfinite(change["mean"]):
        return "n/a"
    interval = (f" [{change['low']:+.2f}, {change['high']:+.2f}]"
                if np.isfinite(change["low"]) else "")
    return f"{change['mean']:+.2f}{interval}"


def markdown_ablation(result: dict[str, Any]) -> str:
    """The ablation table: baseline means, then each variant's change with its 95 % CI."""
    metrics = result["metrics"]
    arrows = [f"{m} ({'lower' if m in LOWER_IS_BETTER else 'higher'} is better)" for m in metrics]
    lines = [f"# {result['stage']}: ablation against `{result['baseline']}`", "",
             f"Measured {result['measured']} with `python scripts/ablation.py`; change = variant "
             "minus baseline, mean over the same held-out files with its 95 % confidence "
             "interval (paired t).", "",
             "| variant | switches | training | " + " | ".join(arrows) + " |",
             "|---|---|---|" + "---|" * len(metrics)]
    for row in result["rows"]:
        switches = ", ".join(f"{k}={json.dumps(v)}" for k, v in row["switches"].items()) or "-"
        cost = (f"{row['training_minutes']:.0f} min, {row['training_steps']} steps"
                if row["training_minutes"] is not None else "?")
        if row.get("kept_step") not in (None, row["training_steps"]):
            cost += f" (weights kept from step {row['kept_step']})"
        reached = row.get("reaches_baseline_validation_at_minutes")
        # A baseline saved before sidecars kept a validation score has none to reach.
        if row["change"] is not None and result.get("baseline_best_validation_score") is not None:
            cost += (f"; baseline's best validation score at {reached:.0f} min"
                     if reached is not None else "; never reached the baseline's validation score")
        if row["change"] is None:
            cells = [f"{row['means'][m]:.3f}" for m in metrics]
            name = f"**{row['variant']}** (baseline)"
        else:
            cells = [_cell(row["change"][m]) for m in metrics]
            name = row["variant"]
        lines.append(f"| {name} | {switches} | {cost} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

"""``aural evaluate STAGE``: measure a stage beside the input and the classical baselines."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import quiet_tensorflow
from aural.errors import AuralError


@click.command(name="evaluate")
@click.argument("stage")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Model to evaluate [default: the shipped models/STAGE/STAGE.h5]; for "
                   "pipeline STAGE=PATH, which adds the chain with that model in place of "
                   "the shipped one.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Report folder [default: reports/STAGE].")
@click.option("--limit", type=int, default=None, help="Evaluate only the first N held-out files.")
@click.option("--no-baselines", is_flag=True, help="Skip the classical baselines.")
@click.option("--update-sidecar/--no-update-sidecar", default=True,
              help="Record the measured metrics in the model's JSON sidecar.")
@click.option("--no-orders", is_flag=True, help="pipeline: skip the comparison of stage orders.")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test",
              show_default=True,
              help="pipeline: the held-out test items, or validation ones for choosing "
                   "between models.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(stage: str, model_path: Path | None, out: Path | None, limit: int | None,
            no_baselines: bool, update_sidecar: bool, no_orders: bool, split: str,
            progress: bool) -> None:
    """Run STAGE, the unprocessed input and every classical baseline on STAGE's held-out
    test set in one run; write reports/STAGE/report.json, report.md and PNG plots.

    STAGE may be `pipeline`: the whole `aural regenerate` chain on held-out material (the
    real DAPS iPad take, held-out speech and music through the phone simulator at three
    strengths) beside the input, a classical chain (noisereduce, compressor, loudness,
    limiter), ffmpeg's afftdn/acompressor/loudnorm and DeepFilterNet3 where they are
    installed, and the stage orders; audio of the first items is kept for `aural listen`.

    \b
    Examples:
      aural evaluate noise_reduction
      aural evaluate pipeline --out reports/pipeline
      aural evaluate pipeline --split validation --no-orders --out runs/val \
          --model noise_reduction=runs/my_nr.h5
    """
    if stage == "pipeline":
        _evaluate_pipeline(out, limit, not no_orders, progress, split, model_path)
        return
    if split != "test":
        raise AuralError("--split is for `aural evaluate pipeline`; a stage's validation "
                         "items tune its settings (scripts/tune_inference_setting.py)")
    quiet_tensorflow()
    from aural.evaluation import AURAL, INPUT, best_baseline, evaluate_stage
    from aural.modelfile import default_model_path, update_sidecar as write_metrics
    from aural.stages import stage_class

    cls = stage_class(stage)
    path = model_path or default_model_path(stage)
    instance = cls.load(path)
    out = out or Path("reports") / stage
    report = evaluate_stage(instance, out, limit=limit, with_baselines=not no_baselines,
                            progress=progress)
    click.echo((out / "report.md").read_text())
    if update_sidecar and limit is None:
        summary = report["summary"]
        metrics = {
            "test_set": report["test_set"], "files": report["items"],
            "measured": report["measured"], "command": f"aural evaluate {stage}",
            "aural": summary[AURAL], "input": summary[INPUT],
            "improvement_over_input": {m: summary[AURAL][m] - summary[INPUT][m]
                                       for m in report["metrics"] if m != "rtf"},
        }
        baseline = best_baseline(report)
        if baseline is not None:
            metrics["best_baseline"] = {"name": baseline, **summary[baseline]}
        write_metrics(path, metrics=metrics)
        click.echo(f"metrics recorded in {path.with_suffix('.json')}")


def _evaluate_pipeline(out: Path | None, limit: int | None, orders: bool, progress: bool,
                       split: str, model: Path | None) -> None:
    from aural.regenerate import parse_models

    models = parse_models([str(model)]) if model is not None else {}
    quiet_tensorflow()
    from aural.evaluation_pipeline import evaluate_pipeline

    out = out or Path("reports") / ("pipeline" if split == "test" else f"pipeline_{split}")
    evaluate_pipeline(out, limit=limit, orders=orders, progress=progress, split=split,
                      models=models)
    click.echo((out / "report.md").read_text())

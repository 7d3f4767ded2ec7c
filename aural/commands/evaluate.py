"""``aural evaluate STAGE``: measure a stage beside the input and the classical baselines."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import quiet_tensorflow


@click.command(name="evaluate")
@click.argument("stage")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Model to evaluate [default: the shipped models/STAGE/STAGE.h5].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Report folder [default: reports/STAGE].")
@click.option("--limit", type=int, default=None, help="Evaluate only the first N held-out files.")
@click.option("--no-baselines", is_flag=True, help="Skip the classical baselines.")
@click.option("--update-sidecar/--no-update-sidecar", default=True,
              help="Record the measured metrics in the model's JSON sidecar.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(stage: str, model_path: Path | None, out: Path | None, limit: int | None,
            no_baselines: bool, update_sidecar: bool, progress: bool) -> None:
    """Run STAGE, the unprocessed input and every classical baseline on STAGE's held-out
    test set in one run; write reports/STAGE/report.json, report.md and PNG plots.

    The metrics (SI-SDR, SNR, PESQ wide- and narrow-band, STOI, ESTOI, real-time
    factor for noise_reduction) are means over files, overall and per input-SNR group.
    """
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

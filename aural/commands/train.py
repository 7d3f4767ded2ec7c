"""``aural train STAGE``: train one stage's model, resumably."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import parse_overrides, quiet_tensorflow


@click.command(name="train")
@click.argument("stage")
@click.option("--run-dir", type=click.Path(path_type=Path), default=None,
              help="Folder for checkpoints and logs [default: runs/STAGE].")
@click.option("--resume", is_flag=True, help="Continue the run in --run-dir from its last checkpoint.")
@click.option("--minutes", type=float, default=None, help="Training time budget (overrides the config).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config field, e.g. --set batch_size=8 (values are JSON).")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Where to save the trained model [default: models/STAGE/STAGE.h5].")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(stage: str, run_dir: Path | None, resume: bool, minutes: float | None,
            overrides: tuple[str, ...], output: Path | None, progress: bool) -> None:
    """Train STAGE on its training split, validating each epoch on held-out speakers.

    Checkpoints are written every few minutes; after an interruption (even kill -9),
    run the same command with --resume. The best model (by validation loss) is saved
    as .h5 with a JSON sidecar; run `aural evaluate STAGE` afterwards to measure it
    and record the metrics in the sidecar.
    """
    quiet_tensorflow()
    from aural.modelfile import default_model_path
    from aural.stages import stage_class
    from aural.training import train_stage

    cls = stage_class(stage)
    run_dir = run_dir or Path("runs") / stage
    values = parse_overrides(overrides)
    if minutes is not None:
        values["max_minutes"] = minutes
    config = cls.config_class()
    if resume and (run_dir / "config.json").exists():
        config = cls.config_class.from_dict(read_json(run_dir / "config.json")["config"])
    instance = cls(config.with_overrides(**values))
    summary = train_stage(instance, run_dir, resume=resume, progress=progress, log=click.echo)
    path = instance.save(output or default_model_path(stage), training=summary)
    click.echo(f"saved {path} ({summary['steps']} steps, {summary['wall_minutes']} min, "
               f"best validation loss {summary['best_val_loss']:.4f}); sidecar "
               f"{path.with_suffix('.json').name}")


def read_json(path: Path) -> dict:
    """Read a JSON file."""
    import json

    return json.loads(path.read_text())

"""``aural train STAGE``: train one stage's model, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aural.commands._options import parse_overrides, quiet_tensorflow


def training_options(*, default_run_dir: str, default_output: str, data_help: str):
    """The options every training command shares (``aural train``, ``aural pretrain``):
    --run-dir, --resume, --minutes, --set, --output and --data, in that order."""
    options = (
        click.option("--run-dir", type=click.Path(path_type=Path), default=None,
                     help=f"Folder for checkpoints and logs [default: {default_run_dir}]."),
        click.option("--resume", is_flag=True,
                     help="Continue the run in --run-dir from its last checkpoint."),
        click.option("--minutes", type=float, default=None,
                     help="Training time budget (overrides the config)."),
        click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                     help="Override a config field, e.g. --set batch_size=8 (values are JSON)."),
        click.option("--output", type=click.Path(path_type=Path), default=None,
                     help=f"Where to save the trained model [default: {default_output}]."),
        click.option("--data", "user_data", multiple=True, type=click.Path(path_type=Path),
                     help=data_help),
    )

    def decorate(function):
        for option in reversed(options):  # the last decorator applied is listed first
            function = option(function)
        return function
    return decorate


@click.command(name="train")
@click.argument("stage")
@training_options(
    default_run_dir="runs/STAGE", default_output="models/STAGE/STAGE.h5",
    data_help="Also train on your own recordings: the output folder of `aural preprocess` "
              "(clean recordings go through the phone simulator; paired studio/phone takes "
              "are used as they are, and one in five pairs is held out for validation). "
              "Repeatable.")
@click.option("--from-shipped", is_flag=True,
              help="Start from the shipped weights (fine-tuning) instead of from scratch.")
@click.option("--init-from", type=click.Path(path_type=Path), default=None,
              help="Start from another model file's weights where layers match (transfer).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train on N workers (tf.distribute.MultiWorkerMirroredStrategy): N "
                   "processes on this machine, or, where TF_CONFIG is set (one worker per "
                   "machine, by you or a cluster manager), the workers it names. The batch "
                   "is split across them; each draws its own examples; the chief (worker 0) "
                   "writes --run-dir (shared storage, for --resume) and the model.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(stage: str, run_dir: Path | None, resume: bool, minutes: float | None,
            overrides: tuple[str, ...], output: Path | None, user_data: tuple[Path, ...],
            from_shipped: bool, init_from: Path | None, workers: int | None,
            progress: bool) -> None:
    """Train STAGE on its training split, validating each epoch on held-out speakers.

    Checkpoints are written every few minutes; after an interruption (even kill -9),
    run the same command with --resume. The kept weights (by the stage's validation
    score) are saved as .h5 with a JSON sidecar; run `aural evaluate STAGE` afterwards
    to measure them and record the metrics in the sidecar. A fine-tune of the stage's
    own model (--from-shipped) keeps the model it started from if no epoch beats it.

    \b
    Examples:
      aural train noise_reduction                      # the shipped model's recipe
      aural train noise_reduction --minutes 30 --from-shipped --data my_preprocessed \\
            --output models/noise_reduction/my_voice.h5   # fine-tune to your recordings
      aural train noise_reduction --resume --run-dir runs/noise_reduction
      aural train noise_reduction --workers 2 --minutes 60   # two worker processes

    \b
    The paper's techniques are switches (--set KEY=VALUE; off by default but for
    noise_reduction's voice head, each with its ablation in the README;
    frequency_generation's GAN has no use for the loss switches,
    perceptual_loss_weighting and the auxiliary heads):
      condition_on_pitch=true       voicing, log f0 and onset strength as inputs
      psychoacoustic_inputs=true    frame loudness and sharpness as inputs
      perceptual_loss_weighting=true   spectral loss weighted by K-weighting
      auxiliary_pitch_weight=0.3    a voicing/f0 head trained alongside (not shipped)
      auxiliary_voice_weight=0.3    a per-band voice-share (separation mask) head
                                    alongside (not shipped; noise_reduction and
                                    source_separation, whose target is a voice;
                                    0.3 in noise_reduction's defaults)
      augment_stretch=0.1 augment_semitones=2   independent tempo and pitch changes
      init_from=PATH|shipped|STAGE  transfer (also --init-from; PATH may come from
                                    `aural pretrain STAGE`, self-supervised)
    noise_reduction also has speech_collections=["gcompris"], reverb_probability=0.3
    (dereverberation) and validation_metric=pesq_wb; frequency_generation has
    adversarial_weight=1 (the GAN; its default 0 is the no-GAN generator),
    phone_damage=null (band-limited pairs instead of the phone simulator's),
    chain_by_content=false (every pair through every earlier stage, even music),
    pause_probability=0.3 (pauses of digital silence in that share of pairs),
    validation_metric=pesq_wb (keeps the weights with the best validation PESQ-wb
    gain instead of the best LSD reduction), overshoot_weight=2 (bands made louder
    than the target cost twice as much in the loss) and loudness_weight=4 (an L1 of
    band loudness under 8 kHz added to the loss).
    Where making examples costs more than training on them, example_echo=3 uses each
    about three times (data echoing; echo_buffer examples are kept).
    """
    import os

    from aural.cluster.multiworker import (check_batch_size, cluster_from_environment,
                                           from_environment)
    from aural.stages import stage_class

    cls = stage_class(stage)
    run_dir = run_dir or Path("runs") / stage
    values = config_values(overrides, minutes=minutes, user_data=user_data)
    if from_shipped or init_from:
        values["init_from"] = "shipped" if from_shipped else str(init_from)
    config = run_config(cls.config_class(), run_dir, resume=resume, values=values)
    # Everything that can be refused is refused here, once, before any worker starts.
    cluster = cluster_from_environment()
    check_batch_size(config.batch_size, cluster["workers"] if cluster else workers or 1)
    if workers and workers > 1 and cluster is None:
        from aural.cluster.launch import command_line, run_local_workers

        raise SystemExit(run_local_workers(command_line(click.get_current_context()), workers))
    quiet_tensorflow()
    distribution = from_environment(expected=workers)
    from aural.modelfile import default_model_path
    from aural.training import train_stage

    instance = cls(config)
    chief = distribution.is_chief  # the others keep quiet and write nothing
    summary = train_stage(instance, run_dir, resume=resume, progress=progress and chief,
                          log=click.echo if chief else lambda _: None, distribution=distribution)
    if distribution.workers > 1:
        click.echo(f"worker {distribution.index} of {distribution.workers}: final weights "
                   f"sha256 {distribution.final_weights}")
    if not chief:
        return
    report_saved(instance.save(output or default_model_path(stage), training=summary), summary)


def config_values(overrides: tuple[str, ...], *, minutes: float | None,
                  user_data: tuple[Path, ...]) -> dict[str, Any]:
    """--set, --minutes and --data as config field values."""
    values = parse_overrides(overrides)
    if minutes is not None:
        values["max_minutes"] = minutes
    if user_data:
        values["user_data"] = [str(p) for p in user_data]
    return values


def run_config(default: Any, run_dir: Path, *, resume: bool, values: dict[str, Any]) -> Any:
    """The config a run trains with: ``default`` (a stage config), or with --resume the
    run folder's own, and ``values`` over it (an unknown field is an error)."""
    config = default
    if resume and (run_dir / "config.json").exists():
        config = type(default).from_dict(read_json(run_dir / "config.json")["config"])
    return config.with_overrides(**values)


def report_saved(path: Path, summary: dict[str, Any]) -> None:
    """The line a training command ends with."""
    click.echo(f"saved {path} ({summary['steps']} steps, {summary['wall_minutes']} min, "
               f"best validation score {summary['best_validation_score']}); sidecar "
               f"{path.with_suffix('.json').name}")


def read_json(path: Path) -> dict:
    """Read a JSON file."""
    import json

    return json.loads(path.read_text())

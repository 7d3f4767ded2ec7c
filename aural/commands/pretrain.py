"""``aural pretrain STAGE``: pre-train a stage's network on unpaired audio, resumably."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import quiet_tensorflow
from aural.commands.train import config_values, report_saved, run_config, training_options


@click.command(name="pretrain")
@click.argument("stage")
@training_options(
    default_run_dir="runs/pretrained/STAGE",
    default_output="models/pretrained/STAGE_pretrained.h5",
    data_help="Also learn from your own recordings: the output folder of `aural preprocess` "
              "(every recording, as unpaired audio; of paired takes, the studio side). "
              "Repeatable.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(stage: str, run_dir: Path | None, resume: bool, minutes: float | None,
            overrides: tuple[str, ...], output: Path | None, user_data: tuple[Path, ...],
            progress: bool) -> None:
    """Pre-train STAGE's network on unpaired audio by masked-spectrogram reconstruction.

    Spans of frames and of bands of a recording's log band powers are hidden (set to
    -60 dB), and the network learns to fill them in from what surrounds them. Any speech
    and music teaches it (the catalogue's training split, and your recordings with --data):
    no clean/degraded pairs are needed. The network has STAGE's shape and layer names, so
    STAGE's training can start from it: `aural train STAGE --init-from FILE` copies every
    layer whose name and shapes match. Config changes that alter the network (--set
    network=..., n_fft, n_erb_bands, ...) must be the same in both commands.

    Checkpoints and --resume work as in `aural train`; the kept weights (lowest error on
    the masked cells of held-out recordings) are saved as .h5 with a JSON sidecar.

    \b
    Examples:
      aural pretrain noise_reduction               # 30 min on the catalogue's speech and music
      aural train noise_reduction --init-from models/pretrained/noise_reduction_pretrained.h5
      aural pretrain noise_reduction --minutes 60 --data my_preprocessed
      aural pretrain frequency_expansion --set 'unpaired_kinds=["speech"]'
      aural pretrain noise_reduction --resume --run-dir runs/pretrained/noise_reduction
    """
    from aural.errors import AuralError
    from aural.pretraining import check_config, pretrained_model_path, pretraining_config

    run_dir = run_dir or Path("runs") / "pretrained" / stage
    values = config_values(overrides, minutes=minutes, user_data=user_data)
    config = run_config(pretraining_config(stage), run_dir, resume=resume, values=values)
    check_config(config)
    if config.for_stage != stage:
        raise AuralError(f"this pre-training is for {config.for_stage}, not {stage}",
                         path=run_dir if resume else None)
    quiet_tensorflow()
    from aural.pretraining import MaskedSpectrogramPretraining
    from aural.training import train_stage

    instance = MaskedSpectrogramPretraining(config)
    summary = train_stage(instance, run_dir, resume=resume, progress=progress, log=click.echo)
    path = instance.save(output or pretrained_model_path(stage), training=summary)
    report_saved(path, summary)
    click.echo(f"next: aural train {stage} --init-from {path}")

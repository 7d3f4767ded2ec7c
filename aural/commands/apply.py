"""``aural apply STAGE IN OUT``: run one stage on a file."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import quiet_tensorflow


@click.command(name="apply")
@click.argument("stage")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(path_type=Path))
@click.option("--strength", type=click.FloatRange(0.0, 1.0), default=1.0, show_default=True,
              help="Dry/wet: 0 leaves the audio as it is, 1 applies the stage fully.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Model file [default: the shipped models/STAGE/STAGE.h5].")
@click.option("--sample-rate", type=int, default=None,
              help="Output sample rate [default: the input's rate].")
@click.option("--bit-depth", type=click.Choice(["16", "24", "float"]), default="24",
              show_default=True, help="Output sample format (16-bit is dithered).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(stage: str, input_path: Path, output_path: Path, strength: float,
            model_path: Path | None, sample_rate: int | None, bit_depth: str, progress: bool) -> None:
    """Run STAGE on INPUT (WAV, FLAC, OGG or MP3; any rate and channel count) and write
    OUTPUT (.wav or .flac). Long files are streamed in overlapping blocks, so memory
    stays flat; OUTPUT appears only when complete, and INPUT is never modified.
    """
    quiet_tensorflow()
    from aural.audio_io import audio_info, check_output_path, load_audio
    from aural.stages import stage_class

    # Check input and output before the model loads: bad paths fail fast, in one line.
    info = audio_info(input_path)
    load_audio(input_path, duration=min(1.0, info.duration))
    check_output_path(output_path, bit_depth=bit_depth, protect=(input_path,))
    instance = stage_class(stage).load(model_path)
    instance.apply_file(input_path, output_path, strength=strength, output_rate=sample_rate,
                        bit_depth=bit_depth, progress=progress)
    click.echo(f"wrote {output_path} ({info.duration:.1f} s, {stage}, strength {strength:g})")

"""``aural apply STAGE IN OUT``: run one stage on a file."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import (allow_truncated_option, bit_depth_option, check_input_audio,
                                     check_new_output, overwrite_option, progress_option,
                                     quiet_tensorflow, sample_rate_option, show_progress)


@click.command(name="apply")
@click.argument("stage")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(path_type=Path))
@click.option("--strength", type=click.FloatRange(0.0, 1.0), default=1.0, show_default=True,
              help="Dry/wet: 0 returns the input's samples exactly, 1 applies the stage fully.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Model file [default: the shipped models/STAGE/STAGE.h5].")
@sample_rate_option(None, help_text="Output sample rate in Hz (8000-192000) or 'input' "
                                    "[default: the input's rate].")
@bit_depth_option()
@overwrite_option()
@allow_truncated_option()
@progress_option()
def command(stage: str, input_path: Path, output_path: Path, strength: float,
            model_path: Path | None, sample_rate: int | str | None, bit_depth: str,
            overwrite: bool, allow_truncated: bool, progress: bool | None) -> None:
    """Run STAGE on INPUT (WAV, FLAC, OGG or MP3; any rate and channel count) and write
    OUTPUT (.wav or .flac). Long files are streamed in overlapping blocks, so memory
    stays flat; OUTPUT appears only when complete, and INPUT is never modified.

    Integer outputs (16 or 24 bit) cannot hold peaks above full scale: such peaks are
    brought under it by a transparent safety limiter, and a line says by how much
    (--bit-depth float keeps them as they are).

    \b
    Examples:
      aural apply noise_reduction memo.wav clean.wav
      aural apply noise_reduction memo.flac clean.flac --strength 0.7 --bit-depth 16
    """
    from aural.audio_io import check_output_path
    from aural.stages import stage_class

    # Input, output and stage are checked before TensorFlow loads: bad input fails fast.
    stage_class(stage)
    info = check_input_audio(input_path, allow_truncated=allow_truncated)
    check_output_path(output_path, bit_depth=bit_depth, protect=(input_path,))
    check_new_output(output_path, overwrite=overwrite)
    quiet_tensorflow()
    instance = stage_class(stage).load(model_path)
    rate = None if sample_rate in (None, "input") else int(sample_rate)
    result = instance.apply_file(input_path, output_path, strength=strength, output_rate=rate,
                                 bit_depth=bit_depth, progress=show_progress(progress))
    if result.limited_db > 0:
        click.echo(f"note: peaks above full scale were limited by up to {result.limited_db:.2f} dB "
                   "to fit the integer format (--bit-depth float keeps them)", err=True)
    click.echo(f"wrote {output_path} ({info.duration:.1f} s, {stage}, strength {strength:g})")

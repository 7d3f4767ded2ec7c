"""``aural convert``: change an audio file's format, sample rate, channels or bit depth."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import (allow_truncated_option, bit_depth_option, check_input_audio,
                                     check_new_output, overwrite_option, progress_option,
                                     sample_rate_option, show_progress)


@click.command(name="convert", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(path_type=Path))
@sample_rate_option(None, allow_input=False,
                    help_text="Resample to this rate (8000-192000 Hz) [default: the input's].")
@click.option("--mono", is_flag=True, help="Average all channels into one.")
@bit_depth_option()
@overwrite_option()
@allow_truncated_option()
@progress_option()
def command(input_path: Path, output_path: Path, sample_rate: int | None, mono: bool,
            bit_depth: str, overwrite: bool, allow_truncated: bool, progress: bool | None) -> None:
    """Convert INPUT (WAV, FLAC, OGG or MP3) to OUTPUT (.wav or .flac).

    The file is streamed (memory stays flat however long it is), the output is written
    atomically (a temporary file renamed into place), and OUTPUT may never be INPUT.
    Integer outputs cannot hold float peaks above full scale: those are brought under it
    by a transparent safety limiter and a line says by how much (--bit-depth float keeps
    them).

    \b
    Examples:
      aural convert memo.mp3 memo.wav
      aural convert take.flac take_48k.wav --sample-rate 48000 --mono --bit-depth float
    """
    from aural.audio_io import check_output_path
    from aural.streaming import stream_file

    info = check_input_audio(input_path, allow_truncated=allow_truncated)
    check_output_path(output_path, bit_depth=bit_depth, protect=(input_path,))
    check_new_output(output_path, overwrite=overwrite)
    channels = 1 if mono else info.channels
    mix = (lambda block: block.mean(axis=0, keepdims=True)) if mono else (lambda block: block)
    second = info.sample_rate
    result = stream_file(input_path, output_path, mix, process_rate=info.sample_rate,
                         output_rate=sample_rate, block=second, context=0, crossfade=0,
                         bit_depth=bit_depth, progress=show_progress(progress),
                         output_channels=channels)
    if result.limited_db > 0:
        click.echo(f"note: peaks above full scale were limited by up to {result.limited_db:.2f} dB "
                   "to fit the integer format (--bit-depth float keeps them)", err=True)
    rate = sample_rate or info.sample_rate
    click.echo(f"wrote {output_path} ({channels} ch, {rate} Hz, {info.duration:.2f} s, {bit_depth})")

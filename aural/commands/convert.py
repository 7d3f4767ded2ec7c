"""``aural convert``: change an audio file's format, sample rate, channels or bit depth."""

from __future__ import annotations

import click

from aural.audio_io import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SUBTYPES, load_audio, save_audio


@click.command(name="convert", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=True, path_type=str))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=True, path_type=str))
@click.option("--sample-rate", "-r", type=int, default=None, metavar="HZ",
              help=f"Resample to this rate ({MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz). "
                   "Default: keep the input's rate.")
@click.option("--mono", is_flag=True, help="Average all channels into one.")
@click.option("--bit-depth", type=click.Choice(list(SUBTYPES)), default="24", show_default=True,
              help="Sample format of OUTPUT: 16-bit (dithered), 24-bit, or 32-bit float "
                   "(WAV only).")
def command(input_path: str, output_path: str, sample_rate: int | None, mono: bool,
            bit_depth: str) -> None:
    """Convert INPUT (WAV, FLAC, OGG or MP3) to OUTPUT (.wav or .flac).

    The output is written atomically (a temporary file renamed into place), and
    OUTPUT may never be INPUT itself.

    \b
    Examples:
      aural convert memo.mp3 memo.wav
      aural convert take.flac take_48k.wav --sample-rate 48000 --mono --bit-depth float
    """
    from aural.errors import AuralError

    if sample_rate is not None and not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AuralError(f"--sample-rate must be between {MIN_SAMPLE_RATE} and "
                         f"{MAX_SAMPLE_RATE} Hz, got {sample_rate}")
    audio, rate = load_audio(input_path, sample_rate=sample_rate, mono=mono)
    written = save_audio(output_path, audio, rate, bit_depth=bit_depth, protect=(input_path,))
    click.echo(f"wrote {written} ({audio.shape[0]} ch, {rate} Hz, "
               f"{audio.shape[1] / rate:.2f} s, {bit_depth})")

"""Resample a file (soxr, very high quality).

    python scripts/data_preprocessing/resample_audio.py IN OUT [--sample-rate 48000]
"""

import click

from aural.audio_io import load_audio, save_audio
from aural.commands._run import run_script


@click.command()
@click.argument("input_path", metavar="IN")
@click.argument("output_path", metavar="OUT")
@click.option("--sample-rate", "-r", type=int, default=48000, show_default=True)
@click.option("--bit-depth", type=click.Choice(["16", "24", "float"]), default="24",
              show_default=True)
def main(input_path: str, output_path: str, sample_rate: int, bit_depth: str) -> None:
    """Write IN resampled to SAMPLE_RATE to OUT (.wav or .flac)."""
    from aural.audio_io import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
    from aural.errors import AuralError

    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AuralError(f"--sample-rate must be between {MIN_SAMPLE_RATE} and "
                         f"{MAX_SAMPLE_RATE} Hz")
    audio, rate = load_audio(input_path, sample_rate=sample_rate)
    written = save_audio(output_path, audio, rate, bit_depth=bit_depth, protect=(input_path,))
    click.echo(f"wrote {written}")


if __name__ == "__main__":
    run_script(main)

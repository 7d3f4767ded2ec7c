"""Mix every channel of a file down to one.

    python scripts/data_preprocessing/convert_to_mono.py IN OUT
"""

import click

from aural.audio_io import load_audio, save_audio
from aural.commands._run import run_script


@click.command()
@click.argument("input_path", metavar="IN")
@click.argument("output_path", metavar="OUT")
@click.option("--bit-depth", type=click.Choice(["16", "24", "float"]), default="24",
              show_default=True)
def main(input_path: str, output_path: str, bit_depth: str) -> None:
    """Write the average of IN's channels to OUT (.wav or .flac)."""
    audio, rate = load_audio(input_path, mono=True)
    written = save_audio(output_path, audio, rate, bit_depth=bit_depth, protect=(input_path,))
    click.echo(f"wrote {written}")


if __name__ == "__main__":
    run_script(main)

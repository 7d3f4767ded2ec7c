"""Normalise a file's integrated loudness (BS.1770).

    python scripts/data_preprocessing/normalize_audio.py IN OUT [--target-lufs -23]
"""

import click

from aural.audio_io import load_audio, save_audio
from aural.commands._run import run_script


@click.command()
@click.argument("input_path", metavar="IN")
@click.argument("output_path", metavar="OUT")
@click.option("--target-lufs", type=float, default=-23.0, show_default=True)
@click.option("--bit-depth", type=click.Choice(["16", "24", "float"]), default="24",
              show_default=True)
def main(input_path: str, output_path: str, target_lufs: float, bit_depth: str) -> None:
    """Write IN to OUT (.wav or .flac) at TARGET_LUFS integrated loudness."""
    from aural.dsp.loudness import normalize_loudness

    audio, rate = load_audio(input_path)
    audio = normalize_loudness(audio, rate, target_lufs=target_lufs)
    written = save_audio(output_path, audio, rate, bit_depth=bit_depth, protect=(input_path,))
    click.echo(f"wrote {written}")


if __name__ == "__main__":
    run_script(main)

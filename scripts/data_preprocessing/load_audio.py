"""Print what an audio file holds: rate, channels, length, format and loudness.

    python scripts/data_preprocessing/load_audio.py FILE [FILE ...]
"""

import click

from aural.audio_io import audio_info, load_audio
from aural.commands._run import run_script


@click.command()
@click.argument("paths", nargs=-1, required=True)
def main(paths: tuple[str, ...]) -> None:
    """Print each FILE's sample rate, channels, duration, format and integrated loudness."""
    from aural.dsp.loudness import integrated_loudness

    for path in paths:
        info = audio_info(path)
        audio, rate = load_audio(path)
        click.echo(f"{path}: {info.sample_rate} Hz, {info.channels} ch, {info.duration:.2f} s, "
                   f"{info.format}/{info.subtype}, {integrated_loudness(audio, rate):.1f} LUFS")


if __name__ == "__main__":
    run_script(main)

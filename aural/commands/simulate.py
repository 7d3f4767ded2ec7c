"""``aural simulate``: degrade clean recordings like a phone would, making training pairs."""

from __future__ import annotations

import click

#: Kept here (not imported from the simulator) so that `--help` stays light.
_DAMAGE_HELP = ("reverb, noise, mic_response, agc, over_compression, clipping, codec, level")


@click.command(name="simulate", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              metavar="DIR", help="Folder for the pairs and manifest.json. "
                                  "Default: data/simulated/SPLIT.")
@click.option("--split", type=click.Choice(["train", "validation", "test"]), default="train",
              show_default=True,
              help="Which split's clean recordings, noises and room responses to use "
                   "(splits never mix).")
@click.option("--pairs-per-file", type=click.IntRange(min=1), default=2, show_default=True,
              metavar="N", help="Differently degraded pairs per clean recording.")
@click.option("--segment-seconds", type=click.FloatRange(min=0.1), default=None, metavar="S",
              help="Cut a random excerpt of S seconds from each recording. "
                   "Default: whole recordings.")
@click.option("--sample-rate", "-r", type=click.IntRange(8000, 192000), default=48000,
              show_default=True, metavar="HZ", help="Sample rate of the pairs.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Base random seed; the same seed makes the same pairs.")
@click.option("--damage", default="all", show_default=True, metavar="LIST",
              help=f"Comma-separated damage to apply, or 'all': {_DAMAGE_HELP}.")
@click.option("--without", default="", metavar="LIST",
              help="Comma-separated damage to leave out (after --damage).")
@click.option("--speech-only", is_flag=True, help="Degrade speech only, not music.")
@click.option("--no-external", is_flag=True,
              help="Use only the shared recordings, not those from `aural fetch-data`.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(out_dir: str | None, split: str, pairs_per_file: int, segment_seconds: float | None,
            sample_rate: int, seed: int, damage: str, without: str, speech_only: bool,
            no_external: bool, quiet: bool) -> None:
    """Make (degraded, clean) training pairs from the clean recordings of one split.

    Each clean recording is degraded PAIRS-PER-FILE times, each time with a random
    draw of the chosen damage: room reverb (measured and synthetic responses), real
    background noise at -5 to 30 dB SNR (or hiss and hum), a cheap microphone's
    response, pumping automatic gain control, over-compression, clipping, codec
    band-limiting and a random level. Each pair is written as ID_clean.wav and
    ID_degraded.wav (32-bit float, sample-aligned) with ID.json holding every
    parameter drawn, the source recording and the seed; manifest.json lists them all.
    Where the split has no noise recordings or room responses (validation), noise
    and reverb are synthetic. Without the level damage a degraded file may peak
    above 0 dBFS; the float WAV keeps it.

    \b
    Examples:
      aural simulate
      aural simulate --split validation --pairs-per-file 4 --segment-seconds 4
      aural simulate --damage noise,reverb --out data/simulated/noise_train
      aural simulate --without codec,level --seed 7
    """
    from aural.data.simulator import DamageConfig, simulate_dataset

    config = DamageConfig.from_names(damage, without=without)
    if not config.enabled_names():
        from aural.errors import AuralError

        raise AuralError("no damage left to apply; check --damage and --without")
    summary = simulate_dataset(
        out_dir if out_dir is not None else f"data/simulated/{split}", split=split,
        sample_rate=sample_rate, pairs_per_file=pairs_per_file,
        segment_seconds=segment_seconds, seed=seed, config=config,
        kinds=("speech",) if speech_only else ("speech", "music"),
        include_external=not no_external, progress=not quiet)
    skipped = f", skipped {summary.skipped_files} unreadable" if summary.skipped_files else ""
    click.echo(f"wrote {summary.pairs} pairs ({summary.seconds:.1f} s of audio) from "
               f"{summary.clean_files} {split} recordings with {summary.noises} noises and "
               f"{summary.rirs} room responses to {summary.out_dir} in "
               f"{summary.wall_seconds:.1f} s ({summary.speed:.1f}x real time){skipped}; "
               f"damage: {', '.join(config.enabled_names())}")
    if config.noise.enabled and not summary.noises:
        click.echo(f"note: the {split} split has no noise recordings; its noise is synthetic "
                   "hiss and hum")
    if config.reverb.enabled and not summary.rirs:
        click.echo(f"note: the {split} split has no room responses; its reverb is synthetic")

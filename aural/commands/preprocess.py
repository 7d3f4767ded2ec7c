"""``aural preprocess``: decode, normalise and resample raw recordings; save features, manifest."""

from __future__ import annotations

import click

from aural import PIPELINE_SAMPLE_RATE


@click.command(name="preprocess", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("input_dir", metavar="[INPUT_DIR]", default="data/raw",
                type=click.Path(file_okay=False, path_type=str))
@click.option("--out-root", default="data", show_default=True, metavar="DIR",
              help="Writes DIR/uncompressed/ (audio) and DIR/preprocessed/ (features, manifest).")
@click.option("--sample-rate", "-r", type=int, default=PIPELINE_SAMPLE_RATE, show_default=True,
              metavar="HZ", help="Rate of the output audio and features.")
@click.option("--per-channel", is_flag=True,
              help="Keep each channel as its own mono file (NAME.chN.wav) instead of a mono mix.")
@click.option("--target-lufs", type=float, default=-23.0, show_default=True, metavar="LUFS",
              help="Integrated loudness (BS.1770) of every output.")
@click.option("--n-mels", type=int, default=80, show_default=True,
              help="Mel bands of the features.")
@click.option("--n-fft", type=int, default=1024, show_default=True,
              help="FFT size of the features (hop is half of it).")
@click.option("--bit-depth", type=click.Choice(["float", "24"]), default="float", show_default=True,
              help="Sample format of the output WAV files.")
@click.option("--paired", is_flag=True,
              help="INPUT_DIR holds studio/ and phone/ takes matched by name; align each "
                   "phone take to its studio take and keep only pairs that align.")
@click.option("--max-lag", type=float, default=1.0, show_default=True, metavar="SECONDS",
              help="Paired mode: largest offset searched between the two takes.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: only on a terminal).")
def command(input_dir: str, out_root: str, sample_rate: int, per_channel: bool, target_lufs: float,
            n_mels: int, n_fft: int, bit_depth: str, paired: bool, max_lag: float,
            progress: bool | None) -> None:
    """Turn the recordings under INPUT_DIR (default data/raw) into training material.

    Every audio file (WAV, FLAC, OGG, MP3, AIFF; searched recursively) is decoded,
    mixed to mono (or split per channel), resampled, loudness-normalised and saved
    under OUT_ROOT/uncompressed/ with the same relative path; its log-mel features go
    to OUT_ROOT/preprocessed/*.npy and everything is listed in
    OUT_ROOT/preprocessed/manifest.json. Unchanged files are skipped. Files that
    cannot be read, and pairs without a partner or that do not align, are listed at
    the end and make the command exit with status 1.

    \b
    Examples:
      aural preprocess
      aural preprocess recordings/ --out-root data --sample-rate 44100 --per-channel
      aural preprocess data/raw/pairs --paired
    """
    from pathlib import Path

    from aural.data.preprocess import PreprocessSettings, find_audio_files, preprocess
    from aural.errors import AuralError

    folder = Path(input_dir)
    if not paired and folder.is_dir() and not find_audio_files(folder)[0]:
        raise AuralError("no audio files (.wav, .flac, .ogg, .mp3, .aif) in this folder",
                         path=folder)

    settings = PreprocessSettings(sample_rate=sample_rate, per_channel=per_channel,
                                  target_lufs=target_lufs, n_mels=n_mels, n_fft=n_fft,
                                  bit_depth=bit_depth, paired=paired, max_lag_seconds=max_lag)
    report = preprocess(input_dir, out_root, settings, progress=progress)

    speed = report.audio_seconds / report.wall_seconds if report.wall_seconds > 0 else 0.0
    unit = "pair files" if paired else "files"
    click.echo(f"preprocess: {len(report.processed)} {unit} processed "
               f"({report.audio_seconds:.1f} s of audio in {report.wall_seconds:.1f} s, "
               f"{speed:.1f}x real time), {len(report.skipped)} unchanged skipped, "
               f"{len(report.failed)} failed"
               + (f", {len(report.rejected_pairs)} not paired" if paired else "")
               + (f", {len(report.ignored)} other files ignored" if report.ignored else ""))
    click.echo(f"manifest: {report.manifest_path}")
    if report.failed:
        click.echo(f"could not process {len(report.failed)} file(s):")
        for problem in report.failed:
            click.echo(f"  {problem.path}: {problem.reason}")
    if report.rejected_pairs:
        click.echo(f"not kept as pairs ({len(report.rejected_pairs)}):")
        for problem in report.rejected_pairs:
            click.echo(f"  {problem.path}: {problem.reason}")
    if not report.ok:
        raise click.exceptions.Exit(1)

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

    A stage with several outputs (source_separation) takes a folder as OUTPUT and writes
    OUTPUT/<input name>/<stem>.wav, as Spleeter does: voice.wav and background.wav.

    Integer outputs (16 or 24 bit) cannot hold peaks above full scale: such peaks are
    brought under it by a transparent safety limiter, and a line says by how much
    (--bit-depth float keeps them as they are).

    \b
    Examples:
      aural apply noise_reduction memo.wav clean.wav
      aural apply noise_reduction memo.flac clean.flac --strength 0.7 --bit-depth 16
      aural apply source_separation song.wav out/   # out/song/voice.wav, background.wav
    """
    from aural.audio_io import check_output_path, same_file
    from aural.errors import AuralError
    from aural.stages import stage_class

    # Input, output and stage are checked before TensorFlow loads: bad input fails fast.
    outputs = stage_class(stage).outputs
    info = check_input_audio(input_path, allow_truncated=allow_truncated)
    rate = None if sample_rate in (None, "input") else int(sample_rate)
    if len(outputs) > 1:
        folder = output_path / input_path.stem
        check_stems_folder(output_path, bit_depth)
        for name in outputs:
            if same_file(folder / f"{name}.wav", input_path):
                raise AuralError("output path is the same as the input; choose another folder",
                                 path=folder / f"{name}.wav")
            check_new_output(folder / f"{name}.wav", overwrite=overwrite)
        quiet_tensorflow()
        written = stage_class(stage).load(model_path).apply_stems(
            input_path, folder, strength=strength, output_rate=rate, bit_depth=bit_depth,
            progress=show_progress(progress))
        click.echo(f"wrote {', '.join(str(p) for p in written)} ({info.duration:.1f} s, {stage}, "
                   f"strength {strength:g})")
        return
    check_output_path(output_path, bit_depth=bit_depth, protect=(input_path,))
    check_new_output(output_path, overwrite=overwrite)
    quiet_tensorflow()
    instance = stage_class(stage).load(model_path)
    result = instance.apply_file(input_path, output_path, strength=strength, output_rate=rate,
                                 bit_depth=bit_depth, progress=show_progress(progress))
    if result.limited_db > 0:
        click.echo(f"note: peaks above full scale were limited by up to {result.limited_db:.2f} dB "
                   "to fit the integer format (--bit-depth float keeps them)", err=True)
    click.echo(f"wrote {output_path} ({info.duration:.1f} s, {stage}, strength {strength:g})")


def check_stems_folder(folder: Path, bit_depth: str) -> None:
    """Refuse a stems destination that is not a writable folder (it may not exist yet,
    but its parent must)."""
    import os

    from aural.audio_io import SUBTYPES
    from aural.errors import AuralError

    if bit_depth not in SUBTYPES:
        raise AuralError(f"bit depth must be one of {', '.join(SUBTYPES)}, got {bit_depth!r}")
    if folder.exists() and not folder.is_dir():
        raise AuralError("this stage writes one file per stem: OUTPUT must be a folder", path=folder)
    existing = folder if folder.is_dir() else folder.parent if str(folder.parent) else Path(".")
    if not existing.is_dir():
        raise AuralError("output folder's parent does not exist", path=existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AuralError("output folder is not writable", path=existing)

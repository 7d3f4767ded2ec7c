"""Option parsing shared by the stage commands (kept free of heavy imports)."""

from __future__ import annotations

import json
from typing import Any

from aural.errors import AuralError


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("max_minutes=5", "network={...}")`` -> dict; values are JSON, else strings."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise AuralError(f"--set expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    return overrides


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up chatter on the user's terminal.

    TF_CPP_MIN_LOG_LEVEL hides most of it, but the oneDNN notice is written by native
    code before logging is set up, so stderr's file descriptor is muted for the import.
    """
    import os
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or os.environ.get("AURAL_DEBUG"):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401  (imports tensorflow)
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")  # retracing notices are not the user's business
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# ---- options every command that writes audio shares --------------------------------------

import click  # noqa: E402  (click is light; the helpers above need nothing)

#: The bit depths every command offers, and what --help says of them.
BIT_DEPTHS = ("16", "24", "float")
BIT_DEPTH_HELP = ("Output sample format: 16 (dithered), 24, or float (32-bit, WAV only; keeps "
                  "peaks above full scale, which integer formats cannot hold).")


class SampleRate(click.ParamType):
    """A sample rate from 8 kHz to 192 kHz, or the word ``input`` (when allowed)."""

    name = "rate"

    def __init__(self, allow_input: bool = True) -> None:
        self.allow_input = allow_input

    def convert(self, value, param, ctx):
        from aural.audio_io import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

        if isinstance(value, int) or value is None:
            rate = value
        elif self.allow_input and str(value).strip().lower() == "input":
            return "input"
        else:
            try:
                rate = int(str(value))
            except ValueError:
                rate = None
        if rate is None or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
            allowed = " or 'input'" if self.allow_input else ""
            self.fail(f"must be a rate from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz{allowed}, "
                      f"got {value!r}", param, ctx)
        return rate


def sample_rate_option(default: str | int | None = None, *, allow_input: bool = True,
                       help_text: str = "Output sample rate in Hz (8000-192000), or 'input'."):
    """``--sample-rate/-r``, validated the same way in every command."""
    return click.option("--sample-rate", "-r", type=SampleRate(allow_input), default=default,
                        show_default=default is not None, metavar="HZ", help=help_text)


def bit_depth_option(default: str = "24"):
    """``--bit-depth`` with the same choices in every command."""
    return click.option("--bit-depth", type=click.Choice(BIT_DEPTHS), default=default,
                        show_default=True, help=BIT_DEPTH_HELP)


def progress_option():
    """``--progress/--no-progress``: drawn only on a terminal unless forced."""
    return click.option("--progress/--no-progress", default=None,
                        help="Progress bars [default: only when stderr is a terminal].")


def overwrite_option():
    """``--overwrite``: outputs that exist are refused without it."""
    return click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")


def allow_truncated_option():
    """``--allow-truncated``: process what a truncated file holds instead of refusing it."""
    return click.option("--allow-truncated", is_flag=True,
                        help="A file whose data ends before its header says is refused; with "
                             "this flag, what is there is processed (with a warning).")


def show_progress(progress: bool | None) -> bool:
    """Whether to draw progress bars: as asked, else only on a terminal."""
    import sys

    return sys.stderr.isatty() if progress is None else progress


def check_input_audio(path, *, allow_truncated: bool = False):
    """Everything about an input file that can fail, checked before TensorFlow loads."""
    from aural.audio_io import audio_info, load_audio
    from aural.errors import AuralError

    info = audio_info(path)
    load_audio(path, duration=min(1.0, info.duration))
    if info.missing_seconds > 0:
        message = (f"is truncated: its data ends {info.missing_seconds:.2f} s before its header "
                   "says")
        if not allow_truncated:
            raise AuralError(message + " (--allow-truncated processes what is there)", path=path)
        click.echo(f"warning: {info.path}: {message}; processing what is there", err=True)
    return info


def check_new_output(path, *, overwrite: bool) -> None:
    """Refuse an output that exists, unless ``overwrite``."""
    from pathlib import Path

    from aural.errors import AuralError

    if Path(path).exists() and not overwrite and not Path(path).is_dir():
        raise AuralError("output exists; use --overwrite to replace it", path=path)

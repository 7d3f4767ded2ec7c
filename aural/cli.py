"""The ``aural`` command line: a thin click layer over the package.

Each command lives in its own module under :mod:`aural.commands` and is imported only
when it runs, so ``aural --help`` answers without importing TensorFlow.
"""

from __future__ import annotations

import importlib

import click

from aural import __version__

#: command name -> module that defines a click command called ``command``.
COMMANDS = {
    "regenerate": "aural.commands.regenerate",
    "preprocess": "aural.commands.preprocess",
    "simulate": "aural.commands.simulate",
    "train": "aural.commands.train",
    "pretrain": "aural.commands.pretrain",
    "evaluate": "aural.commands.evaluate",
    "apply": "aural.commands.apply",
    "models": "aural.commands.models",
    "fetch-data": "aural.commands.fetch_data",
    "convert": "aural.commands.convert",
    "listen": "aural.commands.listen",
}

SHORT_HELP = {
    "regenerate": "Make a recording sound like a studio one: every stage, then mix-and-master.",
    "preprocess": "Decode, normalise and resample raw recordings; save features and a manifest.",
    "simulate": "Degrade clean recordings like a phone would, making training pairs.",
    "train": "Train one stage's model (resumable).",
    "pretrain": "Pre-train a stage's network on unpaired audio (masked spectrograms).",
    "evaluate": "Measure a stage against the input and classical baselines on held-out audio.",
    "apply": "Run one stage on a file.",
    "models": "List the shipped models and their measured metrics.",
    "fetch-data": "Bring in extra real recordings from Debian packages (for training).",
    "convert": "Convert an audio file's format, rate, channels or bit depth.",
    "listen": "Build a blind listening test (A/B or MUSHRA) and summarise its answers.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return importlib.import_module(COMMANDS[name]).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP[name]) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aural")
def cli() -> None:
    """AURAL turns phone and cheap-device recordings into studio-sounding audio.

    Typical use: `aural regenerate memo.wav` (writes memo_regenerated.wav).
    Run `aural COMMAND --help` for each command's options.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit."""
    from aural.commands._run import run_script

    run_script(cli, argv, prog_name="aural")


if __name__ == "__main__":
    main()

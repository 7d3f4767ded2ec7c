"""Running a click command as a stand-alone script, with the CLI's error promise.

The thin scripts under ``scripts/`` call :func:`run_script` so that a user error is one
line (``error: ...``) and a non-zero exit status, exactly as with ``aural``.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click


def run_script(command: click.Command, argv: list[str] | None = None, *,
               prog_name: str | None = None) -> None:
    """Run ``command`` on ``argv`` (default ``sys.argv[1:]``) and exit with its status."""
    from aural import termination
    from aural.errors import AuralError

    name = prog_name or (os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0]
                         else command.name)
    termination.install_handlers()
    try:
        status = command.main(args=argv, prog_name=name, standalone_mode=False)
    except click.exceptions.Abort:
        _exit_interrupted()
    except click.UsageError as exc:
        # One line, like every other error, naming the option; status 2 as click uses.
        where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        click.echo(f"error: {' '.join(exc.format_message().split())}{where}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except AuralError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        _exit_interrupted()
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback for users
        if termination.received():
            # The signal's KeyboardInterrupt surfaced through native code (TensorFlow's
            # pybind11) as another exception: it is still an interruption.
            _exit_interrupted()
        if os.environ.get("AURAL_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"error: internal error: {message} (set AURAL_DEBUG=1 for details)", err=True)
        sys.exit(2)
    if isinstance(status, int) and status:
        sys.exit(status)


def _exit_interrupted() -> NoReturn:
    """Say so and end the process with status 130 at once. Every temporary file is gone by
    now (the interruption unwound through their clean-ups); a normal interpreter exit can
    hang for good in TensorFlow's tf.data teardown (seen after SIGTERM during
    frequency_generation's training: a prefetch iterator's destructor waiting on its
    thread)."""
    click.echo("error: interrupted", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)

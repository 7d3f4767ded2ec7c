"""SIGTERM and SIGHUP handled like Ctrl-C, and remembered.

The handler raises KeyboardInterrupt, so every writer removes its temporary file on the way
out. Python runs the handler at the next bytecode of the main thread, which may be inside a
callback whose caller swallows exceptions (a ``__del__``, a native library's callback); the
run would then go on as if nothing had happened. So the signal is also remembered, and the
places that must not go on after it (renaming a finished file into place, the next block
of a long stream) ask :func:`raise_if_received`.
"""

from __future__ import annotations

import signal

#: Termination signals received, in order.
_RECEIVED: list[int] = []


def _interrupt(signum: int, frame: object) -> None:  # noqa: ARG001
    _RECEIVED.append(signum)
    raise KeyboardInterrupt


def install_handlers() -> None:
    """Make SIGTERM and SIGHUP end this process the way Ctrl-C does (main thread only)."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), _interrupt)
            except ValueError:  # not the main thread (e.g. called from a test runner thread)
                pass


def received() -> bool:
    """Whether a termination signal has arrived."""
    return bool(_RECEIVED)


def raise_if_received() -> None:
    """Raise KeyboardInterrupt if a termination signal has arrived (even one whose
    KeyboardInterrupt was swallowed on its way up)."""
    if _RECEIVED:
        raise KeyboardInterrupt

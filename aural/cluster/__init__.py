"""Scaling out: ``aural regenerate IN OUT --cluster`` on Ray, ``aural train --workers`` on
``tf.distribute.MultiWorkerMirroredStrategy``.

Ray is optional (the ``cluster`` extra). Nothing in this package imports it until a
cluster is asked for, and asking without it installed is one line saying how to get it.
"""

from __future__ import annotations

import re
from types import ModuleType

from aural.errors import AuralError

#: How to get Ray, said in the one-line error when it is missing.
INSTALL_HINT = "pip install 'ray[default]' (or install AURAL with its extra: pip install -e '.[cluster]')"

_ADDRESS = re.compile(r"^(local|auto|(ray://)?[A-Za-z0-9_.\-]+:\d{1,5})$")


def import_ray() -> ModuleType:
    """The ``ray`` module, or an :class:`AuralError` that says how to install it."""
    try:
        import ray
    except ImportError:
        raise AuralError(f"--cluster needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def check_address(address: str) -> str:
    """``local``, ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``, else a one-line error."""
    if not _ADDRESS.match(address):
        raise AuralError("--cluster must be local, auto, HOST:PORT or ray://HOST:PORT, "
                         f"got {address!r}")
    return address

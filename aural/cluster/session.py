"""Joining a Ray cluster for one run: an address, ``auto`` (inside a Ray job) or ``local``."""

from __future__ import annotations

import logging
import os
import socket

from aural.cluster import import_ray
from aural.errors import AuralError


def connect(address: str) -> int:
    """Connect this process to the Ray cluster at ``address`` and return its CPU count.

    ``local`` starts a Ray instance on this machine with every core, on the loopback
    address only; ``auto`` joins the cluster this process runs inside (a Ray job);
    ``HOST:PORT`` joins a head node directly (run from a node of the cluster) and
    ``ray://HOST:PORT`` through Ray Client (from anywhere that reaches the head).
    """
    ray = import_ray()
    # Workers report through their results; their own console output would bury ours.
    options: dict = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address == "local":
        options.update(num_cpus=os.cpu_count(), include_dashboard=False,
                       _node_ip_address="127.0.0.1")
    else:
        _check_reachable(address)
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise AuralError(f"cannot join the Ray cluster at {address} "
                         f"({' '.join(str(exc).split())[:300]})") from None
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < 1:
        shutdown()
        raise AuralError(f"the Ray cluster at {address} has no CPU to run on")
    return cpus


def _check_reachable(address: str) -> None:
    """Fail in seconds when nothing listens at ``address`` (Ray itself retries for minutes)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5.0).close()
    except OSError as exc:
        raise AuralError(f"cannot reach the Ray cluster at {address} "
                         f"({exc.strerror or exc})") from None


def shutdown() -> None:
    """Leave the cluster (and stop it, when ``local`` started it)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()

"""``aural train STAGE --workers N`` on one machine: N worker processes on the loopback
address, each told its place by ``TF_CONFIG``, as a cluster manager does on N machines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import click

#: How long a worker gets to stop after SIGTERM before it is killed (a worker waiting in
#: a collective for a peer that died does not return to Python to see the signal).
STOP_SECONDS = 10.0


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def local_tf_configs(count: int) -> list[str]:
    """``TF_CONFIG`` for each of ``count`` workers on this machine's loopback address."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(count)]
    return [json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
            for i in range(count)]


def command_line(ctx: click.Context) -> list[str]:
    """The ``aural`` arguments that give ``ctx``'s command and parameters again."""
    arguments, options = [ctx.info_name], []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value is None:
            continue
        if isinstance(param, click.Argument):
            arguments.append(str(value))
        elif param.is_flag:
            if param.secondary_opts:
                options.append(param.opts[0] if value else param.secondary_opts[0])
            elif value:
                options.append(param.opts[0])
        else:
            for item in (value if param.multiple else [value]):
                options += [param.opts[0], str(item)]
    return arguments + options


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_local_workers(arguments: list[str], count: int) -> int:
    """Run ``aural ARGUMENTS`` as ``count`` workers; when one fails the others are stopped
    (they would wait for it forever). Returns the first non-zero exit status, or 0."""
    processes = [subprocess.Popen([sys.executable, "-m", "aural", *arguments],
                                  env={**os.environ, "TF_CONFIG": config})
                 for config in local_tf_configs(count)]
    status = 0
    try:
        while any(p.poll() is None for p in processes):
            failed = [p.returncode for p in processes if p.poll()]
            if failed:
                status = failed[0]
                break
            time.sleep(0.2)
        status = status or next((p.returncode for p in processes if p.returncode), 0)
    finally:
        _stop(processes)
    return status

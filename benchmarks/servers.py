"""Start the loopback servers the benchmarks talk to, each in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextmanager
def _child(script: str, env: dict[str, str]) -> Iterator[list[str]]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if not line:
            raise RuntimeError(f"{script} did not start")
        yield line
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def fixed_server(env: dict[str, str]) -> Iterator[str]:
    """The fixed-reply server's URL."""
    with _child("fixed_server.py", env) as (port, *_):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def emulator(env: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """The emulator's URL, access key and secret key."""
    with _child("emulator_server.py", env) as (port, access, secret):
        yield f"http://127.0.0.1:{port}", access, secret

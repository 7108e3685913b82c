"""AsyncClient side by side with aiobotocore and capo-pinpoint's async client, and our client on
aiohttp (the shipped transport) against the same client on httpx (the alternative weighed).

Each library runs in a fresh process of its own (``python bench_async.py worker LIB URL ...``)
against the same fixed-reply server: client CPU per sequential GetEndpoint
(`time.process_time`), and GetEndpoint throughput with 64 tasks on one event loop. The peers
pin a botocore older than the shared environment's, so they may run from another interpreter:
``PEER_PYTHON`` or ``.venv-bench/bin/python`` beside the repository, else this one.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TASKS = 64
APP, EP = "bench-app", "bench-ep"
LIBS = ("ours", "ours-httpx", "aiobotocore", "capo")
PEERS = frozenset({"aiobotocore", "capo"})


def _python(lib: str) -> str:
    if lib not in PEERS:
        return sys.executable
    local = HERE.parent / ".venv-bench" / "bin" / "python"
    return os.environ.get("PEER_PYTHON") or (str(local) if local.exists() else sys.executable)


def _worker(lib: str, url: str, calls: int, per_task: int) -> dict[str, float] | None:
    proc = subprocess.run(
        [_python(lib), str(Path(__file__).resolve()), "worker", lib, url, str(calls),
         str(per_task)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    if proc.returncode != 0:
        print(f"  {lib}: not measured ({proc.stderr.strip().splitlines()[-1:]})", flush=True)
        return None
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def rows(url: str, row: Callable[..., list[str]], *, quick: bool) -> list[list[str]]:
    """The table rows: ours against each peer, measured in this run, rounds alternating."""
    rounds, calls, per_task = (1, 300, 10) if quick else (5, 2000, 60)
    seen: dict[str, list[dict[str, float]]] = {lib: [] for lib in LIBS}
    for _ in range(rounds):
        for lib in LIBS:
            got = _worker(lib, url, calls, per_task)
            if got is not None:
                seen[lib].append(got)

    def med(lib: str, key: str) -> float | None:
        values = [r[key] for r in seen[lib]]
        return statistics.median(values) if values else None

    cpu, rps = "cpu_us", "rps"
    return [
        row("async GetEndpoint: client CPU per call vs aiobotocore (µs)", med("ours", cpu),
            med("aiobotocore", cpu), ".0f", "≤ 0.50", 0.5),
        row("async GetEndpoint: client CPU per call vs capo-pinpoint (µs)", med("ours", cpu),
            med("capo", cpu), ".0f", "< 1.00", 0.999),
        row(f"async GetEndpoint: {TASKS} tasks, one loop, vs aiobotocore (req/s)",
            med("ours", rps), med("aiobotocore", rps), ".0f", "≥ 2.00", 2.0,
            higher_is_better=True),
        row(f"async GetEndpoint: {TASKS} tasks, one loop, vs capo-pinpoint (req/s)",
            med("ours", rps), med("capo", rps), ".0f"),
        row("async transport: aiohttp (shipped) vs httpx, CPU per call (µs)", med("ours", cpu),
            med("ours-httpx", cpu), ".0f"),
        row(f"async transport: aiohttp (shipped) vs httpx, {TASKS} tasks (req/s)",
            med("ours", rps), med("ours-httpx", rps), ".0f"),
    ]


# -- the worker: one library in its own process ------------------------------------------------

def _keys() -> tuple[str, str]:
    return (os.environ.get("AWS_ACCESS_KEY_ID", "AKIDBENCHEXAMPLE"),
            os.environ.get("AWS_SECRET_ACCESS_KEY", "bench/secret/EXAMPLEKEY"))


class HttpxTransport:
    """Our transport's interface on httpx, to weigh it against aiohttp (not shipped)."""

    def __init__(self) -> None:
        import httpx

        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=TASKS, max_keepalive_connections=TASKS))

    def bind(self) -> None:
        pass

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                   timeout: Any) -> Any:
        import httpx

        from pinpoint_endpoints._transport import Reply

        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        reply = await self._client.request(method, url, headers=headers, content=body or None,
                                           timeout=httpx.Timeout(read, connect=connect))
        return Reply(reply.status_code, reply.headers, reply.content)

    async def close(self) -> None:
        await self._client.aclose()


async def _open(lib: str, url: str) -> tuple[Any, Callable[[], Any]]:
    """A client of ``lib`` and a zero-argument GetEndpoint coroutine factory on it."""
    access, secret = _keys()
    if lib.startswith("ours"):
        from botocore.credentials import Credentials

        import pinpoint_endpoints as pe

        ours = pe.AsyncClient("us-east-1", endpoint_url=url,
                              credentials=Credentials(access, secret),
                              max_pool_connections=TASKS)
        if lib == "ours-httpx":
            ours._shared.transport = HttpxTransport()  # type: ignore[assignment]
        return ours, lambda: ours.get_endpoint(APP, EP)
    if lib == "aiobotocore":
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        made = get_session().create_client(
            "pinpoint", region_name="us-east-1", endpoint_url=url, aws_access_key_id=access,
            aws_secret_access_key=secret, config=AioConfig(max_pool_connections=TASKS))
        boto = await made.__aenter__()
        return made, lambda: boto.get_endpoint(ApplicationId=APP, EndpointId=EP)
    from capo_pinpoint import AsyncPinpointClient, Credentials

    capo = AsyncPinpointClient(region="us-east-1", endpoint=url,
                               credentials=Credentials(access_key=access, secret_key=secret))
    return capo, lambda: capo.get_endpoint(APP, EP)


async def _measure(lib: str, url: str, calls: int, per_task: int) -> dict[str, float]:
    client, get = await _open(lib, url)
    for _ in range(100):
        await get()
    started = time.process_time()
    for _ in range(calls):
        await get()
    cpu_us = (time.process_time() - started) / calls * 1e6

    async def task() -> None:
        for _ in range(per_task):
            await get()

    wall = time.perf_counter()
    await asyncio.gather(*(task() for _ in range(TASKS)))
    rps = TASKS * per_task / (time.perf_counter() - wall)
    await client.__aexit__(None, None, None)
    return {"cpu_us": cpu_us, "rps": rps}


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _, _, lib_, url_, calls_, per_task_ = sys.argv
    print(json.dumps(asyncio.run(_measure(lib_, url_, int(calls_), int(per_task_)))))

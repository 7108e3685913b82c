"""Concurrency: one `Client` shared by 16 threads, or one `AsyncClient` by 200 tasks on one
event loop; a few thousand calls against the emulator with about 20 % of requests answered
429, 500 or a connection reset.

Every call returns or raises a `PinpointError`; nothing else escapes. Each worker owns its
endpoints, so the expected final state is computable: a call that succeeded changed the state,
a call that raised did not (the emulator's faults fire before the handler). Every call that
got an answer from the handler got exactly one (nothing applied twice), and the retry quota
never goes below zero.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints._retry import RetryQuota
from pinpoint_endpoints.testing import Emulator
from tests.faces import make

THREADS, CALLS = 16, 150      # the sync face: 16 threads x 150 calls
TASKS, TASK_CALLS = 200, 12   # the async face: 200 tasks x 12 calls, on one event loop
ENDPOINTS_PER_WORKER = 4
APP = "concurrency-app"


class QuotaWatch:
    """Records the quota's token count after every take and refund."""

    def __init__(self, quota: RetryQuota) -> None:
        self.quota = quota
        self.seen: list[int] = []
        self.lock = threading.Lock()
        self._acquire, self._release = quota.acquire, quota.release
        quota.acquire = self.acquire  # type: ignore[method-assign]
        quota.release = self.release  # type: ignore[method-assign]

    def acquire(self, *, throttling: bool) -> int | None:
        cost = self._acquire(throttling=throttling)
        with self.lock:
            self.seen.append(self.quota.tokens)
        return cost

    def release(self, spent: int) -> None:
        self._release(spent)
        with self.lock:
            self.seen.append(self.quota.tokens)


class Worker:
    """One thread's (or task's) calls on its own endpoints, and the state they should leave.

    `plan` draws the next call, `settle` books its outcome; the drivers below only make the
    call, blocking (threads) or awaited (tasks).
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = random.Random(seed * 1000 + n)
        self.ids = [f"t{n:03d}-ep{k}" for k in range(ENDPOINTS_PER_WORKER)]
        self.expected: dict[str, int] = {}  # endpoint id -> last sequence number written
        self.outcomes: Counter[str] = Counter()
        self.answered = 0  # calls the handler answered (2xx or 404): one request each
        self.escaped: list[BaseException] = []
        self.wrong: list[str] = []

    def plan(self, seq: int) -> tuple[str, str, Callable[[Any], Any]]:
        ep = self.rng.choice(self.ids)
        op = self.rng.choices(["put", "get", "delete"], weights=[5, 3, 2])[0]
        if op == "put":
            request = pe.EndpointRequest(attributes={"seq": [str(seq)]},
                                         metrics={"seq": float(seq)}, opt_out="NONE")
            return op, ep, lambda c: c.update_endpoint(APP, ep, request)
        if op == "get":
            return op, ep, lambda c: c.get_endpoint(APP, ep)
        return op, ep, lambda c: c.delete_endpoint(APP, ep)

    def one(self, client: Any, seq: int) -> None:
        """Plan, make and settle one call on a blocking client."""
        op, ep, call = self.plan(seq)
        try:
            result = call(client)
        except Exception as exc:
            result = exc
        self.settle(seq, op, ep, result)

    def settle(self, seq: int, op: str, ep: str, result: object) -> None:
        if isinstance(result, pe.NotFoundException):
            self.answered += 1
            self.outcomes[f"{op} 404"] += 1
            if op == "put" or ep in self.expected:
                self.wrong.append(f"{ep}: {op} said 404 but it exists")
        elif isinstance(result, pe.PinpointError):  # retries spent: the state is unchanged
            self.outcomes[f"{op} {type(result).__name__}"] += 1
        elif isinstance(result, BaseException):  # anything else is a failure
            self.escaped.append(result)
        else:
            self.answered += 1
            self.outcomes[f"{op} ok"] += 1
            if op == "put":
                if not isinstance(result, pe.MessageBody) or result.message != "Accepted":
                    self.wrong.append(f"{ep}: PUT answered {result!r}")
                self.expected[ep] = seq
            else:
                assert isinstance(result, pe.EndpointResponse)
                self.check(ep, result, op.upper())
                if op == "delete":
                    del self.expected[ep]

    def check(self, ep: str, got: pe.EndpointResponse, op: str) -> None:
        want = self.expected.get(ep)
        if want is None:
            self.wrong.append(f"{ep}: {op} found an endpoint that should not exist")
        elif got.id != ep or got.attributes != {"seq": [str(want)]} \
                or got.metrics != {"seq": float(want)}:
            self.wrong.append(f"{ep}: {op} saw {got.attributes}, expected seq {want}")


def in_threads(client: pe.Client, workers: list[Worker], calls: int) -> None:
    """Each worker in a thread of its own, all sharing ``client``."""

    def run(worker: Worker) -> None:
        for seq in range(calls):
            worker.one(client, seq)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)


async def in_tasks(client: pe.AsyncClient, workers: list[Worker], calls: int) -> None:
    """Each worker in a task of its own on one event loop, all sharing ``client``."""

    async def run(worker: Worker) -> None:
        for seq in range(calls):
            op, ep, call = worker.plan(seq)
            try:
                result = await call(client)
            except Exception as exc:
                result = exc
            worker.settle(seq, op, ep, result)

    async with client:
        await asyncio.wait_for(asyncio.gather(*(run(w) for w in workers)), timeout=120)


# 6 attempts: nearly every call gets through; 3 attempts: some calls run out (about 1 in 125)
@pytest.mark.parametrize(("seed", "attempts"), [(7, 6), (8, 3)])
def test_one_client_shared_by_threads_or_tasks_under_random_faults_loses_nothing(
    face: str, seed: int, attempts: int
) -> None:
    policy = pe.RetryPolicy(max_attempts=attempts, base=0.002, throttle_base=0.002,
                            max_backoff=0.02)
    workers_n, calls = (THREADS, CALLS) if face == "sync" else (TASKS, TASK_CALLS)
    workers = [Worker(n, seed) for n in range(workers_n)]
    with Emulator(seed=seed) as emu:
        options: dict[str, Any] = {"retry": policy, "max_pool_connections": THREADS,
                                   "timeout": 10.0}
        emu.faults.random(rate=0.2, kinds=("throttle", "500", "reset"), seed=seed)
        if face == "sync":
            with emu.client(**options) as client:
                watch = QuotaWatch(client._shared.quota)
                in_threads(client, workers, calls)
        else:
            aclient = emu.async_client(**options)
            watch = QuotaWatch(aclient._shared.quota)
            asyncio.run(in_tasks(aclient, workers, calls))
        emu.faults.clear()
        final = emu.endpoints(APP)
        recorded = Counter(r.status for r in emu.requests)

    assert [e for w in workers for e in w.escaped] == []
    assert [m for w in workers for m in w.wrong] == []
    outcomes: Counter[str] = sum((w.outcomes for w in workers), Counter())
    assert sum(outcomes.values()) == workers_n * calls
    if attempts == 3:  # some calls did run out of attempts, and were accounted as unapplied
        assert sum(n for k, n in outcomes.items() if k.endswith(("Error", "Exception"))
                   and "404" not in k) > 0
    # the emulator holds exactly what the successful calls left behind
    expected = {ep: seq for w in workers for ep, seq in w.expected.items()}
    assert {ep: (v.attributes, v.metrics) for ep, v in final.items()} == {
        ep: ({"seq": [str(seq)]}, {"seq": float(seq)}) for ep, seq in expected.items()}
    # faults really happened, and were retried: each answered call got exactly one handled reply
    assert recorded[429] + recorded[500] + recorded[0] >= 0.15 * sum(recorded.values())
    assert recorded[200] + recorded[202] + recorded[404] == sum(w.answered for w in workers)
    # the retry quota was used and never went below zero nor above its capacity
    assert watch.seen and all(0 <= tokens <= watch.quota.capacity for tokens in watch.seen)


def test_a_failed_call_left_no_trace(face: str) -> None:
    """The premise of the expected state: a call whose every attempt met a fault changed
    nothing, so counting it as 'not applied' is right."""
    policy = pe.RetryPolicy(max_attempts=3, base=0.001)
    with Emulator() as emu, make(face, emu, retry=policy) as client:
        for kind in ("throttle", "500", "reset"):
            emu.faults.random(rate=1.0, kinds=(kind,), seed=1)
            with pytest.raises(pe.PinpointError) as info:
                client.update_endpoint(APP, "never", pe.EndpointRequest(opt_out="ALL"))
            assert isinstance(info.value, (pe.ServiceError, pe.TransportError))
            assert info.value.attempts == 3
            emu.faults.clear()
            assert emu.get(APP, "never") is None
        client.update_endpoint(APP, "kept", pe.EndpointRequest(attributes={"a": ["1"]}))
        emu.faults.random(rate=1.0, kinds=("reset",), seed=1)
        with pytest.raises(pe.TransportError):
            client.delete_endpoint(APP, "kept")
        emu.faults.clear()
        kept = emu.get(APP, "kept")
        assert kept is not None and kept.attributes == {"a": ["1"]}

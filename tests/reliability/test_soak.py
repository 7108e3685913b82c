"""Soak (``make soak``, not ``make test``): the emulator under many threads for a minute.

32 threads share one client and mix PUT/GET/DELETE on endpoints of their own, with 5 % of the
requests throttled or reset. Checked: the emulator itself never answers 5xx, Python memory
and the thread count stay flat once the request log is full, and the final state is exactly
what the successful calls left. ``SOAK_SECONDS`` changes the duration (default 60).
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections import Counter

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from pinpoint_endpoints.testing._server import RecordedRequest, RequestLog
from tests.reliability.test_concurrency import APP, Worker

pytestmark = pytest.mark.soak

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
THREADS = 32
MEMORY_GROWTH_LIMIT = 4 * 1024 * 1024  # bytes, from the end of the warm-up to the end


def test_the_emulator_under_load_for_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    append = RequestLog.append

    def counting(self: RequestLog, entry: RecordedRequest) -> None:
        with lock:
            statuses[entry.status] += 1
        append(self, entry)

    monkeypatch.setattr(RequestLog, "append", counting)
    policy = pe.RetryPolicy(max_attempts=8, base=0.002, throttle_base=0.002, max_backoff=0.05)
    tracemalloc.start()
    try:
        with Emulator(seed=11) as emu, \
                emu.client(retry=policy, max_pool_connections=THREADS, timeout=30.0) as client:
            emu.faults.random(rate=0.05, kinds=("throttle", "reset"), seed=11)
            workers = [Worker(n, seed=11) for n in range(THREADS)]
            stop = threading.Event()

            def run(worker: Worker) -> None:
                seq = 0
                try:
                    while not stop.is_set():
                        worker.one(client, seq)
                        seq += 1
                except BaseException as exc:
                    worker.escaped.append(exc)

            threads = [threading.Thread(target=run, args=(w,)) for w in workers]
            for t in threads:
                t.start()
            # warm up until the request log (the last 10,000) is full, or half the time
            started = time.monotonic()
            time.sleep(SECONDS / 4)
            while len(emu.requests) < 10_000 and time.monotonic() - started < SECONDS / 2:
                time.sleep(0.5)
            # before the log is full it grows by design, and memory with it
            assert len(emu.requests) >= 10_000, "SOAK_SECONDS too short to fill the request log"
            base_memory, _ = tracemalloc.get_traced_memory()
            base_threads = threading.active_count()
            samples = []
            left = SECONDS - (time.monotonic() - started)
            for _ in range(4):
                time.sleep(max(left, 4.0) / 4)
                samples.append((tracemalloc.get_traced_memory()[0], threading.active_count()))
            stop.set()
            for t in threads:
                t.join(timeout=60)
            assert not any(t.is_alive() for t in threads)
            emu.faults.clear()
            final = emu.endpoints(APP)
            logged = len(emu.requests)
    finally:
        tracemalloc.stop()

    print(f"\nsoak: {sum(sum(w.outcomes.values()) for w in workers)} calls in {SECONDS:.0f} s, "
          f"statuses {dict(statuses)}, memory {base_memory} -> {[m for m, _ in samples]}, "
          f"threads {base_threads} -> {[n for _, n in samples]}")
    assert [e for w in workers for e in w.escaped] == []
    assert [m for w in workers for m in w.wrong] == []
    calls = sum(sum(w.outcomes.values()) for w in workers)
    assert calls > 1000 * SECONDS / 60  # it really ran under load
    # the emulator's own replies: never a 5xx; the injected faults did happen
    assert [s for s in statuses if s >= 500] == []
    assert statuses[429] > 0 and statuses[0] > 0
    assert logged <= 10_000
    # memory and threads flat after warm-up
    assert max(m for m, _ in samples) - base_memory < MEMORY_GROWTH_LIMIT, (base_memory, samples)
    assert max(n for _, n in samples) <= base_threads + THREADS, (base_threads, samples)
    # state consistent with what the successful calls did
    expected = {ep: seq for w in workers for ep, seq in w.expected.items()}
    assert {ep: v.attributes for ep, v in final.items()} == {
        ep: {"seq": [str(seq)]} for ep, seq in expected.items()}

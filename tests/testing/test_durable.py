"""The durable emulator: state in SQLite survives restarts and kill -9, bad files are refused
untouched, snapshots and JSON Lines seed it, and its queries stay indexed."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from pinpoint_endpoints import (
    AttributeType,
    Client,
    EndpointBatchItem,
    EndpointRequest,
    EndpointUser,
    PinpointError,
    RetryPolicy,
)
from pinpoint_endpoints.cli import main
from pinpoint_endpoints.testing import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
    Emulator,
    StateFileError,
    _sqlite,
)
from pinpoint_endpoints.testing._sqlite import MEMORY, SqliteBackend
from pinpoint_endpoints.testing._store import Store

SERVE = [sys.executable, "-c", "import sys; from pinpoint_endpoints.cli import main; "
                               "sys.exit(main())", "serve", "--port", "0"]
ONCE = RetryPolicy(max_attempts=1)


def unwritable(tmp_path: Path) -> Path:
    """A path whose directory cannot be written (a read-only directory; root ignores modes,
    so for root one under /proc, where nobody can create files)."""
    if os.geteuid() == 0:
        return Path("/proc/state.sqlite")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked / "state.sqlite"


# -- restarts and kill -9 -------------------------------------------------------------------


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    with Emulator(db=db, seed=1) as emu, emu.client(retry=ONCE) as client:
        client.update_endpoints_batch("app", [
            EndpointBatchItem(id="E1", address="ann@example.com", attributes={"a": ["1"]},
                              user=EndpointUser(user_id="ann", user_attributes={"n": ["Ann"]})),
            EndpointBatchItem(id="e2", address="ann@example.com", user=EndpointUser(user_id="ann")),
        ])
        client.remove_attributes("app", AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES, ["a"])
        before = emu.endpoints("app")
    with Emulator(db=db) as emu, emu.client(retry=ONCE) as client:
        assert emu.endpoints("app") == before
        assert [ep.endpoint_status for ep in before.values()] == ["INACTIVE", "ACTIVE"]
        assert client.get_endpoint("app", "e1").user == EndpointUser(
            user_id="ann", user_attributes={"n": ["Ann"]})
        client.update_endpoint("app", "e2", EndpointRequest(attributes={"a": ["ignored"]}))
        assert "a" not in (client.get_endpoint("app", "e2").attributes or {})  # still removed


def _writer(client: Client, thread: int, acked: list[list[str]], sent: list[list[str]],
            stop: threading.Event) -> None:
    """Write until stopped (at most 60 writes): odd writes are batches of 5 endpoints, even
    ones single endpoints with a user; note what was sent and what was acknowledged."""
    for n in range(60):
        if stop.is_set():
            return
        user = EndpointUser(user_id=f"u{thread}-{n}", user_attributes={"n": [str(n)]})
        ids = [f"t{thread}-{n}-{k}" for k in range(5)] if n % 2 else [f"t{thread}-{n}"]
        sent.append(ids)
        try:
            if len(ids) > 1:
                client.update_endpoints_batch("app", [
                    EndpointBatchItem(id=i, attributes={"n": [str(n)]}, user=user) for i in ids])
            else:
                client.update_endpoint("app", ids[0], EndpointRequest(
                    attributes={"n": [str(n)]}, user=user))
        except PinpointError:
            return  # the server is gone
        acked.append(ids)


def test_kill_9_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    proc = subprocess.Popen([*SERVE, "--db", str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    threads: list[threading.Thread] = []
    stop = threading.Event()
    acked: list[list[str]] = []
    sent: list[list[str]] = []
    try:
        assert proc.stdout is not None
        found = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        assert found, proc.stderr.read() if proc.stderr else ""
        with Client("us-east-1", endpoint_url=found.group(0), retry=ONCE, timeout=5.0,
                    credentials=Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)) as client:
            threads = [threading.Thread(target=_writer, args=(client, i, acked, sent, stop))
                       for i in range(16)]
            for thread in threads:
                thread.start()
            while len(acked) < 200 and any(t.is_alive() for t in threads):
                threads[0].join(0.01)
            proc.send_signal(signal.SIGKILL)  # mid-load: writes are in flight
            proc.wait(timeout=10)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 200
    with Emulator(db=db) as emu:
        stored = {ep_id.lower(): ep for ep_id, ep in emu.endpoints("app").items()}
    for ids in acked:
        for ep_id in ids:
            ep = stored[ep_id]  # every acknowledged write is there...
            thread_n = ep_id.split("-")
            assert ep.attributes == {"n": [thread_n[1]]}
            assert ep.user == EndpointUser(user_id=f"u{thread_n[0][1:]}-{thread_n[1]}",
                                           user_attributes={"n": [thread_n[1]]})
    for ids in sent:  # ...and each write, acknowledged or cut off, is whole or absent
        assert sum(ep_id in stored for ep_id in ids) in (0, len(ids))
    assert set(stored) <= {ep_id for ids in sent for ep_id in ids}


@pytest.mark.parametrize("db", [False, True])
def test_serve_says_where_the_state_lives(tmp_path: Path, db: bool) -> None:
    path = tmp_path / "state.sqlite"
    proc = subprocess.Popen([*SERVE, *(["--db", str(path)] if db else [])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        banner: list[str] = []
        while not banner or ("Ctrl-C" not in banner[-1] and len(banner) < 20):
            banner.append(proc.stdout.readline())
        said = [line for line in banner if "state" in line]
        assert said == [line for line in said if (str(path) if db else "in memory") in line]
        assert said and (path.exists() is db)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


# -- bad files ----------------------------------------------------------------------------


def _foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.commit()
    conn.close()


def _newer_database(path: Path) -> None:
    SqliteBackend(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (_sqlite.SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(b"name,address\nann,ann@example.com\n"), "not a SQLite database"),
    (_foreign_database, "not the emulator's"),
    (_newer_database, "newer pinpoint-endpoints"),
])
def test_a_file_that_is_not_our_database_is_refused_untouched(
        tmp_path: Path, make: object, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.sqlite"
    make(path)  # type: ignore[operator]
    before = path.read_bytes()
    with pytest.raises(StateFileError, match=message) as info:
        Emulator(db=path)
    assert isinstance(info.value, PinpointError)  # everything the package raises is one
    assert main(["serve", "--port", "0", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1  # one line, no traceback
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["state.sqlite"]  # no -wal or -shm left either


def test_a_path_that_cannot_be_written_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = unwritable(tmp_path)
    with pytest.raises(StateFileError, match="may we write there"):
        Emulator(db=path)
    assert main(["serve", "--port", "0", "--db", str(path)]) == 2
    assert str(path) in capsys.readouterr().err


def test_an_empty_path_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StateFileError, match="path is empty"):
        Emulator(db="")
    assert main(["serve", "--port", "0", "--db", ""]) == 2
    assert "path is empty" in capsys.readouterr().err


def test_a_file_in_use_by_another_emulator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Emulator(db=path) as emu, emu.client(retry=ONCE) as client:
        client.update_endpoint("app", "e1", EndpointRequest(address="ann@example.com"))
        with pytest.raises(StateFileError, match="one process a file"):
            Emulator(db=path)
        assert client.get_endpoint("app", "e1").address == "ann@example.com"
    with Emulator(db=path) as emu:  # free again once the first one closed
        assert list(emu.endpoints("app")) == ["e1"]


def test_an_older_schema_is_migrated_by_number(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.sqlite"
    with Emulator(db=path) as emu, emu.client(retry=ONCE) as client:
        client.update_endpoint("app", "e1", EndpointRequest(address="ann@example.com"))
    step = "CREATE TABLE audit (at TEXT); INSERT INTO audit VALUES ('migrated')"
    monkeypatch.setattr(_sqlite, "MIGRATIONS", (*_sqlite.MIGRATIONS, step))
    monkeypatch.setattr(_sqlite, "SCHEMA_VERSION", _sqlite.SCHEMA_VERSION + 1)
    with Emulator(db=path) as emu:
        assert list(emu.endpoints("app")) == ["e1"]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
        assert conn.execute("SELECT at FROM audit").fetchall() == [("migrated",)]
    finally:
        conn.close()


# -- snapshots and seeding ----------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def fixture_file(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A snapshot holding one user with two endpoints and a removed attribute, taken from
    either store."""
    path = tmp_path / "fixture.sqlite"
    db = MEMORY if request.param == "sqlite" else None
    with Emulator(db=db, seed=3) as emu, emu.client(retry=ONCE) as client:
        for ep_id in ("a", "b"):
            client.update_endpoint("app", ep_id, EndpointRequest(
                address=f"{ep_id}@example.com", attributes={"k": [ep_id]},
                user=EndpointUser(user_id="ann", user_attributes={"n": ["Ann"]})))
        client.update_endpoint("other", "c", EndpointRequest(metrics={"m": 1.0}))
        client.remove_attributes("app", AttributeType.ENDPOINT_CUSTOM_ATTRIBUTES, ["k"])
        emu.snapshot(path)
        state = {app: emu.endpoints(app) for app in ("app", "other")}
    with Emulator(restore=path) as emu:
        assert {app: emu.endpoints(app) for app in ("app", "other")} == state
    yield path


def test_an_emulator_starts_from_a_snapshot(fixture_file: Path, tmp_path: Path) -> None:
    for db in (None, tmp_path / "copy.sqlite"):
        with Emulator(restore=fixture_file, db=db) as emu, emu.client(retry=ONCE) as client:
            assert [ep.id for ep in client.get_user_endpoints("app", "ann").item or []] == \
                ["a", "b"]
            client.update_endpoint("app", "c", EndpointRequest(attributes={"k": ["x"]}))
            assert "k" not in (client.get_endpoint("app", "c").attributes or {})  # still removed
            client.delete_user_endpoints("app", "ann")
    with Emulator(restore=fixture_file) as emu:  # the snapshot itself never changed
        assert list(emu.endpoints("app")) == ["a", "b"]
    assert sorted(os.listdir(fixture_file.parent)) == ["copy.sqlite", "fixture.sqlite"]


def test_snapshot_and_restore_refuse_a_foreign_file(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    with Emulator() as emu, pytest.raises(StateFileError, match="not a SQLite"):
        emu.snapshot(target)
    with pytest.raises(StateFileError, match="not a SQLite"):
        Emulator(restore=target)
    assert target.read_text() == "keep me"


EXPORTED = [  # as an export job writes them: EndpointResponse, one a line
    {"ApplicationId": "app", "Id": "ann-mail", "ChannelType": "EMAIL",
     "Address": "ann@example.com", "EndpointStatus": "ACTIVE", "OptOut": "NONE",
     "CohortId": "42", "CreationDate": "2023-02-01T10:00:00.000Z",
     "EffectiveDate": "2023-02-02T10:00:00.000Z", "Attributes": {"Plan": ["gold"]},
     "User": {"UserId": "ann", "UserAttributes": {"Name": ["Ann"]}}},
    {"ApplicationId": "app", "Id": "ann-sms", "ChannelType": "SMS", "Address": "+12065550100",
     "CohortId": "7", "CreationDate": "2023-03-01T10:00:00.000Z", "User": {"UserId": "ann"}},
]


def test_load_keeps_exported_fields_and_serves_them(tmp_path: Path) -> None:
    seed = tmp_path / "export.jsonl"
    seed.write_text("".join(json.dumps(line) + "\n" for line in EXPORTED) + "\n")
    with Emulator(load=seed, db=tmp_path / "dev.sqlite") as emu, emu.client() as client:
        got = client.get_endpoint("app", "ann-mail")
        assert got.to_dict() == EXPORTED[0]
        sms = client.get_endpoint("app", "ann-sms")
        assert (sms.cohort_id, sms.creation_date, sms.endpoint_status) == \
            ("7", "2023-03-01T10:00:00.000Z", "ACTIVE")
        assert sms.user == EndpointUser(user_id="ann", user_attributes={"Name": ["Ann"]})


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "line 2: not valid JSON"),
    ('["a list"]', "line 2: expected a JSON object"),
    ('{"Id": "x"}', "line 2: ApplicationId required"),
    ('{"ApplicationId": "app", "Id": "x", "CohortId": 7}', "line 2: .*CohortId"),
    ('{"ApplicationId": "app", "Id": "x", "ChannelType": "FAX"}', "line 2: .*ChannelType"),
])
def test_a_bad_line_is_named_and_nothing_is_loaded(
        tmp_path: Path, line: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "seed.jsonl"
    seed.write_text(json.dumps(EXPORTED[0]) + "\n" + line + "\n")
    db = tmp_path / "state.sqlite"
    with pytest.raises(StateFileError, match=message):
        Emulator(db=db, load=seed)
    with Emulator(db=db) as emu:
        assert emu.endpoints("app") == {}
    assert main(["serve", "--port", "0", "--load", str(seed)]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_missing_seed_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match=r"nope\.jsonl: cannot read it"):
        Emulator(load=tmp_path / "nope.jsonl")


# -- indexes ------------------------------------------------------------------------------


def test_every_query_of_the_user_operations_is_indexed() -> None:
    backend = SqliteBackend(MEMORY)
    store = Store(backend, seed=1)
    for i in range(50):
        store.update("app", f"e{i}", EndpointRequest(
            address=f"{i % 5}@example.com", user=EndpointUser(user_id=f"u{i % 10}")))
    statements: list[str] = []
    backend._conn.set_trace_callback(statements.append)
    store.read("app", "e1")
    store.update("app", "e1", EndpointRequest(address="1@example.com",
                                              user=EndpointUser(user_id="u9")))
    store.update_batch("app", [EndpointBatchItem(id="e2", user=EndpointUser(user_id="new"))])
    store.user_endpoints("app", "u3")
    store.delete_user("app", "u4")
    store.delete("app", "e3")
    backend._conn.set_trace_callback(None)
    queries = [s for s in statements if s.split()[0] in ("SELECT", "INSERT", "UPDATE", "DELETE")]
    assert any("user_id = " in s for s in queries) and any("address = " in s for s in queries)
    for sql in queries:
        plan = [row[3] for row in backend._conn.execute("EXPLAIN QUERY PLAN " + sql)]
        assert not [step for step in plan if step.startswith("SCAN")], (sql, plan)
    backend.close()

"""`SqliteBackend`: the emulator's state in one SQLite file (standard library ``sqlite3``).

The file is in WAL mode with ``synchronous=NORMAL``: when ``write()`` returns, the transaction
is in the file's write-ahead log (handed to the operating system), so an acknowledged write
survives kill -9 of the process; a power cut may lose the last moments' transactions, never
half of one (an fsync a commit would cap writes near the disk's flush rate). A transaction is
all or nothing. Endpoints are indexed by application with id, user id
and address, so every rule and user operation costs the same at 100,000 endpoints as at 0.

The schema carries a version (table ``schema_version``); `MIGRATIONS` upgrades an older file
step by step. A file that is not a SQLite database, a database that is not the emulator's, one
written by a newer version, or a path that cannot be written raises `StateFileError` and the file
is left as it was.

Examples:
    >>> backend = SqliteBackend(":memory:")
    >>> with backend.write() as txn:
    ...     txn.put("app", EndpointResponse(id="Ep-1", address="a@example.com"))
    >>> with backend.read() as view:
    ...     [ep.id for ep in view.by_address("app", "a@example.com")], view.count("app")
    (['Ep-1'], 1)
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from pinpoint_endpoints._errors import PinpointError
from pinpoint_endpoints._models import EndpointResponse
from pinpoint_endpoints.testing._attributes import KINDS
from pinpoint_endpoints.testing._backend import Backend, Txn, View

__all__ = [
    "MEMORY", "MIGRATIONS", "SCHEMA_VERSION", "SqliteBackend", "StateFileError", "snapshot",
]

MEMORY: Final = ":memory:"
_MAGIC: Final = b"SQLite format 3\x00"
# MIGRATIONS[n] takes a file from schema version n to n + 1; a new file starts at 0.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (0);
    CREATE TABLE endpoints (
        seq INTEGER PRIMARY KEY,
        app TEXT NOT NULL,
        key TEXT NOT NULL,
        user_id TEXT,
        address TEXT,
        body TEXT NOT NULL,
        UNIQUE (app, key)
    );
    CREATE INDEX endpoints_by_user ON endpoints (app, user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX endpoints_by_address ON endpoints (app, address) WHERE address IS NOT NULL;
    CREATE TABLE users (
        app TEXT NOT NULL, user_id TEXT NOT NULL, attributes TEXT NOT NULL,
        PRIMARY KEY (app, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE names (
        app TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (app, kind, name)
    ) WITHOUT ROWID;
    CREATE TABLE removed (
        app TEXT NOT NULL, kind TEXT NOT NULL, pattern TEXT NOT NULL,
        PRIMARY KEY (app, kind, pattern)
    ) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)
_TABLES: Final = ("endpoints", "users", "names", "removed")


class StateFileError(PinpointError):
    """The emulator's state file cannot be used: not a database, not the emulator's, written
    by a newer version, or not writable. The file is left untouched."""


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _endpoint(body: str) -> EndpointResponse:
    return EndpointResponse.from_dict(json.loads(body))


class _SqliteView:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _endpoints(self, where: str, *args: str) -> list[EndpointResponse]:
        sql = f"SELECT body FROM endpoints WHERE {where} ORDER BY seq"  # noqa: S608 - constants
        return [_endpoint(body) for (body,) in self._conn.execute(sql, args)]

    def get(self, app: str, key: str) -> EndpointResponse | None:
        row = self._conn.execute(
            "SELECT body FROM endpoints WHERE app = ? AND key = ?", (app, key)).fetchone()
        return None if row is None else _endpoint(row[0])

    def by_user(self, app: str, user_id: str) -> list[EndpointResponse]:
        return self._endpoints("app = ? AND user_id = ?", app, user_id)

    def by_address(self, app: str, address: str) -> list[EndpointResponse]:
        return self._endpoints("app = ? AND address = ?", app, address)

    def user_attributes(self, app: str, user_id: str) -> dict[str, list[str]] | None:
        row = self._conn.execute(
            "SELECT attributes FROM users WHERE app = ? AND user_id = ?", (app, user_id)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def names(self, app: str) -> set[tuple[str, str]]:
        rows = self._conn.execute("SELECT kind, name FROM names WHERE app = ?", (app,))
        return {(kind, name) for kind, name in rows}

    def removed(self, app: str, kind: str) -> set[str]:
        rows = self._conn.execute(
            "SELECT pattern FROM removed WHERE app = ? AND kind = ?", (app, kind))
        return {pattern for (pattern,) in rows}

    def endpoints(self, app: str) -> Iterator[EndpointResponse]:
        return iter(self._endpoints("app = ?", app))

    def count(self, app: str) -> int:
        row = self._conn.execute("SELECT count(*) FROM endpoints WHERE app = ?", (app,))
        return int(row.fetchone()[0])

    def apps(self) -> list[str]:
        union = " UNION ".join(f"SELECT app FROM {table}" for table in _TABLES)  # noqa: S608
        return [app for (app,) in self._conn.execute(union + " ORDER BY app")]

    def users(self, app: str) -> dict[str, dict[str, list[str]]]:
        rows = self._conn.execute("SELECT user_id, attributes FROM users WHERE app = ?", (app,))
        return {user_id: json.loads(attributes) for user_id, attributes in rows}


class _SqliteTxn(_SqliteView):
    def put(self, app: str, endpoint: EndpointResponse) -> None:
        user_id = endpoint.user.user_id if endpoint.user is not None else None
        self._conn.execute(
            "INSERT INTO endpoints (app, key, user_id, address, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (app, key) DO UPDATE SET user_id = excluded.user_id, "
            "address = excluded.address, body = excluded.body",
            (app, (endpoint.id or "").lower(), user_id, endpoint.address,
             _dumps(endpoint.to_dict())),
        )

    def delete(self, app: str, key: str) -> None:
        self._conn.execute("DELETE FROM endpoints WHERE app = ? AND key = ?", (app, key))

    def set_user_attributes(
        self, app: str, user_id: str, attributes: dict[str, list[str]] | None
    ) -> None:
        if attributes is None:
            self._conn.execute(
                "DELETE FROM users WHERE app = ? AND user_id = ?", (app, user_id))
        else:
            self._conn.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?)",
                               (app, user_id, _dumps(attributes)))

    def add_names(self, app: str, names: Iterable[tuple[str, str]]) -> None:
        self._conn.executemany("INSERT OR IGNORE INTO names VALUES (?, ?, ?)",
                               [(app, kind, name) for kind, name in names])

    def remove_names(self, app: str, kind: str, names: Iterable[str],
                     patterns: Iterable[str]) -> None:
        self._conn.executemany("DELETE FROM names WHERE app = ? AND kind = ? AND name = ?",
                               [(app, kind, name) for name in names])
        self._conn.executemany("INSERT OR IGNORE INTO removed VALUES (?, ?, ?)",
                               [(app, kind, pattern) for pattern in patterns])


class SqliteBackend:
    """The durable `Backend`: state in the SQLite file at ``path`` (``":memory:"`` keeps it in
    this process).

    One connection serves reads and writes in turn (one lock): measured through the HTTP
    server, that beat a pool of reader connections, each with its own page cache. It locks the
    file (``locking_mode=EXCLUSIVE``) until `close`, so one process at a time serves a file.

    Raises:
        StateFileError: the file cannot be used; it is left as it was.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if not self.path:  # sqlite3 would open a private temporary file, which WAL refuses
            raise StateFileError("the state file's path is empty")
        self._lock = threading.RLock()
        _check_header(self.path)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=1.0)
            _version(conn, self.path)  # refuse a file that is not ours before changing it
            if self.path != MEMORY:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    raise StateFileError(f"{self.path}: cannot switch the file to WAL mode")
            # held from the first write until close: a second process is refused the file
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(conn, self.path)
        except (sqlite3.Error, StateFileError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, StateFileError):
                raise
            hint = {"unable to open": " (does its directory exist, and may we write there?)",
                    "locked": " (another emulator has it open: one process a file)"}
            hint_text = next((h for k, h in hint.items() if k in str(exc)), "")
            raise StateFileError(f"{self.path}: cannot use it as the emulator's state: "
                                 f"{exc}{hint_text}") from None
        self._conn = conn

    def __repr__(self) -> str:
        return f"SqliteBackend({self.path!r})"

    # -- the Backend protocol ----------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[View]:
        """A consistent read (no write runs during the block)."""
        with self._lock:
            yield _SqliteView(self._conn)

    @contextmanager
    def write(self) -> Iterator[Txn]:
        """A transaction, committed when the block ends normally, rolled back on an
        exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTxn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def reset(self) -> None:
        """Forget everything; the file and its schema stay."""
        with self.write():
            for table in _TABLES:
                self._conn.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL into the file)."""
        self._conn.close()

    # -- snapshots -----------------------------------------------------------------------------

    def backup(self, target: str | os.PathLike[str]) -> None:
        """Write a consistent copy of the state to the file ``target`` (sqlite3's backup API);
        the copy replaces ``target`` at once, or raises `StateFileError` if ``target`` exists
        and is not an emulator state file."""
        destination = Path(target)
        if destination.exists():
            SqliteBackend(destination).close()  # refuses a file that is not ours
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            copy = sqlite3.connect(partial)
        except sqlite3.Error as exc:
            raise StateFileError(f"{destination}: cannot write a snapshot there: {exc}") from None
        try:
            with self._lock:
                self._conn.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            copy.close()
        os.replace(partial, destination)

    def restore(self, source: str | os.PathLike[str]) -> None:
        """Replace the state with the snapshot file ``source`` (sqlite3's backup API); an older
        snapshot is migrated in the copy, ``source`` is only read."""
        path = str(source)
        _check_header(path)
        if not os.path.isfile(path):
            raise StateFileError(f"{path}: no such snapshot file")
        try:
            snapshot = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
            try:
                _version(snapshot, path)
                with self._lock:
                    snapshot.backup(self._conn)
                    _migrate(self._conn, path)
            finally:
                snapshot.close()
        except sqlite3.Error as exc:
            raise StateFileError(f"{path}: cannot restore it: {exc}") from None


def snapshot(backend: Backend, target: str | os.PathLike[str]) -> None:
    """Write ``backend``'s state to the SQLite file ``target``: SQLite's backup API, or for
    another backend a copy through the `Backend` interface into SQLite first."""
    if isinstance(backend, SqliteBackend):
        backend.backup(target)
        return
    copy = SqliteBackend(MEMORY)
    try:
        with backend.read() as view, copy.write() as txn:
            for app in view.apps():
                for endpoint in view.endpoints(app):
                    txn.put(app, endpoint)
                for user_id, attributes in view.users(app).items():
                    txn.set_user_attributes(app, user_id, attributes)
                txn.add_names(app, view.names(app))
                for kind in KINDS.values():
                    txn.remove_names(app, kind, (), view.removed(app, kind))
        copy.backup(target)
    finally:
        copy.close()


def _check_header(path: str) -> None:
    if path == MEMORY or not os.path.exists(path):
        return
    if not os.path.isfile(path):
        raise StateFileError(f"{path}: not a file")
    try:
        with open(path, "rb") as file:
            head = file.read(len(_MAGIC))
    except OSError as exc:
        raise StateFileError(f"{path}: cannot read it: {exc.strerror}") from None
    if head and head != _MAGIC:
        raise StateFileError(f"{path}: not a SQLite database; refusing to touch it")


def _version(conn: sqlite3.Connection, path: str) -> int:
    """The file's schema version (0 when it is empty), before anything is written."""
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return 0
    if "schema_version" not in tables:
        raise StateFileError(f"{path}: a SQLite database, but not the emulator's (no "
                             "schema_version table); refusing to touch it")
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    version = int(row[0]) if row is not None else -1
    if version > SCHEMA_VERSION:
        raise StateFileError(
            f"{path}: written by a newer pinpoint-endpoints (schema version {version}; this "
            f"version knows up to {SCHEMA_VERSION}); upgrade to use it")
    if version < 0:
        raise StateFileError(f"{path}: its schema_version table is empty")
    return version


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the file to `SCHEMA_VERSION` in one transaction (the write that also proves the
    file writable)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in range(_version(conn, path), SCHEMA_VERSION):
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

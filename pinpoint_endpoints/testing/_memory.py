"""`MemoryBackend`: the emulator's default storage, dicts and indexes in this process.

A write transaction changes the dicts in place and keeps an undo log, so an exception inside
``write()`` puts everything back; one lock serialises writes and reads.

Examples:
    >>> backend = MemoryBackend()
    >>> with backend.write() as txn:
    ...     txn.put("app", EndpointResponse(id="e1", user=EndpointUser(user_id="u")))
    >>> with backend.read() as view:
    ...     [ep.id for ep in view.by_user("app", "u")]
    ['e1']
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import attrs

from pinpoint_endpoints._models import EndpointResponse
from pinpoint_endpoints.testing._backend import Txn, View

__all__ = ["MemoryBackend"]


@attrs.define
class _App:
    endpoints: dict[str, EndpointResponse] = attrs.Factory(dict)
    # index value -> endpoint keys (a dict as an ordered set)
    by_user: dict[str, dict[str, None]] = attrs.Factory(dict)
    by_address: dict[str, dict[str, None]] = attrs.Factory(dict)
    users: dict[str, dict[str, list[str]]] = attrs.Factory(dict)
    names: set[tuple[str, str]] = attrs.Factory(set)
    removed: dict[str, set[str]] = attrs.Factory(dict)


def _user_id(ep: EndpointResponse) -> str | None:
    return ep.user.user_id if ep.user is not None else None


def _address(ep: EndpointResponse) -> str | None:
    return ep.address


class _MemoryView:
    _empty = _App()

    def __init__(self, apps: dict[str, _App]) -> None:
        self._apps = apps

    def _app(self, app: str) -> _App:
        return self._apps.get(app, self._empty)

    def get(self, app: str, key: str) -> EndpointResponse | None:
        return self._app(app).endpoints.get(key)

    def by_user(self, app: str, user_id: str) -> list[EndpointResponse]:
        found = self._app(app)
        return [found.endpoints[k] for k in found.by_user.get(user_id, ())]

    def by_address(self, app: str, address: str) -> list[EndpointResponse]:
        found = self._app(app)
        return [found.endpoints[k] for k in found.by_address.get(address, ())]

    def user_attributes(self, app: str, user_id: str) -> dict[str, list[str]] | None:
        return self._app(app).users.get(user_id)

    def names(self, app: str) -> set[tuple[str, str]]:
        return set(self._app(app).names)

    def removed(self, app: str, kind: str) -> set[str]:
        return set(self._app(app).removed.get(kind, ()))

    def endpoints(self, app: str) -> Iterator[EndpointResponse]:
        return iter(list(self._app(app).endpoints.values()))

    def count(self, app: str) -> int:
        return len(self._app(app).endpoints)

    def apps(self) -> list[str]:
        return list(self._apps)

    def users(self, app: str) -> dict[str, dict[str, list[str]]]:
        return dict(self._app(app).users)


class _MemoryTxn(_MemoryView):
    def __init__(self, apps: dict[str, _App]) -> None:
        super().__init__(apps)
        self.undo: list[Callable[[], object]] = []

    def _writable(self, app: str) -> _App:
        found = self._apps.get(app)
        if found is None:
            found = self._apps[app] = _App()
            self.undo.append(lambda: self._apps.pop(app, None))
        return found

    def _set(self, found: _App, key: str, new: EndpointResponse | None) -> EndpointResponse | None:
        """Replace in place (so iteration keeps creation order); move index entries that
        changed."""
        old = found.endpoints.get(key)
        if new is None:
            found.endpoints.pop(key, None)
        else:
            found.endpoints[key] = new
        for index, value in ((found.by_user, _user_id), (found.by_address, _address)):
            before = value(old) if old is not None else None
            after = value(new) if new is not None else None
            if before != after:
                _unindex(index, before, key)
                _index(index, after, key)
        return old

    def put(self, app: str, endpoint: EndpointResponse) -> None:
        found, key = self._writable(app), (endpoint.id or "").lower()
        old = self._set(found, key, endpoint)
        self.undo.append(lambda: self._set(found, key, old))

    def delete(self, app: str, key: str) -> None:
        found = self._writable(app)
        old = self._set(found, key, None)
        self.undo.append(lambda: self._set(found, key, old))

    def set_user_attributes(
        self, app: str, user_id: str, attributes: dict[str, list[str]] | None
    ) -> None:
        users = self._writable(app).users
        old = users.pop(user_id, None)
        if attributes is not None:
            users[user_id] = attributes
        self.undo.append(lambda: _restore(users, user_id, old))

    def add_names(self, app: str, names: Iterable[tuple[str, str]]) -> None:
        found = self._writable(app)
        added = set(names) - found.names
        found.names |= added
        self.undo.append(lambda: found.names.difference_update(added))

    def remove_names(self, app: str, kind: str, names: Iterable[str],
                     patterns: Iterable[str]) -> None:
        found = self._writable(app)
        gone = {(kind, n) for n in names} & found.names
        removed = found.removed.setdefault(kind, set())
        new = set(patterns) - removed
        found.names -= gone
        removed |= new

        def undo() -> None:
            found.names |= gone
            removed.difference_update(new)

        self.undo.append(undo)


def _index(index: dict[str, dict[str, None]], value: str | None, key: str) -> None:
    if value is not None:
        index.setdefault(value, {})[key] = None


def _unindex(index: dict[str, dict[str, None]], value: str | None, key: str) -> None:
    if value is None:
        return
    keys = index.get(value)
    if keys is not None:
        keys.pop(key, None)
        if not keys:
            del index[value]


def _restore(users: dict[str, dict[str, list[str]]], user_id: str,
             old: dict[str, list[str]] | None) -> None:
    users.pop(user_id, None)
    if old is not None:
        users[user_id] = old


class MemoryBackend:
    """The in-memory `Backend`: fastest, nothing on disk, gone when the process ends."""

    def __init__(self) -> None:
        self._apps: dict[str, _App] = {}
        self._lock = threading.RLock()

    @contextmanager
    def read(self) -> Iterator[View]:
        """A consistent read (holds the lock for the block)."""
        with self._lock:
            yield _MemoryView(self._apps)

    @contextmanager
    def write(self) -> Iterator[Txn]:
        """A transaction: on an exception every change of the block is undone, in reverse."""
        with self._lock:
            txn = _MemoryTxn(self._apps)
            try:
                yield txn
            except BaseException:
                for undo in reversed(txn.undo):
                    undo()
                raise

    def reset(self) -> None:
        """Forget every application."""
        with self._lock:
            self._apps.clear()

    def close(self) -> None:
        """Nothing to release."""


"""The emulator's storage interface: what `Store` (the rules) needs from a database, no more.

A backend keeps, per application: endpoints by lowercased id (the stored `EndpointResponse`,
whose ``User`` holds the ``UserId`` only when it has one: the user's attributes are kept apart),
the user attributes by user id, the attribute names the application counts toward its limit, and
the names (or glob patterns) removed with RemoveAttributes, per kind. It indexes endpoints by
``User.UserId`` and by ``Address``. A kind is ``"Attributes"``, ``"Metrics"`` or
``"UserAttributes"``.

Writes happen in a transaction: all or nothing (an exception inside ``write()`` undoes every
change of that block), and leaving the block without an exception is the point of durability.
`Store` runs one write transaction at a time; reads may run alongside.

Examples:
    >>> from pinpoint_endpoints.testing._memory import MemoryBackend
    >>> backend = MemoryBackend()
    >>> with backend.write() as txn:
    ...     txn.put("app", EndpointResponse(id="Ep-1", address="a@example.com"))
    >>> with backend.read() as view:
    ...     [ep.id for ep in view.by_address("app", "a@example.com")], view.count("app")
    (['Ep-1'], 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from pinpoint_endpoints._models import EndpointResponse

__all__ = ["Backend", "Txn", "View"]


class View(Protocol):
    """A consistent read of the store (inside ``read()`` or ``write()``)."""

    def get(self, app: str, key: str) -> EndpointResponse | None:
        """The endpoint stored under ``key`` (its id lowercased), or ``None``."""
        ...

    def by_user(self, app: str, user_id: str) -> list[EndpointResponse]:
        """The endpoints whose ``User.UserId`` is ``user_id``, oldest first."""
        ...

    def by_address(self, app: str, address: str) -> list[EndpointResponse]:
        """The endpoints whose ``Address`` is ``address`` (exact match)."""
        ...

    def user_attributes(self, app: str, user_id: str) -> dict[str, list[str]] | None:
        """The attributes shared by the user's endpoints, or ``None`` if never set."""
        ...

    def names(self, app: str) -> set[tuple[str, str]]:
        """The ``(kind, name)`` pairs counting toward the application's 250-name limit."""
        ...

    def removed(self, app: str, kind: str) -> set[str]:
        """The names and glob patterns RemoveAttributes removed for ``kind``."""
        ...

    def endpoints(self, app: str) -> Iterator[EndpointResponse]:
        """Every endpoint of the application, in the order first created."""
        ...

    def count(self, app: str) -> int:
        """How many endpoints the application has."""
        ...

    def apps(self) -> list[str]:
        """Every application holding any state (for snapshots)."""
        ...

    def users(self, app: str) -> dict[str, dict[str, list[str]]]:
        """Every user's shared attributes, by user id (for snapshots)."""
        ...


class Txn(View, Protocol):
    """A write transaction: reads see its own writes."""

    def put(self, app: str, endpoint: EndpointResponse) -> None:
        """Store ``endpoint`` under ``endpoint.id.lower()``, replacing any there (the indexes
        follow ``User.UserId`` and ``Address``)."""
        ...

    def delete(self, app: str, key: str) -> None:
        """Remove the endpoint stored under ``key``; nothing if there is none."""
        ...

    def set_user_attributes(
        self, app: str, user_id: str, attributes: dict[str, list[str]] | None
    ) -> None:
        """Replace the user's shared attributes; ``None`` forgets them."""
        ...

    def add_names(self, app: str, names: Iterable[tuple[str, str]]) -> None:
        """Count these ``(kind, name)`` pairs toward the application's limit."""
        ...

    def remove_names(self, app: str, kind: str, names: Iterable[str],
                     patterns: Iterable[str]) -> None:
        """Stop counting ``names`` of ``kind``, and remember ``patterns`` (names or globs) as
        removed for ``kind``."""
        ...


class Backend(Protocol):
    """Where the emulator's state lives: `MemoryBackend`, or SQLite."""

    def read(self) -> AbstractContextManager[View]:
        """A consistent read."""
        ...

    def write(self) -> AbstractContextManager[Txn]:
        """A transaction: applied whole when the block ends normally, undone on an exception."""
        ...

    def reset(self) -> None:
        """Forget everything (every application)."""
        ...

    def close(self) -> None:
        """Release files and connections; the backend is not used afterwards."""
        ...

"""`Emulator`: the local Pinpoint Endpoint service, started and stopped as a context manager."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from pinpoint_endpoints._errors import PinpointError, ValidationError
from pinpoint_endpoints._models import EndpointResponse
from pinpoint_endpoints.testing._backend import Backend
from pinpoint_endpoints.testing._faults import Faults, RateLimiter
from pinpoint_endpoints.testing._memory import MemoryBackend
from pinpoint_endpoints.testing._seed import load_jsonl
from pinpoint_endpoints.testing._server import EmulatorServer, RecordedRequest, RequestLog
from pinpoint_endpoints.testing._sqlite import MEMORY, SqliteBackend, snapshot
from pinpoint_endpoints.testing._store import Store

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from pinpoint_endpoints import AsyncClient, Client

__all__ = ["DEFAULT_ACCESS_KEY", "DEFAULT_SECRET_KEY", "Emulator"]

DEFAULT_ACCESS_KEY: Final = "AKIAEMULATOREXAMPLE1"
DEFAULT_SECRET_KEY: Final = "emulator/secret/EXAMPLEKEY"  # noqa: S105 - a documented test key
LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})



class EmulatorStateError(PinpointError, RuntimeError):
    """The emulator is not in a state for that: not running, already running, or closed."""

class Emulator:
    """A local Amazon Pinpoint Endpoint service: a real HTTP/1.1 server with the service's
    semantics, quotas, errors and SigV4 checks; its state in memory, or in a SQLite file.

    Args:
        host: interface to bind; loopback by default.
        port: TCP port; 0 picks a free one.
        region: the region signatures must be scoped to.
        keys: accepted access key id -> secret key pairs; ``None`` accepts only the default
            pair (``AKIAEMULATOREXAMPLE1`` / ``emulator/secret/EXAMPLEKEY``). The first pair is
            the one `credentials` holds.
        verify_signatures: ``False`` accepts any request, signed or not.
        propagation_delay: seconds during which GetEndpoint still shows an endpoint's previous
            state after a change (the service is eventually consistent).
        rate_limits: requests a second per operation (a name of the operations table:
            "GetEndpoint", "UpdateEndpointsBatch", ...); more answers 429
            TooManyRequestsException.
        seed: seeds the ``CohortId`` draws.
        backend: where the state lives (a `Backend`), instead of ``db``; the emulator does
            not close it.
        db: a SQLite file to keep the state in (created if missing; WAL): it survives a
            restart, and a write answered with a 2xx survives kill -9. ``None`` (the default)
            keeps the state in memory. A file that is not such a database raises
            `StateFileError` and is left untouched.
        restore: a snapshot file (from `snapshot`) to start from, copied with sqlite3's backup
            API in milliseconds; it replaces whatever ``db`` held. Without ``db`` the copy
            lives in memory.
        load: a JSON Lines file of endpoints (as Pinpoint's export jobs wrote them) to load
            before serving; a bad line raises `StateFileError` naming it.

    Examples:
        >>> from pinpoint_endpoints import EndpointRequest
        >>> with Emulator() as emu, emu.client() as client:
        ...     _ = client.update_endpoint("app", "ep-1", EndpointRequest(address="a@example.com"))
        ...     client.get_endpoint("app", "ep-1").endpoint_status
        'ACTIVE'
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        keys: Mapping[str, str] | None = None,
        verify_signatures: bool = True,
        propagation_delay: float = 0.0,
        rate_limits: Mapping[str, float] | None = None,
        seed: int | None = None,
        backend: Backend | None = None,
        db: str | os.PathLike[str] | None = None,
        restore: str | os.PathLike[str] | None = None,
        load: str | os.PathLike[str] | None = None,
    ) -> None:
        if keys is not None and not keys:
            raise ValidationError("keys must hold at least one access key -> secret pair")
        if propagation_delay < 0:
            raise ValidationError("propagation_delay must be >= 0")
        self.host = host
        self.region = region
        self.verify_signatures = verify_signatures
        self._port = port
        self._keys = dict(keys) if keys is not None else {DEFAULT_ACCESS_KEY: DEFAULT_SECRET_KEY}
        self._rate_limits = dict(rate_limits or {})
        RateLimiter(self._rate_limits)  # refuse an unknown operation or a bad rate now
        if backend is not None and (db is not None or restore is not None):
            raise ValidationError("give backend, or db and restore, not both")
        self.db = None if db is None else os.fspath(db)
        """The SQLite file holding the state, or ``None`` when it is in memory."""
        self._closed = False
        self._owns_backend = backend is None  # close only what this emulator opened
        self._store = Store(backend or _backend(self.db, restore), seed=seed,
                            propagation_delay=propagation_delay)
        self.faults = Faults()
        """Fault injection for the requests to come: see `Faults`."""
        self._log = RequestLog()
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        if load is not None:
            try:
                load_jsonl(self._store, load)
            except BaseException:
                self.close()
                raise

    def __repr__(self) -> str:
        where = self.endpoint_url if self._server is not None else "stopped"
        return (f"Emulator({where}, region={self.region!r}, "
                f"access_key={self.access_key!r}, verify_signatures={self.verify_signatures})")

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a background thread. Returns ``self``."""
        with self._lock:
            if self._server is not None:
                raise EmulatorStateError("this emulator is already running")
            if self._closed:
                raise EmulatorStateError("this emulator is closed")
            server = EmulatorServer(
                (self.host, self._port),
                store=self._store,
                faults=self.faults,
                limiter=RateLimiter(self._rate_limits),
                keys=self._keys,
                region=self.region,
                verify_signatures=self.verify_signatures,
                log=self._log,
            )
            thread = threading.Thread(
                target=server.serve_forever,
                name=f"pinpoint-emulator:{server.server_address[1]}", daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
            return self

    def stop(self) -> None:
        """Stop serving and close every socket. Safe to call twice; the state is kept."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join()

    def close(self) -> None:
        """Stop, then release the state's file (the state stays in it). Safe to call twice;
        the emulator cannot be started again."""
        self.stop()
        with self._lock:
            closed, self._closed = self._closed, True
        if not closed and self._owns_backend:
            self._store.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- where and how to connect --------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port (the ephemeral one when ``port=0``)."""
        return int(self._running().server_address[1])

    @property
    def endpoint_url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:54321``."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def access_key(self) -> str:
        """The access key id of `credentials`."""
        return next(iter(self._keys))

    @property
    def credentials(self) -> Credentials:
        """A botocore `Credentials` with a key pair this emulator accepts."""
        from botocore.credentials import Credentials

        return Credentials(self.access_key, self._keys[self.access_key])

    def client(self, **kwargs: Any) -> Client:
        """A `pinpoint_endpoints.Client` for this emulator; ``kwargs`` override the defaults.

        Examples:
            >>> client = emu.client(retry=RetryPolicy(max_attempts=1))  # doctest: +SKIP
        """
        from pinpoint_endpoints import Client

        return Client(**self._client_options(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """A `pinpoint_endpoints.AsyncClient` for this emulator (needs the ``async`` extra);
        ``kwargs`` override the defaults.

        Examples:
            >>> async with emu.async_client() as client:  # doctest: +SKIP
            ...     await client.get_endpoint("app", "ep-1")
        """
        from pinpoint_endpoints import AsyncClient

        return AsyncClient(**self._client_options(kwargs))

    def _client_options(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        options: dict[str, Any] = {
            "region": self.region, "endpoint_url": self.endpoint_url,
            "credentials": self.credentials,
        }
        options.update(overrides)
        return options

    def boto3_client(self, **kwargs: Any) -> Any:
        """A boto3 ``pinpoint`` client for this emulator; ``kwargs`` go to ``Session.client``.

        Examples:
            >>> bc = emu.boto3_client()  # doctest: +SKIP
            >>> bc.get_endpoint(ApplicationId="app", EndpointId="ep-1")  # doctest: +SKIP
        """
        import boto3

        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url, "region_name": self.region,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self._keys[self.access_key],
        }
        options.update(kwargs)
        return boto3.session.Session().client("pinpoint", **options)

    # -- inspection ----------------------------------------------------------------------------

    def get(self, app_id: str, endpoint_id: str) -> EndpointResponse | None:
        """The endpoint as stored now (no propagation delay), or ``None``."""
        return self._store.get(app_id, endpoint_id)

    def endpoints(self, app_id: str) -> dict[str, EndpointResponse]:
        """Every endpoint of an application, by ``Id``."""
        return self._store.endpoints(app_id)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far (the last 10,000), oldest first; secrets masked."""
        return self._log.snapshot()

    def reset_state(self) -> None:
        """Forget every endpoint, the request log and any pending fault."""
        self._store.reset()
        self.faults.clear()
        self._log.clear()

    def snapshot(self, path: str | os.PathLike[str]) -> None:
        """Write the state to the file ``path`` (a consistent copy, taken with sqlite3's backup
        API while serving); ``Emulator(restore=path)`` starts from it.

        Raises:
            StateFileError: ``path`` holds a file that is not an emulator snapshot.

        Examples:
            >>> with Emulator() as emu:  # doctest: +SKIP
            ...     ...  # build the state the tests share
            ...     emu.snapshot("fixture.sqlite")
            >>> with Emulator(restore="fixture.sqlite") as emu:  # doctest: +SKIP
            ...     ...  # starts from that state, in milliseconds
        """
        snapshot(self._store.backend, path)

    def _running(self) -> EmulatorServer:
        server = self._server
        if server is None:
            raise EmulatorStateError("the emulator is not running: use `with Emulator() as emu:`")
        return server


def _backend(db: str | None, restore: str | os.PathLike[str] | None) -> Backend:
    """Dicts by default; SQLite for a ``db`` file, or in memory to restore a snapshot into."""
    if db is None and restore is None:
        return MemoryBackend()
    backend = SqliteBackend(MEMORY if db is None else db)
    if restore is not None:
        try:
            backend.restore(restore)
        except BaseException:
            backend.close()
            raise
    return backend

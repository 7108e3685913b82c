"""Credentials against the emulator: refreshable credentials that expire during a run cause
no failed call, each request is signed with a key that was valid when it was sent, and
session tokens are sent and signed.

The emulator's verifier is wrapped to record what each request carried (access key, token,
signed headers) after it checked the signature; it proves the token was signed, since it
refuses an unsigned one and the signature covers the token's value.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.credentials import Credentials, RefreshableCredentials

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from pinpoint_endpoints.testing._sigv4 import verify

LIFETIME = 0.4      # seconds each issued key pair lives
MANDATORY = 0.1     # botocore refreshes when less than this is left
POOL = 200


class Seen:
    """What the emulator verified: (monotonic time, access key, token, signed headers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[float, str, str | None, list[str]]] = []

    def wrap(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def recording(method: str, target: str, headers: Any, body: bytes, **kw: Any) -> Any:
            verified = verify(method, target, headers, body, **kw)
            auth = {k.lower(): v for k, v in headers.items()}["authorization"]
            signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
            with self.lock:
                self.requests.append((time.monotonic(), verified.access_key,
                                      verified.session_token, signed))
            return verified

        monkeypatch.setattr("pinpoint_endpoints.testing._server.verify", recording)


class Issuer:
    """A credential provider: key pair i with token i, valid for LIFETIME seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued = 0
        self.expires: dict[str, float] = {}   # access key -> monotonic expiry
        self.tokens: dict[str, str] = {}

    @staticmethod
    def key(i: int) -> str:
        return f"AKIDROTATE{i:010d}"

    def refresh(self) -> dict[str, str]:
        with self.lock:
            i = self.issued
            self.issued += 1
        key = self.key(i)
        self.expires[key] = time.monotonic() + LIFETIME
        self.tokens[key] = f"token-{i}-" + "x" * 40
        expiry = datetime.now(timezone.utc) + timedelta(seconds=LIFETIME)
        return {"access_key": key, "secret_key": f"secret/{i}", "token": self.tokens[key],
                "expiry_time": expiry.isoformat()}


def test_credentials_that_expire_during_a_run_cause_no_failed_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen, issuer = Seen(), Issuer()
    seen.wrap(monkeypatch)
    creds = RefreshableCredentials.create_from_metadata(
        issuer.refresh(), issuer.refresh, "rotating",
        advisory_timeout=MANDATORY * 2, mandatory_timeout=MANDATORY)
    keys = {Issuer.key(i): f"secret/{i}" for i in range(POOL)}
    errors: list[BaseException] = []
    # generous attempts: 10 % injected faults must never exhaust a call (0.1 ** 10 per call)
    policy = pe.RetryPolicy(max_attempts=10, base=0.002)
    with Emulator(keys=keys) as emu, emu.client(credentials=creds, retry=policy) as client:
        emu.faults.random(rate=0.1, kinds=("500", "reset"), seed=5)
        deadline = time.monotonic() + 2.0

        def work(n: int) -> None:
            i = 0
            try:
                while time.monotonic() < deadline:
                    ep = f"w{n}-{i % 3}"
                    client.update_endpoint("app", ep, pe.EndpointRequest(opt_out="NONE"))
                    assert client.get_endpoint("app", ep).opt_out == "NONE"
                    i += 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert errors == []
    used = {key for _, key, _, _ in seen.requests}
    assert len(used) >= 4  # the keys really expired and were replaced during the run
    assert issuer.issued < POOL
    for when, key, token, signed in seen.requests:
        assert when <= issuer.expires[key], f"{key} used after it expired"
        assert token == issuer.tokens[key]  # key and token from the same refresh
        assert "x-amz-security-token" in signed


def test_a_session_token_is_sent_and_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = Seen()
    seen.wrap(monkeypatch)
    token = "FwoGZXIvYXdzEJr//////////wEaDSessionToken+/=="
    with Emulator() as emu:
        creds = Credentials(emu.access_key, emu.credentials.secret_key, token)
        with emu.client(credentials=creds) as client:
            client.update_endpoint("app", "ep", pe.EndpointRequest(opt_out="ALL"))
            client.get_endpoint("app", "ep")
            client.delete_endpoint("app", "ep")
        assert [r.status for r in emu.requests] == [202, 200, 202]
    assert [(key, tok) for _, key, tok, _ in seen.requests] == [(emu.access_key, token)] * 3
    assert all("x-amz-security-token" in signed for _, _, _, signed in seen.requests)


def test_the_emulator_refuses_a_token_left_out_of_the_signature() -> None:
    """What makes the check above meaningful: an unsigned token is refused (403)."""
    from pinpoint_endpoints.testing._sigv4 import SignatureError

    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEMULATOREXAMPLE1/20260101/"
               "us-east-1/mobiletargeting/aws4_request, SignedHeaders=host;x-amz-date, "
               "Signature=" + "0" * 64,
               "Host": "127.0.0.1", "X-Amz-Date": "20260101T000000Z",
               "X-Amz-Security-Token": "t"}
    with pytest.raises(SignatureError, match="must be a signed header"):
        verify("GET", "/v1/apps/a/endpoints/e", headers, b"",
               keys={"AKIAEMULATOREXAMPLE1": "s"}, region="us-east-1",
               now=datetime(2026, 1, 1, tzinfo=timezone.utc))

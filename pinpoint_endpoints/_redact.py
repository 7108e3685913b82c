"""Keep secrets and personal data out of logs, reprs and error messages.

Secrets (the Authorization header, session tokens, secret keys, signatures) are never shown.
Addresses (phone numbers, emails, device tokens) are personal data: they are shown masked,
keeping just enough to tell two apart.

Examples:
    >>> mask("ann.lee@example.com")
    'a***@example.com'
    >>> mask("+12065550100")
    '+1*******100'
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final
from urllib.parse import unquote

SECRET_HEADERS: Final = frozenset(
    {"authorization", "x-amz-security-token", "x-amz-content-sha256", "cookie", "set-cookie"}
)

# patterns as text: `re` compiles each on first use and keeps it (compiling them all at import
# would cost every cold start a millisecond, for messages most processes never write)
_EMAIL: Final = r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})"
_PHONE: Final = r"\+\d[\d\- ().]{6,}\d"
_SIGNATURE: Final = r"(Signature=|Credential=)[^,\s\"']+"
_ENCODED: Final = r"[^/\s\"'?#&=]*%[0-9A-Fa-f]{2}[^/\s\"'?#&=]*"


def mask(address: str) -> str:
    """Mask one address: emails keep their first letter and domain, other values their ends."""
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) <= 6:
        return "*" * len(address)
    return f"{address[:2]}{'*' * (len(address) - 5)}{address[-3:]}"


def redact_address(value: object) -> str:
    """The repr of an address field: masked, so a printed model leaks no personal data."""
    if isinstance(value, str):
        return repr(mask(value))
    return repr(value)


def scrub(text: str) -> str:
    """Mask every email, phone number and signature found in free text (log lines, messages)."""
    text = re.sub(_SIGNATURE, lambda m: m.group(1) + "***", text)
    text = re.sub(_EMAIL, lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return re.sub(_PHONE, lambda m: mask(m.group(0)), text)


def redact_text(value: object) -> str:
    """The repr of an id or user id: emails and phone numbers masked, anything else as is
    (an endpoint id may be a phone number; ``device-1`` stays readable)."""
    if isinstance(value, str):
        return repr(scrub(value))
    return repr(value)


def scrub_url_text(text: str) -> str:
    """`scrub` for text holding URLs or paths: percent-encoded ids are decoded before they are
    checked (``%2B12065550100`` is a phone number), and shown decoded when masked."""

    def one(found: re.Match[str]) -> str:
        raw = found.group(0)
        plain = unquote(raw)
        masked = scrub(plain)
        return raw if masked == plain else masked

    return re.sub(_ENCODED, one, scrub(text))


# -- third-party loggers ------------------------------------------------------------------------
# urllib3 logs every request line at DEBUG, and our paths hold endpoint ids, which may be phone
# numbers or emails. While one of our requests is on the wire (a thread-local flag), records of
# these loggers are scrubbed; other users of urllib3 in the process are left untouched.

THIRD_PARTY_LOGGERS: Final = (
    "urllib3.connectionpool", "urllib3.connection", "urllib3.response", "urllib3.util.retry",
)
_sending = threading.local()
_install_lock = threading.Lock()


class _ScrubOurRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_sending, "depth", 0):
            message = record.getMessage()
            clean = scrub_url_text(message)
            if clean != message:
                record.msg, record.args = clean, ()
        return True


_FILTER: Final = _ScrubOurRequests()


def install_log_filters() -> None:
    """Attach the scrubbing filter to urllib3's loggers (once; safe to call again)."""
    with _install_lock:
        for name in THIRD_PARTY_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


@contextmanager
def scrubbing_third_party_logs() -> Iterator[None]:
    """Mark this thread as sending one of our requests, so urllib3's records are scrubbed."""
    _sending.depth = getattr(_sending, "depth", 0) + 1
    try:
        yield
    finally:
        _sending.depth -= 1


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` fit for a log line: secret values replaced by ``***``."""
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}

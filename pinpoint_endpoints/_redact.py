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

import re
from collections.abc import Mapping
from typing import Final

SECRET_HEADERS: Final = frozenset(
    {"authorization", "x-amz-security-token", "x-amz-content-sha256", "cookie", "set-cookie"}
)

_EMAIL: Final = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_PHONE: Final = re.compile(r"\+\d[\d\- ().]{6,}\d")
_SIGNATURE: Final = re.compile(r"(Signature=|Credential=)[^,\s\"']+")


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
    text = _SIGNATURE.sub(lambda m: m.group(1) + "***", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: mask(m.group(0)), text)


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` fit for a log line: secret values replaced by ``***``."""
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}

"""Test helpers: a local Pinpoint Endpoint emulator, its fault injection and a pytest plugin.

Examples:
    >>> from pinpoint_endpoints import EndpointRequest
    >>> from pinpoint_endpoints.testing import Emulator
    >>> with Emulator() as emu, emu.client() as client:
    ...     _ = client.update_endpoint("app", "ep", EndpointRequest(attributes={"k": ["v"]}))
    ...     emu.get("app", "ep").attributes
    {'k': ['v']}

The default key pair is ``AKIAEMULATOREXAMPLE1`` / ``emulator/secret/EXAMPLEKEY``
(`DEFAULT_ACCESS_KEY`, `DEFAULT_SECRET_KEY`); pass ``keys=`` for others.
"""

from pinpoint_endpoints.testing._emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Emulator
from pinpoint_endpoints.testing._faults import Fault, Faults
from pinpoint_endpoints.testing._server import RecordedRequest
from pinpoint_endpoints.testing._sqlite import StateFileError

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_SECRET_KEY",
    "Emulator",
    "Fault",
    "Faults",
    "RecordedRequest",
    "StateFileError",
]

"""The ``pinpoint-endpoints`` console script (needs the ``cli`` extra).

Example:
    >>> from pinpoint_endpoints.cli import main
    >>> main(["get", "my-app", "device-1"])  # doctest: +SKIP
    0
"""

from pinpoint_endpoints.cli._main import main

__all__ = ["main"]

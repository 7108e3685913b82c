"""The ``pinpoint-endpoints`` console script."""

from pinpoint_endpoints.cli._main import main

__all__ = ["main"]

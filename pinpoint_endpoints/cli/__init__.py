"""The ``pinpoint-endpoints`` console script. Every command runs on a plain install; the
``cli`` extra adds rich, for progress bars and ``--output table``.

Example:
    >>> from pinpoint_endpoints.cli import main
    >>> main(["get", "my-app", "device-1"])  # doctest: +SKIP
    0
"""

from pinpoint_endpoints.cli._main import main, script

__all__ = ["main", "script"]

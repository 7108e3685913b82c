"""``python -m pinpoint_endpoints.cli``: the same as the ``pinpoint-endpoints`` script."""

from pinpoint_endpoints.cli._main import script

script()

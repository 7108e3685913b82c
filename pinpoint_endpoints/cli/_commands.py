"""One-off commands: ``get``, ``put`` and ``delete`` of a single endpoint.

Example:
    $ pinpoint-endpoints get my-app device-1 > ep.json
    $ jq '.Attributes.Plan = ["gold"]' ep.json | pinpoint-endpoints put my-app device-1 --json -
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pinpoint_endpoints as pe
from pinpoint_endpoints.cli._common import (
    EXIT_OK,
    RICH_MISSING,
    UsageError,
    build_client,
    exit_code_for,
    global_options,
    has_rich,
    print_error,
)
from pinpoint_endpoints.cli._records import parse_request

__all__ = ["add_parser", "render", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``get``, ``put`` and ``delete``."""
    common = global_options(suppress=True)
    get = subparsers.add_parser("get", parents=[common], help="print one endpoint as JSON",
                                description="GetEndpoint: print the endpoint as the service's "
                                            "JSON (PascalCase keys).")
    put = subparsers.add_parser(
        "put", parents=[common], help="create or update one endpoint from JSON",
        description="UpdateEndpoint (an upsert) with an EndpointRequest JSON object. The output "
                    "of `get` is accepted as is: read-only keys (Id, ApplicationId, CohortId, "
                    "CreationDate) are ignored.")
    delete = subparsers.add_parser("delete", parents=[common],
                                   help="delete one endpoint, printing it as it was",
                                   description="DeleteEndpoint: print the deleted endpoint.")
    for sub in (get, put, delete):
        sub.add_argument("app", metavar="APP", help="the application (project) id")
        sub.add_argument("endpoint", metavar="EP", help="the endpoint id")
    put.add_argument("--json", required=True, dest="json_file", metavar="FILE|-",
                     help="the EndpointRequest JSON; - reads standard input")


def run(args: argparse.Namespace) -> int:
    """Run one of ``get``, ``put``, ``delete``; print the result or one error line."""
    try:
        if args.output == "table" and not has_rich():
            raise UsageError(RICH_MISSING)
        request = _read_request(args.json_file) if args.command == "put" else None
        with build_client(args) as client:
            result: pe.EndpointResponse | pe.MessageBody
            if args.command == "get":
                result = client.get_endpoint(args.app, args.endpoint)
            elif args.command == "delete":
                result = client.delete_endpoint(args.app, args.endpoint)
            else:
                assert request is not None
                result = client.update_endpoint(args.app, args.endpoint, request)
    except (pe.PinpointError, UsageError) as exc:
        print_error(exc)
        return exit_code_for(exc)
    render(result.to_dict(), args.output)
    return EXIT_OK


def _read_request(source: str) -> pe.EndpointRequest:
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {source}: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source} is not JSON: {exc}") from exc
    return parse_request(data, where=source)


def render(data: dict[str, Any], output: str) -> None:
    """Print ``data`` as indented JSON, or as a two-column table of JSON paths and values."""
    if output == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("Field", "Value", box=box.SIMPLE, show_edge=False)
    for path, value in _flatten(data):
        table.add_row(Text(path), Text(value))
    Console(soft_wrap=True).print(table)


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        rows: list[tuple[str, str]] = []
        for key, value in data.items():
            rows.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(data, list):
        return [(prefix, ", ".join(str(item) for item in data))]
    return [(prefix, str(data))]

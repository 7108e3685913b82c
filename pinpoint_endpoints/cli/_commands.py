"""One-off commands, one request each: ``get``, ``put``, ``delete`` of an endpoint,
``get-user`` and ``delete-user`` of a user's endpoints, ``remove-attributes``.

Example:
    $ pinpoint-endpoints get my-app device-1 > ep.json
    $ jq '.Attributes.Plan = ["gold"]' ep.json | pinpoint-endpoints put my-app device-1 --json -
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, Final

import attrs

import pinpoint_endpoints as pe
from pinpoint_endpoints._operations import (
    DELETE_ENDPOINT,
    DELETE_USER_ENDPOINTS,
    GET_ENDPOINT,
    GET_USER_ENDPOINTS,
    REMOVE_ATTRIBUTES,
    UPDATE_ENDPOINT,
    Operation,
)
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

Call = Callable[[pe.Client, argparse.Namespace], Any]


@attrs.frozen
class _Command:
    name: str
    op: Operation[Any]
    call: Call
    summary: str
    """The help line: what the command prints."""


_COMMANDS: Final = (
    _Command("get", GET_ENDPOINT, lambda c, a: c.get_endpoint(a.app, a.target),
             "print one endpoint as JSON"),
    _Command("put", UPDATE_ENDPOINT, lambda c, a: c.update_endpoint(a.app, a.target, a.request),
             "create or update one endpoint from JSON"),
    _Command("delete", DELETE_ENDPOINT, lambda c, a: c.delete_endpoint(a.app, a.target),
             "delete one endpoint, printing it as it was"),
    _Command("get-user", GET_USER_ENDPOINTS, lambda c, a: c.get_user_endpoints(a.app, a.target),
             "print every endpoint of one user"),
    _Command("delete-user", DELETE_USER_ENDPOINTS,
             lambda c, a: c.delete_user_endpoints(a.app, a.target),
             "delete every endpoint of one user, printing them as they were"),
    _Command("remove-attributes", REMOVE_ATTRIBUTES,
             lambda c, a: c.remove_attributes(a.app, a.attribute_type, a.names),
             "stop capturing custom attributes, printing what was removed"),
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the one-off commands, one a row of `_COMMANDS`."""
    common = global_options(suppress=True)
    for command in _COMMANDS:
        op = command.op
        sub = subparsers.add_parser(
            command.name, parents=[common], help=command.summary,
            description=f"{op.name} ({op.method} {op.path}): {op.doc}. Prints the reply as "
                        "the service's JSON (PascalCase keys).")
        sub.set_defaults(call=command.call)
        sub.add_argument("app", metavar="APP", help="the application (project) id")
        if "user-id" in op.params:
            sub.add_argument("target", metavar="USER", help="the user id")
        elif "endpoint-id" in op.params:
            sub.add_argument("target", metavar="EP", help="the endpoint id")
        if command.name == "put":
            sub.add_argument("--json", required=True, dest="json_file", metavar="FILE|-",
                             help="the EndpointRequest JSON; - reads standard input. The "
                                  "output of `get` is accepted as is: the keys the service "
                                  "sets (Id, ApplicationId, CohortId, CreationDate) are ignored")
        if command.name == "remove-attributes":
            sub.add_argument("attribute_type", metavar="TYPE",
                             choices=[t.value for t in pe.AttributeType],
                             help="one of: %(choices)s")
            sub.add_argument("names", metavar="NAME", nargs="+",
                             help="attribute names (or patterns, as the service allows)")


def run(args: argparse.Namespace) -> int:
    """Run one command; print the reply as JSON (or a table), or one error line."""
    try:
        if args.output == "table" and not has_rich():
            raise UsageError(RICH_MISSING)
        if args.command == "put":  # read before anything is sent
            args.request = _read_request(args.json_file)
        call: Call = args.call
        with build_client(args) as client:
            result = call(client, args)
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
    rows: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            rows.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and any(isinstance(item, dict) for item in data):
        for index, item in enumerate(data):  # a user's endpoints: Item[0].Address, ...
            rows.extend(_flatten(item, f"{prefix}[{index}]"))
    elif isinstance(data, list):
        rows.append((prefix, ", ".join(str(item) for item in data)))
    else:
        rows.append((prefix, str(data)))
    return rows

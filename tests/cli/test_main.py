"""Parsing and dispatch."""

from __future__ import annotations

import pytest

from pinpoint_endpoints.cli import main
from pinpoint_endpoints.cli._main import build_parser


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "eu-west-1", "--max-attempts", "5", "get", "app", "ep"],
        ["get", "app", "ep", "--region", "eu-west-1", "--max-attempts", "5"],
        ["--region", "eu-west-1", "get", "app", "ep", "--max-attempts", "5"],
    ],
)
def test_global_options_work_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.region, args.max_attempts, args.app, args.target) == ("eu-west-1", 5, "app",
                                                                         "ep")


def test_an_option_after_the_command_overrides_the_one_before() -> None:
    args = build_parser().parse_args(["--output", "table", "get", "a", "e", "--output", "json"])
    assert args.output == "json"


def test_defaults_when_no_global_option_is_given() -> None:
    args = build_parser().parse_args(["import", "app", "in.jsonl"])
    assert (args.region, args.profile, args.endpoint_url, args.max_attempts, args.output) == (
        None, None, None, None, "json")
    assert args.concurrency == 8 and args.failures is None and args.checkpoint is None


def test_every_command_of_the_contract_is_registered() -> None:
    parser = build_parser()
    for argv in (["get", "a", "e"], ["put", "a", "e", "--json", "-"], ["delete", "a", "e"],
                 ["get-user", "a", "u"], ["delete-user", "a", "u"],
                 ["remove-attributes", "a", "endpoint-user-attributes", "n1", "n2"],
                 ["import", "a", "f"], ["delete-many", "a", "f"], ["export", "a", "--ids", "f"],
                 ["export", "a", "--users", "f"], ["serve"], ["demo"]):
        assert parser.parse_args(argv).command == argv[0]


@pytest.mark.parametrize("argv", [[], ["get", "app"], ["import", "a", "f", "--concurrency", "0"],
                                  ["get", "a", "e", "--output", "yaml"], ["frobnicate"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--checkpoint" in out and "idempotent" in out

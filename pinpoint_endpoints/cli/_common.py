"""What every command shares: global options, exit codes, building the client, error lines.

Example:
    >>> parser = argparse.ArgumentParser(parents=[global_options(suppress=False)])
    >>> parser.parse_args(["--max-attempts", "5"]).max_attempts
    5
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Final, TextIO

import attrs

import pinpoint_endpoints as pe
from pinpoint_endpoints._config import NoCredentialsError, NoRegionError, ProfileNotFoundError

__all__ = [
    "EXIT_CREDENTIALS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "RICH_MISSING",
    "UsageError",
    "build_client",
    "describe",
    "exit_code_for",
    "global_options",
    "has_rich",
    "one_line",
    "positive_int",
    "print_error",
    "whole_number",
]

PROG: Final = "pinpoint-endpoints"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
"""Some records failed, or the service answered an error."""
EXIT_USAGE: Final = 2
"""Bad arguments or input that cannot be sent."""
EXIT_CREDENTIALS: Final = 3
"""No usable credentials, or the service could not be reached."""
EXIT_INTERRUPTED: Final = 130
RICH_MISSING: Final = (
    "--output table needs rich, which the cli extra installs: "
    "pip install 'pinpoint-endpoints[cli]'"
)


class UsageError(Exception):
    """A problem with the command line or its files, reported as exit code 2."""


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """The options accepted before or after the command.

    The copy attached to each subcommand uses ``default=SUPPRESS`` so that an option given
    before the command is not overwritten by the subcommand's default.
    """
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options")

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group.add_argument("--region", default=default(None),
                       help="AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's)")
    group.add_argument("--profile", default=default(None),
                       help="a named profile of the AWS config files")
    group.add_argument("--endpoint-url", default=default(None), metavar="URL",
                       help="send requests here, e.g. an emulator's URL")
    group.add_argument("--max-attempts", type=positive_int, default=default(None), metavar="N",
                       help="attempts per request, the first included "
                            "(default 3; 8 for bulk commands)")
    group.add_argument("--output", choices=("json", "table"), default=default("json"),
                       help="json (default: the service's PascalCase JSON) or table")
    return parser


def has_rich() -> bool:
    """Whether ``rich`` (the ``cli`` extra: progress bars and tables) can be imported."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (no upper bound if ``None``).

    Example:
        >>> whole_number(0, 65535)("8080")
        8080
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"{low} to {high}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    return parse


positive_int: Final = whole_number(1)
"""argparse type: a whole number of at least 1."""


def build_client(
    args: argparse.Namespace,
    *,
    default_attempts: int = 3,
    adaptive: bool = False,
    pool: int = 10,
    on_retry: Callable[[pe.RetryEvent], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> pe.Client:
    """A client from the global options.

    Raises:
        pe.ValidationError: a bad region, profile or URL.
    """
    attempts = args.max_attempts if args.max_attempts is not None else default_attempts
    # In adaptive mode the rate limiter answers throttling, so throttled retries do not draw
    # on the retry quota (which still stops retry storms when the service fails).
    retry = pe.RetryPolicy(max_attempts=attempts, adaptive=adaptive, on_retry=on_retry,
                           throttle_retry_cost=0 if adaptive else 5)
    if sleep is not None:
        retry = attrs.evolve(retry, sleep=sleep)
    return pe.Client(
        args.region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        retry=retry,
        max_pool_connections=pool,
    )


def exit_code_for(error: BaseException) -> int:
    """The exit code a command ends with when ``error`` stops it."""
    if isinstance(error, (pe.ValidationError, UsageError)):
        return EXIT_USAGE
    if isinstance(error, (pe.CredentialsError, pe.TransportError)):
        return EXIT_CREDENTIALS
    return EXIT_FAILED


def describe(error: BaseException | str) -> str:
    """The message for ``error``, its advice in the command line's terms: the library's
    speaks to Python callers (``Client(region=...)``), which a shell user cannot act on.

    Example:
        >>> describe(NoRegionError("no AWS region: pass Client(region=...)"))[:40]
        'no AWS region: pass --region us-east-1 ('
    """
    if isinstance(error, NoRegionError):
        return ("no AWS region: pass --region us-east-1 (or the region you use), set "
                "AWS_REGION or AWS_DEFAULT_REGION, set region in the profile (--profile), or "
                "pass --endpoint-url (for example an emulator's URL)")
    if isinstance(error, NoCredentialsError):
        return ("no AWS credentials found (looked in the environment, ~/.aws/credentials and "
                "~/.aws/config, web identity, the container and EC2 instance metadata): set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile NAME (or set "
                "AWS_PROFILE) for a profile that has credentials")
    profile = getattr(error.__cause__, "kwargs", {}).get("profile") \
        if isinstance(error, ProfileNotFoundError) else None
    if profile is not None:  # botocore's ProfileNotFound names the profile it looked for
        return (f"AWS profile {profile!r} not found in the AWS config files (AWS_CONFIG_FILE, "
                "AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials): pass "
                "--profile an existing one, or unset AWS_PROFILE / AWS_DEFAULT_PROFILE")
    return str(error)


def one_line(text: object) -> str:
    """``text`` folded onto one line (errors are printed and stored one a line)."""
    return " ".join(str(text).split())


def print_error(error: BaseException | str, stream: TextIO | None = None) -> None:
    """Print ``pinpoint-endpoints: error: ...`` on one line (service errors name the request)."""
    out = stream if stream is not None else sys.stderr
    print(f"{PROG}: error: {one_line(describe(error))}", file=out)

"""A plain install (no ``cli`` extra, so no rich): the one-off commands and ``serve`` work;
only tables and progress bars want rich."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from pinpoint_endpoints._version import __version__
from pinpoint_endpoints.cli._progress import PlainProgress, make_progress
from pinpoint_endpoints.testing import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from tests.cli.conftest import HIDE_RICH, banner_url, cli_argv, cli_env, serving


def plain(*argv: str, url: str | None = None, stdin: str | None = None
          ) -> subprocess.CompletedProcess[str]:
    """Run the CLI as if rich were not installed."""
    env = cli_env(AWS_ACCESS_KEY_ID=DEFAULT_ACCESS_KEY, AWS_SECRET_ACCESS_KEY=DEFAULT_SECRET_KEY,
                  AWS_REGION="us-east-1")
    if url is not None:
        env["AWS_ENDPOINT_URL_PINPOINT"] = url
    return subprocess.run(cli_argv(*argv, without_rich=True), input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


def test_the_shim_really_hides_rich() -> None:
    import rich  # noqa: F401  (installed here, by the dev extra)

    hidden = subprocess.run([sys.executable, "-c", HIDE_RICH + "import rich"],
                            capture_output=True, text=True)
    assert hidden.returncode == 1 and "import of rich halted" in hidden.stderr


def test_help_and_version() -> None:
    assert plain("--help").returncode == 0
    version = plain("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"pinpoint-endpoints {__version__}"


def test_serve_put_get_delete() -> None:
    with serving(without_rich=True) as banner:
        url = banner_url(banner)
        put = plain("put", "app", "ep-1", "--json", "-", url=url,
                    stdin=json.dumps({"ChannelType": "EMAIL", "Address": "ann@example.com"}))
        assert put.returncode == 0, put.stderr
        got = plain("get", "app", "ep-1", url=url)
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout)["Address"] == "ann@example.com"
        deleted = plain("delete", "app", "ep-1", url=url)
        assert deleted.returncode == 0 and json.loads(deleted.stdout)["Id"] == "ep-1"


def test_table_output_says_what_to_install_before_sending_anything() -> None:
    # nothing listens at this URL: the refusal must come before any request
    done = plain("get", "app", "ep-1", "--output", "table", url="http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr == ("pinpoint-endpoints: error: --output table needs rich, which the cli "
                           "extra installs: pip install 'pinpoint-endpoints[cli]'\n")


def test_bulk_progress_is_plain_lines_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setitem(sys.modules, "rich", None)  # makes `import rich` raise ImportError
    assert isinstance(make_progress("import", 10, Terminal()), PlainProgress)

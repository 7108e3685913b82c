"""Cold start (import, `Client(...)`, one call) in common setups, each against the floor.

The floor is a process that only imports what ours cannot start without: attrs, cattrs,
requests, botocore.auth and botocore.credentials. Both run alternately in the same setup and
the same run; the figure is the child's CPU time (user + system), which a busy machine
disturbs less than wall time (a cold start waits on nothing else once the files are cached),
and the ratio is the median of each run's ratio to the floor run next to it.
The goal is within 1.15x of the floor wherever region and credentials are given
or in the environment; keys in a profile need botocore's credential chain (a botocore session),
so that setup is reported as measured.

Both sides run from bytecode, as installed packages do (pip compiles what it installs): the
package's ``.pyc`` files are written first, since an editable install has none and a machine
with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile our source on every start (about
30 ms here, more than everything else the package does at import).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import clients
import measure

_CALL = "pe.Client(endpoint_url={url!r}{extra}).get_endpoint('bench-app', 'device-1')\n"
_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def setups(url: str, env: dict[str, str], config: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Setup name -> (the code a fresh process runs, its environment)."""
    plain = "import pinpoint_endpoints as pe\n" + _CALL.format(url=url, extra="")
    explicit = ("import pinpoint_endpoints as pe\nfrom botocore.credentials import Credentials\n"
                + _CALL.format(url=url, extra=f", credentials=Credentials("
                               f"{clients.ACCESS_KEY!r}, {clients.SECRET_KEY!r})"))
    no_keys = {k: v for k, v in env.items() if k not in _KEYS}
    with_file = {**no_keys, "AWS_CONFIG_FILE": str(config)}
    return {
        "env keys, no config file": (plain, env),
        "env keys, a config file exists": (plain, {**env, "AWS_CONFIG_FILE": str(config)}),
        "explicit credentials=, a config file exists": (explicit, with_file),
        "a profile with region and keys (AWS_PROFILE)": (plain, {**with_file,
                                                                  "AWS_PROFILE": "bench"}),
    }


def rows(url: str, env: dict[str, str], *, samples: int) -> list[list[str]]:
    """One row a setup: our median ms, the floor's (in the peer column) and their ratio."""
    from run import med, row  # run imports this module

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        config.write_text(
            f"[default]\nregion = {clients.REGION}\n"
            f"[profile bench]\nregion = {clients.REGION}\n"
            f"aws_access_key_id = {clients.ACCESS_KEY}\n"
            f"aws_secret_access_key = {clients.SECRET_KEY}\n"
        )
        for name, (code, setup_env) in setups(url, env, config).items():
            cpu = measure.cold_start({"ours": code, "floor": clients.COLD_START["deps"]},
                                     setup_env, samples=samples)["cpu"]
            goal = "profile" not in name
            # the median of each run's ratio to the floor run beside it: slow spells of a
            # shared machine hit both of a pair
            paired = med([o / f for o, f in zip(cpu["ours"], cpu["floor"], strict=True)])
            out.append(row(f"cold start, {name}, against the floor (CPU ms)",
                           med(cpu["ours"]) * 1e3, med(cpu["floor"]) * 1e3, ".0f",
                           "≤ 1.15" if goal else "", 1.15 if goal else None, ratio=paired))
    return out

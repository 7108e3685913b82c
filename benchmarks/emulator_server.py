"""Run the emulator (unthrottled, signatures checked) in its own process for the benchmarks.

Prints ``PORT ACCESS_KEY SECRET_KEY`` on one line, then serves until stdin closes.
"""

from __future__ import annotations

import sys

from pinpoint_endpoints.testing import Emulator


def main() -> None:
    with Emulator(port=0) as emu:
        creds = emu.credentials
        print(emu.port, creds.access_key, creds.secret_key, flush=True)
        sys.stdin.read()  # the runner closes our stdin when it is done


if __name__ == "__main__":
    main()

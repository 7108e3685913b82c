"""The checkpoint file: resume exactly, refuse another run's file, survive a torn write."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinpoint_endpoints.cli._checkpoint import Checkpoint
from pinpoint_endpoints.cli._common import UsageError

RUN = {"command": "import", "app": "a", "input": "abc"}


def test_a_new_checkpoint_resumes_with_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "ck"
    cp = Checkpoint.open(path, RUN)
    assert cp.done == frozenset() and cp.out_size is None
    for line in (3, 1, 7):
        cp.mark(line)
    cp.commit()
    cp.mark(9)
    cp.commit(out_size=120)
    cp.mark(11)  # marked but never committed: redone
    cp.close()
    again = Checkpoint.open(path, RUN)
    assert again.done == {1, 3, 7, 9} and again.out_size == 120
    again.close()


def test_another_run_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ck"
    Checkpoint.open(path, RUN).close()
    for change in ({"app": "b"}, {"input": "def"}, {"command": "delete-many"}):
        with pytest.raises(UsageError, match="belongs to another run"):
            Checkpoint.open(path, {**RUN, **change})


def test_a_file_that_is_not_a_checkpoint_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "ck"
    path.write_text("important data\n")
    with pytest.raises(UsageError, match="not a pinpoint-endpoints checkpoint"):
        Checkpoint.open(path, RUN)
    assert path.read_text() == "important data\n"


def test_a_torn_last_batch_is_dropped_and_appending_goes_on_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "ck"
    cp = Checkpoint.open(path, RUN)
    cp.mark(1)
    cp.commit()
    cp.close()
    with path.open("ab") as handle:
        handle.write(b'{"done": [2, 3')  # the process died mid-write
    resumed = Checkpoint.open(path, RUN)
    assert resumed.done == {1}
    resumed.mark(4)
    resumed.commit()
    resumed.close()
    final = Checkpoint.open(path, RUN)
    assert final.done == {1, 4}
    final.close()


def test_nothing_after_a_damaged_batch_is_trusted(tmp_path: Path) -> None:
    path = tmp_path / "ck"
    Checkpoint.open(path, RUN).close()
    with path.open("ab") as handle:
        handle.write(b'{"done": [1]}\ngarbage\n{"done": [2]}\n')
    cp = Checkpoint.open(path, RUN)
    assert cp.done == {1}
    cp.close()

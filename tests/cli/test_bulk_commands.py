"""import / delete-many / export against the emulator: nothing lost under throttling and
faults, bad lines reported exactly, interrupted runs resumed without repeating work."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

import pinpoint_endpoints as pe
from pinpoint_endpoints.testing import Emulator
from tests.cli.conftest import Cli, assert_stored, cli_argv, endpoint_record, write_jsonl

APP = "bulk-app"
N = 2000


def writes(emu: Emulator) -> Counter[str]:
    """How many times the service accepted a write of each endpoint (batch or single)."""
    counts: Counter[str] = Counter()
    for r in emu.requests:
        if r.method == "PUT" and r.status == 202 and r.path.endswith("/endpoints"):
            counts.update(item["Id"] for item in json.loads(r.body)["Item"])
        elif r.method == "PUT" and r.status == 202:
            counts[r.path.rsplit("/", 1)[-1]] += 1
    return counts


@pytest.mark.parametrize("batch_size", [100, 1])
def test_import_under_throttling_and_faults_loses_nothing(
    cli: Cli, emu: Emulator, tmp_path: Path, batch_size: int
) -> None:
    records = [endpoint_record(i) for i in range(N)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    failures = tmp_path / "failures.jsonl"
    emu.faults.delay(0.0, n=8)  # the first requests pass, then three are throttled
    emu.faults.throttle(3)
    emu.faults.random(0.03, kinds=("throttle", "reset", "500"), seed=7)
    result = cli("import", APP, str(source), "--failures", str(failures),
                 "--batch-size", str(batch_size))
    assert result.code == 0, result.err
    assert failures.read_text() == ""
    assert_stored(emu, APP, records)
    summary = result.err.strip().splitlines()[-1]
    assert summary.startswith(f"import: {N} succeeded, 0 failed")
    throttled = int(summary.split("retries: ")[1].split(" throttled")[0])
    assert throttled >= 3  # every throttled request was retried


def test_bad_lines_go_to_the_failures_file_and_the_rest_is_imported(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    good = [endpoint_record(i) for i in range(20)]
    lines = [json.dumps(r) for r in good]
    bad = {
        3: '{"Id": "x1", "Location": {"Latitude": "north"}}',
        8: "{not json",
        12: '{"Id": "bad$id", "Address": "a@example.com"}',
        15: '{"Address": "no-id@example.com"}',
        21: '{"Id": "x2", "Adress": "typo@example.com"}',
    }
    for number in sorted(bad):
        lines.insert(number - 1, bad[number])
    lines.insert(5, "")  # a blank line: skipped, but it still counts for line numbers
    bad = {(n + 1 if n >= 6 else n): text for n, text in bad.items()}
    source = tmp_path / "in.jsonl"
    source.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe bad bytes\n")
    bad_utf8_line = len(lines) + 1
    failures = tmp_path / "failures.jsonl"
    result = cli("import", APP, str(source), "--failures", str(failures))
    assert result.code == 1
    got = {f["line"]: f for f in map(json.loads, failures.read_text().splitlines())}
    assert sorted(got) == sorted([*bad, bad_utf8_line])
    for number, text in bad.items():
        assert got[number]["record"] == text
        assert "\n" not in got[number]["error"]
    assert "$.Location.Latitude" in got[min(bad)]["error"]
    assert "unknown field Adress" in got[max(bad)]["error"]
    assert got[bad_utf8_line] == {"line": bad_utf8_line, "record": "\\xff\\xfe bad bytes",
                                  "error": "the line is not valid UTF-8"}
    assert_stored(emu, APP, good)
    assert "20 succeeded, 6 failed" in result.err
    assert "typo@example.com" not in result.err  # personal data stays in the user's files


def test_csv_import_with_json_path_columns(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        "Id,ChannelType,Address,Location.Latitude,Attributes.Interests,User.UserId,"
        "User.UserAttributes.Plan,Metrics.score\n"
        "e1,EMAIL,ann@example.com,47.5,music|film,u1,gold,3.5\n"
        "\n"
        "e2,SMS,+12065550100,,,,,\n"
        "e3,SMS,+12065550101,north,,,,\n"
    )
    failures = tmp_path / "failures.jsonl"
    result = cli("import", APP, str(source), "--list-separator", "|",
                 "--failures", str(failures))
    assert result.code == 1
    e1 = emu.get(APP, "e1")
    assert e1 is not None and e1.attributes == {"Interests": ["music", "film"]}
    assert e1.location is not None and e1.location.latitude == 47.5
    assert e1.user == pe.EndpointUser(user_id="u1", user_attributes={"Plan": ["gold"]})
    assert e1.metrics == {"score": 3.5}
    e2 = emu.get(APP, "e2")
    assert e2 is not None and e2.attributes is None and e2.location is None
    [failure] = map(json.loads, failures.read_text().splitlines())
    assert failure == {"line": 5, "record": "e3,SMS,+12065550101,north,,,,",
                       "error": "Location.Latitude: not a number"}


def test_an_unknown_csv_column_stops_before_anything_is_sent(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text("Id,Adress\ne1,ann@example.com\n")
    result = cli("import", APP, str(source))
    assert result.code == 2 and "unknown CSV column 'Adress'" in result.err
    assert emu.requests == []


def test_a_missing_input_file_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    assert cli("import", APP, str(tmp_path / "nope.jsonl")).code == 2


def test_no_credentials_stops_a_bulk_run_with_exit_3(
    cli: Cli, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    source = write_jsonl(tmp_path / "in.jsonl", [endpoint_record(i) for i in range(50)])
    result = cli("import", APP, str(source))
    assert result.code == 3 and "no AWS credentials found" in result.err
    assert emu.requests == []


def test_delete_many_and_export(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    records = [endpoint_record(i) for i in range(30)]
    assert cli("import", APP, str(write_jsonl(tmp_path / "in.jsonl", records))).code == 0
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"ep-{i}\n" for i in range(10)) + "\nnever-existed\n")
    out = tmp_path / "out.jsonl"
    result = cli("export", APP, "--ids", str(ids), "--out", str(out),
                 "--failures", str(tmp_path / "export-failures.jsonl"))
    assert result.code == 1  # never-existed is not there to export
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["Id"] for e in exported) == sorted(f"ep-{i}" for i in range(10))
    assert all(e == emu.get(APP, e["Id"]).to_dict() for e in exported)  # type: ignore[union-attr]
    [failure] = map(json.loads, (tmp_path / "export-failures.jsonl").read_text().splitlines())
    assert failure["line"] == 12 and failure["record"] == "never-existed"
    assert failure["error"].startswith("NotFoundException (404) on GetEndpoint")

    # export's output imports back as is
    emu.reset_state()
    assert cli("import", APP, str(out)).code == 0
    assert sorted(emu.endpoints(APP)) == sorted(f"ep-{i}" for i in range(10))

    result = cli("delete-many", APP, str(ids))
    assert result.code == 0, result.err
    assert emu.endpoints(APP) == {}
    assert "11 succeeded (1 already absent), 0 failed" in result.err


def test_export_to_stdout(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    with emu.client() as client:
        client.update_endpoint(APP, "e1", pe.EndpointRequest(address="ann@example.com"))
    ids = tmp_path / "ids.txt"
    ids.write_text("e1\n")
    result = cli("export", APP, "--ids", str(ids))
    assert result.code == 0
    assert json.loads(result.out)["Address"] == "ann@example.com"


def test_a_finished_checkpoint_makes_a_rerun_do_nothing(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [endpoint_record(i) for i in range(40)])
    checkpoint = tmp_path / "run.ckpt"
    assert cli("import", APP, str(source), "--checkpoint", str(checkpoint)).code == 0
    before = len(emu.requests)
    result = cli("import", APP, str(source), "--checkpoint", str(checkpoint))
    assert result.code == 0 and len(emu.requests) == before
    assert "40 skipped" in result.err
    other = write_jsonl(tmp_path / "other.jsonl", [endpoint_record(1)])
    result = cli("import", APP, str(other), "--checkpoint", str(checkpoint))
    assert result.code == 2 and "belongs to another run" in result.err


@pytest.mark.parametrize(("batch_size", "faults", "failed"), [(1, 3, 3), (10, 1, 10)])
def test_a_rerun_retries_only_what_failed(
    cli: Cli, emu: Emulator, tmp_path: Path, batch_size: int, faults: int, failed: int
) -> None:
    records = [endpoint_record(i) for i in range(30)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    checkpoint = tmp_path / "run.ckpt"
    emu.faults.fail(500, faults)
    assert cli("import", APP, str(source), "--checkpoint", str(checkpoint), "--batch-size",
               str(batch_size), "--max-attempts", "1", "--concurrency", "1").code == 1
    assert len(emu.endpoints(APP)) == 30 - failed
    first = sum(writes(emu).values())
    result = cli("import", APP, str(source), "--checkpoint", str(checkpoint))
    assert result.code == 0
    assert f"{failed} succeeded, 0 failed, {30 - failed} skipped" in result.err
    assert sum(writes(emu).values()) == first + failed
    assert_stored(emu, APP, records)


def _env(emu: Emulator) -> dict[str, str]:
    env = dict(os.environ)
    env.update(AWS_ACCESS_KEY_ID=emu.credentials.access_key,
               AWS_SECRET_ACCESS_KEY=emu.credentials.secret_key, AWS_REGION=emu.region,
               PYTHONWARNINGS="error")
    return env


def _done_lines(checkpoint: Path) -> int:
    try:
        text = checkpoint.read_text()
    except FileNotFoundError:
        return 0
    return sum(len(json.loads(line)["done"]) for line in text.splitlines()[1:]
               if line.startswith('{"done"'))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_import_resumes_without_repeating_or_losing_work(
    emu: Emulator, aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    sig: signal.Signals,
) -> None:
    limited = emu
    records = [endpoint_record(i) for i in range(N)]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    checkpoint, failures = tmp_path / "run.ckpt", tmp_path / "failures.jsonl"
    limited.faults.random(0.02, kinds=("throttle", "reset"), seed=11)
    # small batches, few at a time: a run long enough to interrupt a quarter of the way
    argv = ["import", APP, str(source), "--checkpoint", str(checkpoint), "--batch-size", "10",
            "--concurrency", "2", "--failures", str(failures), "--endpoint-url",
            limited.endpoint_url]
    with subprocess.Popen(cli_argv(*argv),
                          env=_env(limited), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        deadline = time.monotonic() + 30
        while _done_lines(checkpoint) < N // 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    assert _done_lines(checkpoint) < N, "the run finished before it could be interrupted"
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "progress saved in" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    first_run = writes(limited)
    with checkpoint.open() as handle:
        handle.readline()
        saved = {n for line in handle for n in json.loads(line)["done"]} \
            if sig == signal.SIGINT else set()

    cli = Cli(limited, capsys)
    result = cli("import", APP, str(source), "--checkpoint", str(checkpoint),
                 "--failures", str(failures))
    assert result.code == 0, result.err
    assert failures.read_text() == ""
    assert_stored(limited, APP, records)
    both_runs = writes(limited)
    if sig == signal.SIGINT:
        # Ctrl-C let the requests in flight finish and saved every finished line: the rerun
        # wrote none of them again, and no endpoint was written twice.
        assert saved
        for line in saved:
            endpoint = f"ep-{line - 1}"
            assert both_runs[endpoint] == first_run[endpoint] == 1
        assert sum(both_runs.values()) == N
    else:
        # kill -9 loses what was not yet committed; those few are written again (idempotent)
        assert sum(both_runs.values()) >= N


def test_a_resumed_export_cuts_what_the_crash_left_and_never_duplicates(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    with emu.client() as client:
        for i in range(20):
            client.update_endpoint(APP, f"e{i}", pe.EndpointRequest(address=f"u{i}@example.com"))
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"e{i}\n" for i in range(20)))
    out, checkpoint = tmp_path / "out.jsonl", tmp_path / "run.ckpt"
    argv = ["export", APP, "--ids", str(ids), "--out", str(out), "--checkpoint", str(checkpoint)]
    assert cli(*argv).code == 0
    complete = out.read_bytes()
    assert cli(*argv).code == 0  # a rerun of a finished export keeps the file as it was
    assert out.read_bytes() == complete
    with out.open("ab") as handle:  # a line written after the last checkpoint batch, then
        handle.write(b'{"Id": "e3", "Addr')  # the process was killed mid-write
    assert cli(*argv).code == 0
    assert out.read_bytes() == complete
    exported = [json.loads(line)["Id"] for line in out.read_text().splitlines()]
    assert sorted(exported) == sorted(f"e{i}" for i in range(20))


def test_an_unreachable_service_fails_every_record_and_exits_3(
    cli: Cli, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = write_jsonl(tmp_path / "in.jsonl", [endpoint_record(i) for i in range(10)])
    failures = tmp_path / "failures.jsonl"
    result = cli("import", APP, str(source), "--failures", str(failures), "--max-attempts", "2",
                 "--endpoint-url", f"http://127.0.0.1:{port}", url=False)
    assert result.code == 3
    got = [json.loads(line) for line in failures.read_text().splitlines()]
    assert sorted(f["line"] for f in got) == list(range(1, 11))
    assert all(f["error"].startswith("TransportError") for f in got)


def _lines(records: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_a_rejected_batch_is_split_until_exactly_the_bad_records_fail(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    records = [endpoint_record(i) for i in range(250)]
    bad_lines = {7, 130, 131, 250}  # the service refuses these; the client cannot tell
    for line in bad_lines:
        records[line - 1]["ChannelType"] = "FAX"
    source = write_jsonl(tmp_path / "in.jsonl", records)
    failures = tmp_path / "failures.jsonl"
    result = cli("import", APP, str(source), "--failures", str(failures))
    assert result.code == 1
    got = [json.loads(line) for line in failures.read_text().splitlines()]
    assert [f["line"] for f in got] == sorted(bad_lines)  # exactly those, in input order
    assert all(f["error"].startswith("BadRequestException (400) on UpdateEndpointsBatch")
               and "ChannelType" in f["error"] for f in got)
    assert_stored(emu, APP, [r for i, r in enumerate(records, 1) if i not in bad_lines])
    # halving finds each bad record in about log2(100) more requests, not one per record
    assert len([r for r in emu.requests if r.method == "PUT"]) < 3 + 4 * 2 * 7


def test_a_batch_too_large_for_the_service_is_split_and_lands(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    records = [endpoint_record(i) for i in range(100)]
    emu.faults.fail(413, 1)  # as a body over the payload limit is answered
    result = cli("import", APP, str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert result.code == 0, result.err
    assert_stored(emu, APP, records)
    assert [len(json.loads(r.body)["Item"]) for r in emu.requests] == [100, 50, 50]


@pytest.mark.parametrize("batch_size", ["100", "3", "1"])
def test_the_last_line_for_an_endpoint_wins_as_in_a_sequential_run(
    cli: Cli, emu: Emulator, tmp_path: Path, batch_size: str
) -> None:
    ids = ["a", "b", "A", "c", "a", "b", "d", "a"] * 40  # ids are case insensitive
    records: list[dict[str, object]] = [{"Id": endpoint_id, "Address": f"{endpoint_id}@example.com",
                "Attributes": {"Line": [str(line)]}}
               for line, endpoint_id in enumerate(ids, 1)]
    emu.faults.delay(0.05, n=3)  # early batches are slow: later ones must still wait
    result = cli("import", APP, str(write_jsonl(tmp_path / "in.jsonl", records)),
                 "--batch-size", batch_size)
    assert result.code == 0, result.err
    last = {endpoint_id.lower(): line for line, endpoint_id in enumerate(ids, 1)}
    stored = emu.endpoints(APP)
    assert {k.lower(): (ep.attributes or {})["Line"] for k, ep in stored.items()} == {
        k: [str(line)] for k, line in last.items()}


def test_import_sends_what_each_line_says(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    as_written = '{"Id": "e1", "Address": "ann@example.com", "Location": {"Latitude": 47}}'
    with_null = '{"Id": "e2", "Address": "bob@example.com", "OptOut": null}'
    exported = '{"Id": "e3", "CohortId": "42", "Address": "cy@example.com"}'
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([as_written, with_null, exported]) + "\n")
    result = cli("import", APP, str(source))
    assert result.code == 0, result.err
    [put] = [r for r in emu.requests if r.method == "PUT"]
    assert as_written in put.body.decode()  # sent as written: not re-encoded
    assert json.loads(put.body)["Item"] == [
        json.loads(as_written),
        {"Id": "e2", "Address": "bob@example.com"},  # a null is a field left unset
        {"Id": "e3", "Address": "cy@example.com"},  # what the service sets is left out
    ]
    assert_stored(emu, APP, [json.loads(as_written), {"Id": "e2", "Address": "bob@example.com"},
                             {"Id": "e3", "Address": "cy@example.com"}])


def test_lines_of_a_pinpoint_export_job_import_as_they_are(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    exported: dict[str, object] = {"ApplicationId": "old-app", "Id": "e1", "CohortId": "42",
                "CreationDate": "2023-01-01T00:00:00.000Z", "EffectiveDate":
                "2023-01-01T00:00:00.000Z", "ChannelType": "EMAIL", "Address":
                "ann@example.com", "EndpointStatus": "ACTIVE", "OptOut": "NONE",
                "RequestId": "r-1", "User": {"UserId": "ann"}}
    result = cli("import", APP, str(write_jsonl(tmp_path / "export.jsonl", [exported])))
    assert result.code == 0, result.err
    stored = emu.get(APP, "e1")
    assert stored is not None and stored.application_id == APP
    assert (stored.address, stored.user) == ("ann@example.com", pe.EndpointUser(user_id="ann"))


def test_import_and_delete_many_read_standard_input(
    cli: Cli, emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    records = [endpoint_record(i) for i in range(150)]
    text = _lines(records[:2]) + "\n{not json\n" + _lines(records[2:])
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    failures = tmp_path / "failures.jsonl"
    result = cli("import", APP, "-", "--failures", str(failures))
    assert result.code == 1
    assert [json.loads(x)["line"] for x in failures.read_text().splitlines()] == [4]
    assert_stored(emu, APP, records)

    ids = "".join(f"ep-{i}\n" for i in range(100))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ids.encode())))
    result = cli("delete-many", APP, "-")
    assert result.code == 0, result.err
    assert sorted(emu.endpoints(APP)) == sorted(f"ep-{i}" for i in range(100, 150))


def test_a_csv_on_standard_input_is_recognised_by_its_first_line(
    cli: Cli, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_text = "Id,Address\ne1,ann@example.com\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(csv_text.encode())))
    assert cli("import", APP, "-").code == 0
    assert emu.get(APP, "e1") is not None


def test_standard_input_cannot_be_resumed_so_checkpoint_is_refused(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    result = cli("import", APP, "-", "--checkpoint", str(tmp_path / "ck"))
    assert result.code == 2 and len(result.err.splitlines()) == 1
    assert "standard input cannot be read again" in result.err
    assert not (tmp_path / "ck").exists() and emu.requests == []


def test_export_users_writes_every_endpoint_of_each_user(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    with emu.client() as client:
        for i in range(6):
            client.update_endpoint(APP, f"e{i}", pe.EndpointRequest(
                address=f"u{i}@example.com", user=pe.EndpointUser(user_id=f"user-{i % 3}")))
    users = tmp_path / "users.txt"
    users.write_text("user-0\nuser-2\nnobody\n")
    out, failures = tmp_path / "out.jsonl", tmp_path / "failures.jsonl"
    result = cli("export", APP, "--users", str(users), "--out", str(out),
                 "--failures", str(failures))
    assert result.code == 1  # nobody has no endpoints: 404
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["Id"] for e in exported) == ["e0", "e2", "e3", "e5"]
    assert all(e == emu.get(APP, e["Id"]).to_dict() for e in exported)  # type: ignore[union-attr]
    [failure] = map(json.loads, failures.read_text().splitlines())
    assert failure["line"] == 3 and "NotFoundException (404) on GetUserEndpoints" in \
        failure["error"]

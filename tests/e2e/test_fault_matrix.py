"""Nothing lost, nothing twice: the offline stack under faults, one test per case.

Each test runs real files through the offline stack (the real state machine and handlers on
moto) with a fault injected around a real client (``support.faults``), then holds what users
query to the reconciliation: rows in = lake + rejected, each booking_id once, and the very row
numbers the validator expects (``assert_exactly_once``). The faults that need a process killed
or two processes at once are in ``test_crash_safety.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from booking_core.aws.clients import aws_client
from botocore.exceptions import ClientError
from support.faults import answer_with_error, assert_exactly_once, lake_content, url_holds

from bookings.cli import main
from bookings.commands.run import describe_file
from bookings.generator import generate_rows, write_csv
from bookings.offline.emulator.stack import DEFAULT_ACCOUNT, DEFAULT_REGION
from bookings.offline.session import FileResult, OfflineSession

pytestmark = pytest.mark.slow

# Small chunks, so that a file of a few hundred rows is several Map iterations.
SMALL_CHUNKS = {"ChunkSize": 100}
QUICKSIGHT_ANALYST = f"arn:aws:quicksight:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:user/default/analyst"


def generated(path: Path, rows: int, seed: int, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, generate_rows(rows, seed), seed=seed, **options)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def audit_exit_code(out: Path, capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    code = main(["audit", "--lake", str(out)])
    capsys.readouterr()
    return code


@pytest.fixture
def session_factory(out: Path) -> Any:
    """Sessions on ``out``, one at a time, each built when asked (so that a fault installed on
    a client applies to that session's stack: the stack clears the cached clients it starts
    with)."""

    def start(**options: Any) -> OfflineSession:
        options.setdefault("overrides", SMALL_CHUNKS)
        return OfflineSession(out, **options)

    return start


def run_files(session: OfflineSession, *files: Path) -> list[FileResult]:
    results = [session.process(path) for path in files]
    session.build_catalog()
    return results


# -- a file delivered, then failed -------------------------------------------------------------


def test_firehose_giving_up_on_one_record_commits_nothing_and_a_new_upload_is_counted_once(
    tmp_path: Path,
    out: Path,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 450, seed=31, dirty=0.04)
    with session_factory() as session:
        firehose = aws_client("firehose")
        real_put = firehose.put_record_batch
        calls: list[int] = []

        def refuse_the_first_record_of_the_third_chunk(**kwargs: Any) -> Any:
            """Instrumentation: from the third call on, the first record always fails."""
            records = kwargs["Records"]
            calls.append(len(records))
            if len(calls) < 3:
                return real_put(**kwargs)
            if len(records) > 1:
                real_put(DeliveryStreamName=kwargs["DeliveryStreamName"], Records=records[1:])
            return {
                "FailedPutCount": 1,
                "RequestResponses": [
                    {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
                ]
                + [{"RecordId": f"r{i}"} for i in range(1, len(records))],
            }

        monkeypatch.setattr(
            firehose, "put_record_batch", refuse_the_first_record_of_the_third_chunk
        )
        (failed,) = run_files(session, source)
    assert failed.status == "quarantined"
    assert "DeliveryFailed" in (failed.error or "")
    # Two chunks reached the lake bucket with their receipts, and most of the third: all of it
    # delivered, none of it committed.
    assert failed.delivered == 200
    assert failed.discarded_bookings == 200 + 99
    content = lake_content(out)
    assert content.raw == {}
    assert content.committed == {}
    assert content.statuses("incoming/bookings.csv") == ["quarantined"]
    assert content.audit[0]["delivered"] == 200
    assert audit_exit_code(out, capsys) == 0

    # The documented recovery, uploading the file again, gives exactly one copy.
    with session_factory() as session:
        (again,) = run_files(session, source)
    assert again.status == "succeeded"
    content = assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert content.statuses("incoming/bookings.csv") == ["quarantined", "committed"]
    assert audit_exit_code(out, capsys) == 0


@pytest.mark.parametrize(
    ("operation", "parameters"),
    [
        ("glue.StartCrawler", {}),
        # QuickSight switched on as a deployment does: RefreshSpice gets the stack's data sets,
        # its role the right to refresh them.
        ("quicksight.CreateIngestion", {"QuickSightPrincipalArn": QUICKSIGHT_ANALYST}),
    ],
    ids=["start-crawler-denied", "refresh-spice-fails"],
)
def test_a_step_after_delivery_failing_leaves_nothing_then_a_rerun_counts_once(
    tmp_path: Path,
    out: Path,
    session_factory: Any,
    operation: str,
    parameters: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 300, seed=32, dirty=0.05)
    service = operation.split(".")[0]
    with (
        session_factory(overrides={**SMALL_CHUNKS, **parameters}) as session,
        answer_with_error(
            aws_client(service), operation, status=400, code="AccessDeniedException", times=None
        ) as answers,
    ):
        (failed,) = run_files(session, source)
    assert answers.answered >= 1
    assert failed.status == "quarantined"
    assert "AccessDeniedException" in (failed.error or "")
    expected_valid = failed.valid
    assert failed.delivered == expected_valid > 0  # everything was delivered, then it failed
    assert failed.discarded_bookings == expected_valid
    assert failed.exported_bookings == 0
    content = lake_content(out)
    assert content.raw == {}
    assert content.committed_rejected == {}
    assert audit_exit_code(out, capsys) == 0

    with session_factory() as session:
        (again,) = run_files(session, source)
    assert again.status == "succeeded"
    assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert audit_exit_code(out, capsys) == 0


# -- Firehose raising rather than answering ------------------------------------------------------


def test_put_record_batch_raising_service_unavailable_once_is_retried(
    tmp_path: Path, out: Path, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 350, seed=33)
    with session_factory() as session:
        firehose = aws_client("firehose")
        real_put = firehose.put_record_batch
        raised: list[str] = []

        def unavailable_once(**kwargs: Any) -> Any:
            """Instrumentation: the first call raises ServiceUnavailableException, as botocore
            does once its own retries of it are spent; the others reach the emulated stream."""
            if not raised:
                raised.append("x")
                raise ClientError(
                    {"Error": {"Code": "ServiceUnavailableException", "Message": "busy"}},
                    "PutRecordBatch",
                )
            return real_put(**kwargs)

        monkeypatch.setattr(firehose, "put_record_batch", unavailable_once)
        (result,) = run_files(session, source)
    assert raised == ["x"]
    assert result.status == "succeeded", result.error
    # Retried inside the one Deliver invocation of each chunk: no Lambda retry was needed.
    assert result.handlers["Deliver"]["invocations"] == 4
    assert_exactly_once(out, {"incoming/bookings.csv": source})


# -- S3 faults while chunks are written and read -------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "fragment", "times", "outcome"),
    [
        ("s3.PutObject", "/chunk-00002.jsonl", 1, "succeeded"),
        ("s3.PutObject", "/chunk-00002.jsonl", None, "quarantined"),
        ("s3.GetObject", "/chunk-00003.jsonl", 1, "succeeded"),
        ("s3.GetObject", "/chunk-00003.jsonl", None, "quarantined"),
    ],
    ids=["write-once", "write-always", "read-once", "read-always"],
)
def test_s3_errors_on_chunks_are_retried_or_quarantine_the_file_whole(
    tmp_path: Path,
    out: Path,
    session_factory: Any,
    operation: str,
    fragment: str,
    times: int | None,
    outcome: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 420, seed=34, dirty=0.03)
    in_staging = url_holds("/staging/bookings.csv-")

    def the_staged_chunk(request: Any) -> bool:
        """The chunk Validate staged, not its enriched or scored copy."""
        path = str(request.url).split("?")[0]
        copies = ("/enriched/", "/scored/")
        return (
            in_staging(request) and path.endswith(fragment) and not any(c in path for c in copies)
        )

    with (
        session_factory() as session,
        answer_with_error(
            aws_client("s3"),
            operation,
            status=503,
            code="SlowDown",
            times=times,
            matches=the_staged_chunk,
        ) as answers,
    ):
        (result,) = run_files(session, source)
    assert answers.answered >= 1
    assert result.status == outcome, result.error
    if outcome == "succeeded":
        assert answers.answered == 1  # the SDK's retry got through
        assert_exactly_once(out, {"incoming/bookings.csv": source})
    else:
        assert "SlowDown" in (result.error or "")
        assert lake_content(out).raw == {}
        with session_factory() as session:
            (again,) = run_files(session, source)
        assert again.status == "succeeded"
        assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert audit_exit_code(out, capsys) == 0


# -- a Lambda that runs past its timeout ---------------------------------------------------------


def test_a_deliver_timeout_mid_chunk_is_retried_and_the_chunk_counts_once(
    tmp_path: Path,
    out: Path,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import time

    source = generated(tmp_path / "in" / "bookings.csv", 250, seed=35)
    with session_factory(function_timeouts={"DeliverFunction": 3}) as session:
        firehose = aws_client("firehose")
        real_put = firehose.put_record_batch
        calls: list[int] = []

        def stall_after_the_second_batch(**kwargs: Any) -> Any:
            """Instrumentation: the second chunk's batch is delivered, then the call stalls
            past the function's timeout (its receipt is never written)."""
            calls.append(len(kwargs["Records"]))
            response = real_put(**kwargs)
            if len(calls) == 2:
                time.sleep(3.4)
            return response

        monkeypatch.setattr(firehose, "put_record_batch", stall_after_the_second_batch)
        (result,) = run_files(session, source)
    assert result.status == "succeeded", result.error
    # Three chunks, one Deliver timed out and ran again: its records reached the stream twice.
    assert result.handlers["Deliver"]["invocations"] == 4
    assert calls == [100, 100, 100, 50]
    deliver = next(s for s in result.states if s.state == "Deliver")
    assert deliver.failed
    content = assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert len(content.raw["incoming/bookings.csv"]) == 250  # the copy was dropped on export
    assert audit_exit_code(out, capsys) == 0


# -- the same bytes twice, a new version ---------------------------------------------------------


def test_the_same_bytes_under_another_name_are_a_duplicate_file_and_add_nothing(
    tmp_path: Path, out: Path, session_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 300, seed=36, dirty=0.04)
    copy = tmp_path / "elsewhere" / "bookings_copy.csv"
    copy.parent.mkdir()
    copy.write_bytes(source.read_bytes())
    with session_factory() as session:
        first, second = run_files(session, source, copy)
    assert first.status == "succeeded"
    assert second.status == "duplicate"
    assert "duplicate of:" in "\n".join(describe_file(second))
    # And in a later run, from the ledger.
    with session_factory() as session:
        (later,) = run_files(session, copy)
    assert later.status == "duplicate"
    content = assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert content.statuses("incoming/bookings_copy.csv") == ["duplicate", "duplicate"]
    original = content.audit[0]["source_file"]
    assert second.duplicate_of == later.duplicate_of == original
    assert [
        row["duplicate_of"]
        for row in content.audit
        if row["object_key"] == "incoming/bookings_copy.csv"
    ] == [original, original]
    assert audit_exit_code(out, capsys) == 0


def test_a_corrected_export_under_the_same_name_supersedes_the_previous_version(
    tmp_path: Path, out: Path, session_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = generated(tmp_path / "v1" / "bookings.csv", 300, seed=37)
    lines = first.read_bytes().split(b"\r\n")
    # Row 10 corrected: another number of passengers (the first field).
    cells = lines[10].split(b",")
    cells[0] = b"9" if cells[0] != b"9" else b"8"
    lines[10] = b",".join(cells)
    corrected = tmp_path / "v2" / "bookings.csv"
    corrected.parent.mkdir()
    corrected.write_bytes(b"\r\n".join(lines))
    with session_factory() as session:
        (v1,) = run_files(session, first)
    with session_factory() as session:
        (v2,) = run_files(session, corrected)
    assert v1.status == v2.status == "succeeded"
    content = assert_exactly_once(out, {"incoming/bookings.csv": corrected})
    assert "replaces the previous version" in "\n".join(describe_file(v2))
    # Both versions are in the raw table; users see the new one only, each row once.
    assert len(content.raw["incoming/bookings.csv"]) == 600
    assert sorted(content.statuses("incoming/bookings.csv")) == [
        "committed",
        "committed",
        "superseded",
    ]
    old_version, new_version = (
        r["source_file"] for r in content.audit if r["status"] == "committed"
    )
    superseded = next(row for row in content.audit if row["status"] == "superseded")
    assert (superseded["source_file"], superseded["superseded_by"]) == (old_version, new_version)
    assert v2.supersedes == old_version
    from bookings.analytics.engine import connect

    con = connect(out)
    try:
        (passengers,) = con.execute(
            "SELECT num_passengers FROM committed_bookings WHERE row_number = 10"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert str(passengers).encode() == cells[0]
    assert audit_exit_code(out, capsys) == 0


# -- faults surfaced -----------------------------------------------------------------------------


def test_a_failed_crawl_is_a_warning_in_the_summary_and_the_audit_row(
    tmp_path: Path,
    out: Path,
    session_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 200, seed=38)
    with session_factory() as session:
        glue = aws_client("glue")
        real_get = glue.get_crawler

        def last_crawl_failed(**kwargs: Any) -> Any:
            """Instrumentation: the crawler reports its last crawl FAILED, as Glue does."""
            response = real_get(**kwargs)
            response["Crawler"]["LastCrawl"] = {
                "Status": "FAILED",
                "ErrorMessage": "Insufficient Lake Formation permission(s) on bookings",
            }
            return response

        monkeypatch.setattr(glue, "get_crawler", last_crawl_failed)
        (result,) = run_files(session, source)
    assert result.status == "succeeded"
    assert result.crawler_status == (
        "FAILED: Insufficient Lake Formation permission(s) on bookings"
    )
    summary = "\n".join(describe_file(result))
    assert "warning: crawler" in summary
    assert "last crawl FAILED" in summary
    content = assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert content.audit[-1]["crawler_status"] == result.crawler_status
    assert audit_exit_code(out, capsys) == 0
    assert "last crawl FAILED" in (out / "logs" / "functions.log").read_text()


def test_every_function_refuses_an_event_that_is_not_an_object_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.contract import FUNCTIONS

    event = tmp_path / "event.json"
    for text in ("[]", "null"):
        event.write_text(text)
        for directory in ("validate", "deliver", "finalize_file"):
            assert directory in FUNCTIONS.values()
            capsys.readouterr()
            code = main(["invoke", directory, "--event", str(event)])
            captured = capsys.readouterr()
            assert code == 1, (directory, text)
            failure = json.loads(captured.out)
            assert failure["errorType"] == "InvalidEvent", (directory, text)
            assert "\n" not in failure["errorMessage"]
            assert "Traceback" not in captured.err
    for text in ("[]", "null", '{"detail": "x"}', '{"detail": {"object": ["k"]}}'):
        event.write_text(text)
        capsys.readouterr()
        code = main(
            ["invoke", "validate", "--event", str(event), "--object", str(tmp_path / "event.json")]
        )
        captured = capsys.readouterr()
        assert code == 2
        assert captured.err.strip() == (
            "bookings: error: --object needs an S3 Object Created event (detail.object.key)"
        )


def test_a_stray_quote_at_the_start_of_row_20_costs_that_row_only(
    tmp_path: Path, out: Path, session_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generated(tmp_path / "in" / "bookings.csv", 5000, seed=39)
    lines = source.read_bytes().split(b"\r\n")
    lines[20] = b'"' + lines[20]  # row 20 (line 0 is the header)
    source.write_bytes(b"\r\n".join(lines))
    with session_factory(overrides={"ChunkSize": 5000}) as session:
        (result,) = run_files(session, source)
    assert result.status == "succeeded"
    assert (result.rows, result.valid, result.rejected) == (5000, 4999, 1)
    content = assert_exactly_once(out, {"incoming/bookings.csv": source})
    assert content.committed_rejected["incoming/bookings.csv"] == [20]
    assert audit_exit_code(out, capsys) == 0

"""What users query, as in AWS: Firehose cannot take rows back, so the raw ``bookings`` table
keeps every row any execution delivered, and the views of ``sql/views`` (the same SQL Athena
runs) must show each booking of a committed file once.

The emulated stack runs the real state machine and handlers; everything Firehose, Validate and
the audit trail wrote to the lake bucket is then copied as it lies (every copy, no dedupe, as
Athena would read it) into a lake that DuckDB queries through the views.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from booking_core.aws.clients import aws_client
from support.faults import assert_exactly_once
from support.paths import ROOT

from bookings.generator import generate_rows, write_csv
from bookings.lake import LakeWriter
from bookings.offline.emulator import EmulatedStack

pytestmark = pytest.mark.slow


def generated(path: Path, rows: int, seed: int, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, generate_rows(rows, seed), seed=seed, **options)
    return path


def as_athena_reads_it(stack: EmulatedStack, out: Path) -> None:
    """Every record under the Glue tables' locations, every copy, into the lake under ``out``."""
    with LakeWriter(out) as writer:
        writer.add_bookings(stack.read_json_lines("curated/bookings/"))
        writer.add_rejected(stack.read_json_lines("quarantine/rows/"))
        writer.add_audit(stack.read_json_lines("audit/ingest_audit/"))


@pytest.fixture
def stack() -> Iterator[EmulatedStack]:
    # One chunk at a time, so that what a failing execution delivered is known exactly.
    overrides = {"ChunkSize": 100, "MapMaxConcurrency": 1}
    with EmulatedStack(ROOT / "template.yaml", overrides=overrides) as emulated:
        yield emulated


def test_uploading_a_failed_file_again_gives_exactly_one_copy(
    stack: EmulatedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = generated(tmp_path / "bookings.csv", 420, seed=41, dirty=0.04)
    firehose = aws_client("firehose")
    real_put = firehose.put_record_batch
    calls: list[int] = []

    def refuse_a_record_of_the_third_chunk(**kwargs: Any) -> Any:
        """Instrumentation: from the third call on, the first record always fails."""
        records = kwargs["Records"]
        calls.append(len(records))
        if len(calls) < 3:
            return real_put(**kwargs)
        if len(records) > 1:
            real_put(DeliveryStreamName=kwargs["DeliveryStreamName"], Records=records[1:])
        return {
            "FailedPutCount": 1,
            "RequestResponses": [{"ErrorCode": "ServiceUnavailableException"}]
            + [{"RecordId": f"r{i}"} for i in range(1, len(records))],
        }

    with monkeypatch.context() as patched:
        patched.setattr(firehose, "put_record_batch", refuse_a_record_of_the_third_chunk)
        failed = stack.put_file(source, "incoming/bookings.csv")
    assert failed is not None
    assert failed.status == "FAILED"
    assert "QuarantineFile" in failed.visited()
    again = stack.put_file(source, "incoming/bookings.csv")
    assert again is not None
    assert again.output["status"] == "completed", again.cause

    out = tmp_path / "lake"
    as_athena_reads_it(stack, out)
    content = assert_exactly_once(out, {"incoming/bookings.csv": source})
    # The first execution's rows are still in the table: 200 with receipts, 99 of the third.
    valid = again.output["valid"]
    assert len(content.raw["incoming/bookings.csv"]) == valid + 299
    assert content.statuses("incoming/bookings.csv") == ["quarantined", "committed"]


def test_versions_arriving_out_of_order_and_twice_leave_the_latest(
    stack: EmulatedStack, tmp_path: Path
) -> None:
    first = generated(tmp_path / "v1.csv", 150, seed=42)
    second = generated(tmp_path / "v2.csv", 180, seed=43)
    key = "incoming/versions.csv"
    stack.upload(first, key)
    first_event = stack.object_created_event(key)
    time.sleep(0.01)
    stack.upload(second, key)
    second_event = stack.object_created_event(key)
    assert (
        first_event["detail"]["object"]["sequencer"] < second_event["detail"]["object"]["sequencer"]
    )
    newer = stack.wait(stack.start_execution(second_event, name="newer-first"))
    older = stack.wait(stack.start_execution(first_event, name="older-late"))
    repeated = stack.wait(stack.start_execution(second_event, name="newer-again"))
    assert newer.output["status"] == older.output["status"] == "completed"
    assert older.output["superseded_by"] == newer.output["source_file"]
    assert any("newer version" in warning for warning in older.output["warnings"])
    assert repeated.output["status"] == "duplicate"
    assert repeated.output["duplicate_of"] == newer.output["source_file"]

    out = tmp_path / "lake"
    as_athena_reads_it(stack, out)
    content = assert_exactly_once(out, {key: second})
    by_execution = {row["execution"]: row for row in content.audit}
    assert by_execution["newer-first"]["status"] == "committed"
    assert by_execution["older-late"]["status"] == "committed"
    assert by_execution["older-late"]["superseded_by"] == newer.output["source_file"]
    assert by_execution["newer-again"]["status"] == "duplicate"
    # Both versions delivered every row; users see the latest version's.
    assert len(content.raw[key]) == 150 + 180


class HangingEndpoint:
    """A server that accepts connections and never answers (an endpoint that hangs)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


def test_an_endpoint_that_hangs_costs_seconds_and_the_bookings_go_on_unscored(
    tmp_path: Path,
) -> None:
    endpoint = HangingEndpoint()
    source = generated(tmp_path / "live.csv", 300, seed=44, outcome=False)
    try:
        # Scoring switched on as a deployment does (the template's parameter), so Score's role
        # may invoke the endpoint; the runtime URL sends its calls to the endpoint that hangs.
        with EmulatedStack(
            ROOT / "template.yaml",
            overrides={"SageMakerEndpointName": "bookings-model"},
            environment={"SAGEMAKER_RUNTIME_URL": endpoint.url},
            function_timeouts={"ScoreFunction": 4},
        ) as stack:
            outcome = stack.put_file(source, "incoming/live.csv")
            scores = [i for i in stack.invocations if i[0] == "ScoreFunction"]
    finally:
        endpoint.close()
    assert outcome is not None
    assert outcome.output["status"] == "completed", outcome.cause
    assert outcome.output["delivered"] == outcome.output["unscored"] == 300
    assert endpoint.connections  # the endpoint was asked, and never answered
    # Within the function's timeout: the client's timeouts followed the time left.
    assert scores
    assert all(seconds < 4 and not failed for _, seconds, failed in scores), scores

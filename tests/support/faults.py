"""Faults injected into the emulated account, and the reconciliation every fault test asserts.

The injections are instrumentation around the real (moto) clients the handlers use: an AWS error
answered in place of a request (before the SDK's own retries see it, so they run as in AWS), or a
call that raises or stalls. Nothing stands in for a component.

``expected_outcome`` reads a booking file with the project's validator (the same reader the
Validate function streams it through) for the row numbers that must end up in the lake and in the
rejected rows; ``LakeContent`` reads what users query (the committed views) and the raw tables,
and ``assert_exactly_once`` holds them to it: rows in = lake + rejected, each booking_id once,
and the very row numbers expected.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from bookings.analytics.engine import connect


@dataclass
class ErrorAnswers:
    """How many requests got the injected error."""

    answered: int = 0
    seen: list[str] = field(default_factory=list)


@contextlib.contextmanager
def answer_with_error(
    client: Any,
    operation: str,
    *,
    status: int,
    code: str,
    times: int | None = 1,
    matches: Callable[[Any], bool] = lambda _request: True,
) -> Iterator[ErrorAnswers]:
    """The client's next ``times`` requests of ``operation`` (``"s3.GetObject"``) that
    ``matches`` accepts are answered with an AWS error (``status``, ``code``) instead of
    reaching the emulated service; None: every one. The SDK's retries see the error as they
    would see AWS's."""
    answers = ErrorAnswers()

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if not matches(request):
            return None
        if times is not None and answers.answered >= times:
            return None
        answers.answered += 1
        answers.seen.append(str(request.url))
        if operation.startswith("s3."):
            body = (
                f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                f"<Message>injected</Message></Error>"
            ).encode()
            headers = {"Content-Type": "application/xml"}
        else:
            body = json.dumps({"__type": code, "message": "injected"}).encode()
            headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
        return AWSResponse(str(request.url), status, headers, MockRawResponse(body))

    event = f"before-send.{operation}"
    client.meta.events.register_first(event, answer)
    try:
        yield answers
    finally:
        client.meta.events.unregister(event, answer)


def url_holds(fragment: str) -> Callable[[Any], bool]:
    return lambda request: fragment in str(request.url)


# -- what the lake must hold ----------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A file's rows as the validator sees them."""

    rows: int
    valid: set[int]
    rejected: set[int]


def expected_outcome(path: Path) -> Expected:
    from booking_core.pipeline import RejectedRecord, validate_stream

    valid: set[int] = set()
    rejected: set[int] = set()
    with path.open("rb") as stream:
        for outcome in validate_stream(stream, source_file=str(path)):
            (rejected if isinstance(outcome, RejectedRecord) else valid).add(outcome.row_number)
    return Expected(rows=len(valid) + len(rejected), valid=valid, rejected=rejected)


@dataclass
class LakeContent:
    """What an offline lake holds: what users query, and the raw tables under it."""

    committed: dict[str, list[int]]  # key -> row numbers in committed_bookings
    committed_rejected: dict[str, list[int]]
    raw: dict[str, list[int]]  # key -> row numbers in bookings (every copy)
    booking_ids: Counter[str]  # in committed_bookings
    audit: list[dict[str, Any]]

    def rows_of(self, key: str) -> list[int]:
        return sorted(self.committed.get(key, []))

    def statuses(self, key: str) -> list[str]:
        return [row["status"] for row in self.audit if row["object_key"] == key]


def lake_content(out: Path) -> LakeContent:
    """Read through the same views ``bookings sql`` offers."""
    con = connect(out)
    try:

        def grouped(sql: str) -> dict[str, list[int]]:
            found: dict[str, list[int]] = {}
            for source_file, row_number in con.execute(sql).fetchall():
                key = source_file.split("/", 3)[-1].rpartition("#")[0]
                found.setdefault(key, []).append(int(row_number))
            return found

        committed = grouped("SELECT source_file, row_number FROM committed_bookings")
        committed_rejected = grouped(
            "SELECT source_file, row_number FROM committed_rejected_bookings"
        )
        raw = grouped("SELECT source_file, row_number FROM bookings")
        ids = Counter(
            str(row[0])
            for row in con.execute("SELECT booking_id FROM committed_bookings").fetchall()
        )
        result = con.execute("SELECT * FROM ingest_audit ORDER BY finished_at")
        names = [column[0] for column in result.description]
        audit = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()
    return LakeContent(committed, committed_rejected, raw, ids, audit)


def assert_exactly_once(out: Path, files: dict[str, Path]) -> LakeContent:
    """Each of ``files`` (S3 key -> local file) is in what users query exactly once: its valid
    rows in committed_bookings, its rejected rows in committed_rejected_bookings, nothing else;
    rows in = lake + rejected; each booking_id once."""
    content = lake_content(out)
    assert all(count == 1 for count in content.booking_ids.values()), "a booking_id twice"
    for key, path in files.items():
        expected = expected_outcome(path)
        in_lake = content.rows_of(key)
        rejected = sorted(content.committed_rejected.get(key, []))
        assert in_lake == sorted(expected.valid), key
        assert rejected == sorted(expected.rejected), key
        assert len(in_lake) + len(rejected) == expected.rows, key
    assert set(content.committed) <= set(files), set(content.committed) - set(files)
    return content

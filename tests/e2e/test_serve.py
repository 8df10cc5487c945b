"""`bookings serve` under load on loopback: every booking posted ends in the lake or in the
rejected table with its reason (count in = count out, content compared), a retried request
with the same Idempotency-Key adds nothing, the dashboards' latest-ingests table moves as
bookings arrive, and SIGINT/SIGTERM stop the server with everything accepted written."""

from __future__ import annotations

import csv
import random
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from booking_core.schema import REQUIRED_FIELDS
from support.serving import ApiClient, Served, serving, wait_for

from bookings.generator import generate_rows

pytestmark = pytest.mark.slow

FIELDS = list(REQUIRED_FIELDS)
# Ways to break a booking, and the reasons the API (and the rejected table) must give.
BREAKS: list[tuple[str, Any, list[str]]] = [
    ("num_passengers", 0, ["num_passengers:out_of_range"]),
    ("route", "KUL", ["route:bad_format"]),
    ("sales_channel", "Fax", ["sales_channel:not_allowed"]),
    ("booking_origin", "New\nZealand", ["booking_origin:control_character"]),
    ("seat", "12A", ["seat:unknown_field"]),
    ("flight_day", None, ["flight_day:missing"]),
    ("", 42, ["booking:not_an_object"]),
]
BATCH_SIZES = [1, 3, 25, 100, 250, 500]


def traffic(seed: int, bookings: int) -> list[tuple[list[Any], list[list[str] | None]]]:
    """Requests of varied sizes, about one booking in ten broken: (bookings, expected reasons
    per booking, None for an accepted one)."""
    rng = random.Random(seed)
    rows = [{name: row[name] for name in FIELDS} for row in generate_rows(bookings, seed=seed)]
    requests = []
    while rows:
        size = min(rng.choice(BATCH_SIZES), len(rows))
        batch: list[Any] = []
        expected: list[list[str] | None] = []
        for booking in rows[:size]:
            if rng.random() < 0.1:
                field, value, reasons = rng.choice(BREAKS)
                if not field:
                    batch.append(value)
                else:
                    broken = dict(booking)
                    if value is None:
                        del broken[field]
                    else:
                        broken[field] = value
                    batch.append(broken)
                expected.append(reasons)
            else:
                batch.append(booking)
                expected.append(None)
        del rows[:size]
        requests.append((batch, expected))
    return requests


def post_all(served: Served, requests: list[Any], threads: int = 3) -> list[dict[str, Any]]:
    """Post every request from ``threads`` connections; each answer, in request order."""
    answers: list[dict[str, Any]] = [{} for _ in requests]
    errors: list[BaseException] = []

    def worker(indices: list[int]) -> None:
        client = ApiClient(served)
        try:
            for index in indices:
                batch, _ = requests[index]
                key = f"load-{index}-{uuid.uuid4()}" if index % 2 else None
                status, headers, body = client.post(batch, key)
                assert status == 200, (status, body)
                answers[index] = {"key": key, "body": body, "headers": headers}
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            client.close()

    workers = [
        threading.Thread(target=worker, args=(list(range(n, len(requests), threads)),))
        for n in range(threads)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if errors:
        raise errors[0]
    return answers


def lake_rows(out: Path, table: str, columns: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        pattern = str(out / "lake" / table / "*" / "*.parquet")
        return con.execute(
            f"SELECT {columns} FROM read_parquet('{pattern}', hive_partitioning = true)"
        ).fetchall()
    finally:
        con.close()


def dashboard(out: Path, name: str) -> str:
    path = out / "report" / f"{name}.html"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def latest_sources(out: Path) -> list[str]:
    path = out / "report" / "latest_ingests.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [row["source_file"] for row in csv.DictReader(handle)]


def test_every_booking_posted_is_in_the_lake_or_rejected_with_its_reason(tmp_path: Path) -> None:
    requests = traffic(seed=23, bookings=3000)
    with serving(tmp_path, "--refresh", "1", "--report-every", "1") as served:
        answers = post_all(served, requests)
        # The dashboards' latest-ingests table moves as bookings arrive.
        last = next(a["body"]["source_file"] for a in reversed(answers) if a["body"]["accepted"])
        assert wait_for(lambda: last in latest_sources(tmp_path)[:25], timeout=90)
        assert wait_for(lambda: last in dashboard(tmp_path, "marketing"), timeout=30)

        # A retried request with the same key gets the same answer and adds nothing.
        index = next(i for i, a in enumerate(answers) if a["key"] and a["body"]["accepted"])
        client = ApiClient(served)
        status, headers, body = client.post(requests[index][0], answers[index]["key"])
        client.close()
        assert (status, headers["Idempotency-Replayed"]) == (200, "true")
        assert body == answers[index]["body"]
        assert served.stop(signal.SIGTERM) == 0

    sent: dict[tuple[str, int], Any] = {}
    expected_rejected: dict[tuple[str, int], list[str]] = {}
    accepted_ids: dict[str, tuple[str, int]] = {}
    for (batch, expected), answer in zip(requests, answers, strict=True):
        body = answer["body"]
        source = body["source_file"]
        assert [a["index"] for a in body["accepted"]] == [
            i for i, reasons in enumerate(expected) if reasons is None
        ]
        assert [r["index"] for r in body["rejected"]] == [
            i for i, reasons in enumerate(expected) if reasons is not None
        ]
        for item in body["accepted"]:
            sent[(source, item["index"] + 1)] = batch[item["index"]]
            accepted_ids[item["booking_id"]] = (source, item["index"] + 1)
        for item in body["rejected"]:
            reasons = expected[item["index"]]
            assert [f"{e['field']}:{e['rule']}" for e in item["errors"]] == reasons
            expected_rejected[(source, item["index"] + 1)] = reasons

    bookings = lake_rows(
        tmp_path, "bookings", "booking_id, source_file, row_number, " + ", ".join(FIELDS)
    )
    rejected = lake_rows(tmp_path, "rejected_bookings", "source_file, row_number, reasons")
    posted = sum(len(batch) for batch, _ in requests)
    assert len(bookings) + len(rejected) == posted
    assert len(bookings) == len(accepted_ids) == len({row[0] for row in bookings})
    for booking_id, source, row_number, *values in bookings:
        assert accepted_ids[booking_id] == (source, row_number)
        assert dict(zip(FIELDS, values, strict=True)) == sent[(source, row_number)]
    assert {(s, n): list(reasons) for s, n, reasons in rejected} == expected_rejected
    assert 200 < len(rejected) < 400
    assert not (tmp_path / "quarantine" / "stream").exists()
    assert "stopped:" in served.lines[-1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_server_with_everything_accepted_written(
    tmp_path: Path, sig: signal.Signals
) -> None:
    (batch, _), (other, _) = traffic(seed=4, bookings=120)[:2]
    with serving(tmp_path, "--refresh", "600", "--no-report") as served:
        client = ApiClient(served)
        answers = [client.post(batch)[2], client.post(other, "signal-test")[2]]
        client.close()
        # Nothing has reached the lake yet: the refresh is ten minutes away.
        assert not (tmp_path / "lake" / "bookings").exists() or not list(
            (tmp_path / "lake" / "bookings").rglob("*.parquet")
        )
        assert served.stop(sig) == 0
    accepted = {a["booking_id"] for answer in answers for a in answer["accepted"]}
    in_lake = {row[0] for row in lake_rows(tmp_path, "bookings", "booking_id")}
    assert accepted
    assert in_lake == accepted
    assert (tmp_path / "catalog.duckdb").is_file()

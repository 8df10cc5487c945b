"""The live bookings API offline: ``bookings serve`` on loopback, as a client sees it.

- Sustained: for ``SUSTAIN_SECONDS`` (60), ``CLIENTS`` keep-alive connections post batches of
  100 generated bookings as fast as they are answered; bookings accepted per second over the
  whole run and over each 10-second window (target: at least 1,000/s in every window).
- Latency: requests of 1 booking, then of 100, one at a time, with an ``Idempotency-Key`` (as
  a client that retries sends them) and without; p50 and p99 of the time from sending to the
  whole answer read.
- Nothing lost: the server is stopped with SIGTERM, then the lake must hold exactly the
  bookings the answers accepted (each once).

Machines differ, and so does what else they run: the server's CPU time is measured too, and
the bookings it accepts per CPU-second are reported beside the wall-clock rate (with the load
average at the end of the sustained phase).

The server runs with its defaults (every 10 seconds the stream's processor runs, the lake export
and the report are rebuilt), in its own process; the clients share the machine with it.
``python -m benchmarks api`` runs it alone (``make bench`` runs every ``bench_*.py``).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

SUSTAIN_SECONDS = 60.0
WINDOW_SECONDS = 10.0
CLIENTS = 3
BATCH = 100
# (bookings per request, with an Idempotency-Key): requests measured.
LATENCY_REQUESTS = {(1, True): 300, (100, True): 120, (1, False): 300, (100, False): 120}
TARGET_BOOKINGS_PER_SECOND = 1000
POOL = 20_000
URL = re.compile(r"POST (http://127\.0\.0\.1:(\d+))/v1/bookings")


def _bookings() -> list[bytes]:
    """Batches of generated bookings, encoded once (each request still gets its own source)."""
    from booking_core.schema import REQUIRED_FIELDS

    from bookings.generator import generate_rows

    rows = [{name: row[name] for name in REQUIRED_FIELDS} for row in generate_rows(POOL, seed=7)]
    return [json.dumps(rows[i : i + BATCH]).encode() for i in range(0, POOL, BATCH)]


def _post(
    connection: http.client.HTTPConnection, body: bytes, *, keyed: bool = True
) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if keyed:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    connection.request("POST", "/v1/bookings", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _sustain(port: int, batches: list[bytes]) -> dict[str, Any]:
    accepted_at: list[tuple[float, int]] = []
    accepted_ids: set[str] = set()
    failures: list[str] = []
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + SUSTAIN_SECONDS

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = offset
        try:
            while time.perf_counter() < deadline:
                status, body = _post(connection, batches[n % len(batches)])
                n += CLIENTS
                if status != 200:
                    failures.append(f"{status}: {body}")
                    continue
                ids = [item["booking_id"] for item in body["accepted"]]
                with lock:
                    accepted_at.append((time.perf_counter() - started, len(ids)))
                    accepted_ids.update(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = sum(count for _, count in accepted_at)
    windows = []
    for start in range(0, int(SUSTAIN_SECONDS), int(WINDOW_SECONDS)):
        in_window = sum(c for t, c in accepted_at if start <= t < start + WINDOW_SECONDS)
        windows.append(round(in_window / WINDOW_SECONDS))
    return {
        "seconds": round(elapsed, 1),
        "clients": CLIENTS,
        "batch": BATCH,
        "requests": len(accepted_at),
        "bookings_accepted": total,
        "bookings_per_s": round(total / elapsed),
        "bookings_per_s_by_10s_window": windows,
        "failed_requests": len(failures),
        "ids": accepted_ids,
    }


def _latency(port: int, batches: list[bytes]) -> tuple[dict[str, Any], set[str]]:
    result: dict[str, Any] = {}
    ids: set[str] = set()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for (size, keyed), count in LATENCY_REQUESTS.items():
            seconds = []
            for n in range(count):
                rows = json.loads(batches[n % len(batches)])[:size]
                body = json.dumps(rows).encode()
                mark = time.perf_counter()
                status, answer = _post(connection, body, keyed=keyed)
                seconds.append(time.perf_counter() - mark)
                if status != 200:
                    raise RuntimeError(f"batch of {size}: {status} {answer}")
                ids.update(item["booking_id"] for item in answer["accepted"])
            result[f"batch_{size}" + ("" if keyed else "_without_key")] = {
                "requests": count,
                "p50_ms": round(statistics.median(seconds) * 1000, 1),
                "p99_ms": round(_percentile(seconds, 0.99) * 1000, 1),
                "max_ms": round(max(seconds) * 1000, 1),
            }
    finally:
        connection.close()
    return result, ids


def _lake_ids(out: Path) -> list[str]:
    import duckdb

    pattern = str(out / "lake" / "bookings" / "*" / "*.parquet")
    con = duckdb.connect()
    try:
        return [
            row[0]
            for row in con.execute(f"SELECT booking_id FROM read_parquet('{pattern}')").fetchall()
        ]
    finally:
        con.close()


def run() -> dict[str, Any]:
    batches = _bookings()
    with tempfile.TemporaryDirectory(prefix="bookings-bench-api-") as scratch:
        out = Path(scratch) / "out"
        log = Path(scratch) / "serve.log"
        with log.open("w+") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "bookings", "serve", "--out", str(out), "--port", "0"],
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                port = 0
                for _ in range(600):
                    found = URL.search(log.read_text())
                    if found:
                        port = int(found[2])
                        break
                    if server.poll() is not None:
                        break
                    time.sleep(0.2)
                if not port:
                    raise RuntimeError(f"bookings serve did not start: {log.read_text()[-500:]}")
                process = psutil.Process(server.pid)
                cpu_before = sum(process.cpu_times()[:2])
                sustained = _sustain(port, batches)
                server_cpu = sum(process.cpu_times()[:2]) - cpu_before
                sustained["server_cpu_seconds"] = round(server_cpu, 1)
                # Independent of what else the machine runs: the bookings one CPU-second of
                # the server accepts (it serves from one process, mostly on one core).
                sustained["bookings_per_server_cpu_second"] = round(
                    sustained["bookings_accepted"] / max(server_cpu, 1e-9)
                )
                sustained["load_average_1min_after"] = round(os.getloadavg()[0], 1)
                latency, latency_ids = _latency(port, batches)
                stop_started = time.perf_counter()
                server.send_signal(signal.SIGTERM)
                code = server.wait(timeout=300)
                stop_seconds = time.perf_counter() - stop_started
            finally:
                if server.poll() is None:
                    server.kill()
            if code != 0:
                raise RuntimeError(f"bookings serve exited {code}: {log.read_text()[-500:]}")
        in_lake = _lake_ids(out)
        accepted = sustained.pop("ids") | latency_ids
        windows = sustained["bookings_per_s_by_10s_window"]
        machine = f"{platform.machine()}, {os.cpu_count()} cpus"
        return {
            "machine": f"{machine}, Python {platform.python_version()}",
            "sustained": sustained,
            "latency": latency,
            "stop_seconds": round(stop_seconds, 1),
            "accepted": len(accepted),
            "in_lake": len(in_lake),
            "nothing_lost": len(in_lake) == len(set(in_lake)) == len(accepted)
            and set(in_lake) == accepted,
            "target_bookings_per_s": TARGET_BOOKINGS_PER_SECOND,
            "target_met_in_every_window": min(windows) >= TARGET_BOOKINGS_PER_SECOND,
        }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

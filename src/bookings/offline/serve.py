"""``bookings serve``: the HTTP API on this machine, delivering into the offline lake.

A ``LiveServer`` runs an ``OfflineSession`` (the template's stack on moto, the real handlers)
behind a threaded HTTP server on loopback. Each request is routed by the template's ``HttpApi``
events and becomes the payload format 2.0 event API Gateway would send
(``emulator.http_api``); the function's answer is the HTTP response. What the function puts to
the delivery stream waits in the emulated stream's buffer.

Every second (``tick``) the stream's processor (TransformStream) runs on what was buffered, in
batches of its buffer size (``emulator.firehose``), as Firehose runs it at its buffer interval.
Every ``refresh`` seconds what it delivered and the rejected bookings the function kept move to
``DIR/lake/`` in part files of their own (records the processor failed go to
``DIR/quarantine/stream/``), and every ``report_seconds`` at most, when anything arrived,
``DIR/report/`` is rebuilt, so the dashboards' latest-ingests table shows the requests just
posted. ``stop()`` (SIGINT or SIGTERM in ``bookings serve``) stops
accepting connections, lets the requests in progress finish, then exports everything they
accepted, rebuilds the catalog and the report, and returns the totals: nothing accepted is
left behind. A process killed outright (SIGKILL) loses what was not exported yet: at most one
refresh interval of bookings.

A booking delivered twice (the same request retried with the same ``Idempotency-Key`` after a
restart, when the emulated idempotency table is new) is stored once: the rows of ``api#``
sources already in the lake are skipped, as a file's are.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, TextIO

from bookings.lake import BOOKINGS_TABLE, REJECTED_TABLE
from bookings.offline.emulator import LambdaInvocationError
from bookings.offline.emulator.http_api import (
    MAX_REQUEST_BYTES,
    HttpAnswer,
    Route,
    find_route,
    function_answer,
    gateway_answer,
    http_routes,
    request_event,
)
from bookings.offline.export import seen_rows_of_sources
from bookings.offline.session import OfflineSession

DEFAULT_HOST: Final = "127.0.0.1"
# The port `sam local start-api` listens on by default.
DEFAULT_PORT: Final = 3000
DEFAULT_REFRESH_SECONDS: Final = 10.0
# The report (every KPI over the whole lake, the workbook, the dashboards) costs seconds of CPU
# on a large lake: rebuilt at most this often while serving, and once more at the end.
DEFAULT_REPORT_SECONDS: Final = 30.0
# How often the stream's processor runs on what the requests put (Firehose's processor buffer
# interval is a minute in AWS; offline the work is spread out instead of landing at each refresh).
STREAM_FLUSH_SECONDS: Final = 1.0
# An idle keep-alive connection is closed after this long (so stopping never waits longer).
IDLE_CONNECTION_SECONDS: Final = 2.0
API_SOURCE_PREFIX: Final = "api#"
ACCESS_LOG: Final = "logs/api.log"
REPORT_DIR: Final = "report"


@dataclass
class ServeTotals:
    """What a serving session did."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    bookings_exported: int = 0
    rejected_exported: int = 0
    skipped: int = 0
    stream_failed: int = 0
    refreshes: int = 0
    report_errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "bookings_exported": self.bookings_exported,
            "rejected_exported": self.rejected_exported,
            "skipped_already_stored": self.skipped,
            "stream_failed": self.stream_failed,
            "refreshes": self.refreshes,
            "report_errors": self.report_errors,
        }


class _Server(ThreadingHTTPServer):
    # Requests in progress are waited for on close (their threads are not daemons).
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], live: LiveServer) -> None:
        self.live = live
        self.stopping = False
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line in the access log (a client gone mid-answer...), not a traceback."""
        error = sys.exc_info()[1]
        self.live.log(f"{client_address[0]}: connection ended: {type(error).__name__}: {error}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """The server's own messages go to the access log, not to the terminal."""
        self.server.live.log(f"{self.address_string()} {format % args}")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Logged by ``_serve`` with the time taken instead."""

    def _serve(self) -> None:
        started = time.perf_counter()
        answer = self._answer()
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("content-length", str(len(answer.body)))
        if self.server.stopping or self.close_connection:
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)
        seconds = time.perf_counter() - started
        self.server.live.record(self.command, self.path, answer.status, seconds)

    def _answer(self) -> HttpAnswer:
        live = self.server.live
        length = self.headers.get("content-length")
        chunked = "chunked" in (self.headers.get("transfer-encoding") or "").lower()
        try:
            size = int(length) if length is not None else 0
        except ValueError:
            self.close_connection = True
            return gateway_answer(400, "Bad Request")
        if size > MAX_REQUEST_BYTES:
            # The body is not read: the connection cannot be reused.
            self.close_connection = True
            return gateway_answer(413, "Request Entity Too Large")
        try:
            body = self._read_chunked() if chunked else self.rfile.read(size) if size else b""
        except ValueError:
            self.close_connection = True
            return gateway_answer(400, "Bad Request")
        if body is None:
            self.close_connection = True
            return gateway_answer(413, "Request Entity Too Large")
        route = find_route(live.routes, self.command, self.path.split("?", 1)[0])
        if route is None:
            return gateway_answer(404, "Not Found")
        return live.invoke(route, self, body)

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            line = self.rfile.readline(65537)
            chunk = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if chunk == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + chunk > MAX_REQUEST_BYTES:
                return None
            body += self.rfile.read(chunk)
            self.rfile.readline(65537)


class LiveServer:
    """The HTTP API of one offline session, and the export of what it delivers."""

    def __init__(
        self,
        session: OfflineSession,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        report_seconds: float | None = DEFAULT_REPORT_SECONDS,
    ) -> None:
        stack = session.stack
        if stack is None:
            raise RuntimeError("the offline session is not started")
        self.session = session
        self.stack = stack
        self.out_dir = Path(session.out_dir)
        self.routes: dict[tuple[str, str], Route] = http_routes(stack.resolver, stack.functions)
        # The stream's processor runs at each tick on what the requests put since the last one,
        # in batches of its buffer size (as Firehose runs it at its buffer interval), rather
        # than once per request.
        stack.streams.flush_after_each_invocation = False
        self.refresh_seconds = refresh_seconds
        # None: the report is not rebuilt while serving (nor at the end).
        self.report_seconds = report_seconds
        self._report_due = False
        self._last_report = float("-inf")
        self.totals = ServeTotals()
        self._seen = seen_rows_of_sources(self.out_dir, API_SOURCE_PREFIX)
        self._lock = threading.Lock()
        log_path = self.out_dir / ACCESS_LOG
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: TextIO = log_path.open("a", encoding="utf-8")
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None
        self._last_refresh = time.monotonic()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- requests -------------------------------------------------------------------------------
    def invoke(self, route: Route, handler: BaseHTTPRequestHandler, body: bytes) -> HttpAnswer:
        event = request_event(
            route,
            method=handler.command,
            target=handler.path,
            headers=list(handler.headers.items()),
            body=body,
            source_ip=handler.client_address[0],
            host=handler.headers.get("host", "localhost"),
            account=self.stack.account,
        )
        try:
            payload = self.stack.invoke(route.function.logical_id, event)
        except LambdaInvocationError as exc:
            self.log(f"{route.key}: the function failed: {exc}")
            return gateway_answer(500, "Internal Server Error")
        return function_answer(payload)

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.totals.requests += 1
            self.totals.statuses[status] += 1
        self.log(f"{method} {path} {status} {seconds * 1000:.1f}ms")

    def log(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with self._lock:
            self._log.write(f"{stamp} {line}\n")
            self._log.flush()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bookings-serve", daemon=True
        )
        self._thread.start()

    def tick(self) -> None:
        """Run the stream's processor on what was put since the last tick, and refresh the
        lake and the report when ``refresh_seconds`` have passed since the last refresh."""
        self.stack.streams.flush()
        if time.monotonic() - self._last_refresh >= self.refresh_seconds:
            self.refresh()

    def refresh(self) -> bool:
        """Export what was delivered since the last refresh; rebuild the report if anything
        arrived. Returns whether anything did."""
        self._last_refresh = time.monotonic()
        counts = self.session.export_pending(self._seen)
        self.totals.refreshes += 1
        self.totals.bookings_exported += counts.bookings
        self.totals.rejected_exported += counts.rejected
        self.totals.skipped = (
            self._seen[BOOKINGS_TABLE].skipped + self._seen[REJECTED_TABLE].skipped
        )
        self.totals.stream_failed = self.session.stream_failed
        arrived = bool(counts.bookings or counts.rejected)
        self._report_due = self._report_due or arrived
        if (
            self._report_due
            and self.report_seconds is not None
            and time.monotonic() - self._last_report >= self.report_seconds
        ):
            self._build_report()
        return arrived

    def _build_report(self) -> None:
        from bookings.analytics.engine import QueryError
        from bookings.analytics.report import build_report

        self._last_report = time.monotonic()
        self._report_due = False
        try:
            build_report(self.out_dir, self.out_dir / REPORT_DIR)
        except (QueryError, OSError) as exc:
            message = " ".join(str(exc).split())
            self.totals.report_errors.append(message)
            self.log(f"report not rebuilt: {message}")

    def stop(self) -> ServeTotals:
        """Stop accepting, finish the requests in progress, export everything they accepted,
        rebuild the catalog and the report."""
        self._server.stopping = True
        self._server.shutdown()
        # Joins the request threads: a request in progress finishes and is answered.
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self.refresh()
        self.session.build_catalog()
        if self.report_seconds is not None and (
            self._report_due or not (self.out_dir / REPORT_DIR).is_dir()
        ):
            self._build_report()
        with contextlib.suppress(OSError):
            self._log.close()
        return self.totals

    def summary(self) -> str:
        totals = self.totals
        statuses = ", ".join(f"{n} x {status}" for status, n in sorted(totals.statuses.items()))
        return (
            f"{totals.requests:,} request(s) ({statuses or 'none'}); "
            f"{totals.bookings_exported:,} booking(s) and {totals.rejected_exported:,} rejected "
            f"booking(s) written to {self.out_dir / 'lake'}; "
            f"{totals.stream_failed:,} record(s) failed by the stream's processor"
        )


def write_totals(path: Path, totals: ServeTotals) -> None:
    path.write_text(json.dumps(totals.to_json(), indent=2) + "\n", encoding="utf-8")

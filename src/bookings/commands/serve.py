"""``bookings serve --out DIR [--port P]``: the HTTP API on loopback, into the offline lake."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bookings.offline.serve import (
        DEFAULT_PORT,
        DEFAULT_REFRESH_SECONDS,
        DEFAULT_REPORT_SECONDS,
    )

    parser = subparsers.add_parser(
        "serve",
        help="serve the live bookings API (POST /v1/bookings) on loopback, into DIR/lake",
        description="Starts the offline stack of template.yaml and serves its HTTP API on "
        "127.0.0.1: each request becomes the API Gateway event (payload format 2.0) the "
        "IngestApi function receives in AWS, what it delivers goes through the delivery "
        "stream's TransformStream into DIR/lake/, and DIR/report/ (the dashboards) is rebuilt "
        "as bookings arrive. No authorisation offline: it listens on loopback only. Ctrl-C or "
        "SIGTERM stops it once everything accepted is written.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--refresh",
        type=float,
        default=DEFAULT_REFRESH_SECONDS,
        metavar="SECONDS",
        help="how often what was delivered moves to DIR/lake "
        f"(default {DEFAULT_REFRESH_SECONDS:g})",
    )
    parser.add_argument(
        "--report-every",
        type=float,
        default=DEFAULT_REPORT_SECONDS,
        metavar="SECONDS",
        help="rebuild DIR/report (the dashboards) at most this often when bookings arrived, "
        f"and at the end (default {DEFAULT_REPORT_SECONDS:g})",
    )
    parser.add_argument("--no-report", action="store_true", help="do not rebuild DIR/report")
    parser.add_argument("--json", action="store_true", help="print the totals as JSON at the end")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bookings.offline.lock import OutputFolderBusyError
    from bookings.offline.serve import STREAM_FLUSH_SECONDS, LiveServer, write_totals
    from bookings.offline.session import OfflineRunError, OfflineSession

    if args.refresh <= 0 or args.report_every < 0:
        print(
            "error: --refresh must be more than 0 seconds, --report-every at least 0",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del frame
        stop.set()
        print(f"{signal.Signals(signum).name}: stopping", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with OfflineSession(args.out) as session:
            try:
                server = LiveServer(
                    session,
                    port=args.port,
                    refresh_seconds=args.refresh,
                    report_seconds=None if args.no_report else args.report_every,
                )
            except OSError as exc:
                print(
                    f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
                    file=sys.stderr,
                )
                return 2
            out = session.stdout
            server.start()
            print(
                f"serving POST {server.url}/v1/bookings and GET {server.url}/v1/openapi.json "
                f"into {session.out_dir}; Ctrl-C to stop",
                file=out,
                flush=True,
            )
            while not stop.wait(min(STREAM_FLUSH_SECONDS, args.refresh)):
                server.tick()
            totals = server.stop()
            write_totals(session.out_dir / "serve.json", totals)
            if args.json:
                print(json.dumps(totals.to_json()), file=out, flush=True)
            else:
                print(f"stopped: {server.summary()}", file=out, flush=True)
    except (OfflineRunError, OutputFolderBusyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0

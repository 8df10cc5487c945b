"""`bookings serve` in a subprocess, for the tests that talk to it over loopback."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URL = re.compile(r"POST (http://127\.0\.0\.1:\d+)/v1/bookings")
START_SECONDS = 120.0


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    out: Path
    lines: list[str]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120.0) -> int:
        """Send ``sig`` and wait for the process to end; its exit code."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def serving(out: Path, *args: str) -> Iterator[Served]:
    """``bookings serve --out OUT --port 0 ARGS`` running until the block ends."""
    command = [sys.executable, "-m", "bookings", "serve", "--out", str(out), "--port", "0", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            match = URL.search(line)
            if match and not found:
                found.append(match[1])
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait(START_SECONDS)
    if not found:
        process.kill()
        raise AssertionError("bookings serve did not start:\n" + "\n".join(lines))
    served = Served(process, found[0], out, lines)
    try:
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        reader.join(timeout=10)


class ApiClient:
    """One keep-alive connection to the served API."""

    def __init__(self, served: Served) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)

    def post(
        self, bookings: Any, key: str | None = None, *, raw: bytes | None = None
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"content-type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        body = raw if raw is not None else json.dumps(bookings).encode()
        self.connection.request("POST", "/v1/bookings", body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data)

    def close(self) -> None:
        self.connection.close()


def wait_for(condition: Any, timeout: float = 60.0, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())

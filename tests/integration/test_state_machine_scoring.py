"""The ingest state machine with a model endpoint: scored when it answers, delivered unscored
when it fails (moto's interpreter, the real handlers, a local HTTP endpoint speaking the
SageMaker runtime protocol)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from support.paths import ROOT

from bookings.offline.emulator import EmulatedStack

CLEAN = ROOT / "data" / "sample_bookings.csv"

pytestmark = pytest.mark.slow


def assert_reconciled(stack: EmulatedStack, summary: dict[str, Any]) -> list[dict[str, Any]]:
    assert summary["rows"] == summary["valid"] + summary["rejected"]
    assert summary["delivered"] == summary["valid"]
    records = [
        r
        for r in stack.read_json_lines("curated/bookings/")
        if r["source_file"] == summary["source_file"]
    ]
    assert len(records) == len({r["booking_id"] for r in records}) == summary["valid"]
    return records


class FailingEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b'{"message": "model crashed"}')

    def log_message(self, *args: Any) -> None:
        return None


class ScoringEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        answer = "".join(
            json.dumps(
                {
                    "booking_complete_probability": round(r["num_passengers"] / 10, 3),
                    "model_version": "test-1",
                }
            )
            + "\n"
            for r in lines
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/jsonlines")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def endpoint_server(request: pytest.FixtureRequest) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# Scoring is switched on as a deployment switches it on (the template's parameter), so Score's
# role may invoke the endpoint; the runtime URL sends the calls to the local server.
EXISTING_ENDPOINT = {"SageMakerEndpointName": "bookings-model"}


@pytest.mark.parametrize("endpoint_server", [FailingEndpoint], indirect=True)
def test_a_failing_endpoint_leaves_records_unscored_but_delivered(endpoint_server: str) -> None:
    environment = {"SAGEMAKER_RUNTIME_URL": endpoint_server}
    with EmulatedStack(
        ROOT / "template.yaml", overrides=EXISTING_ENDPOINT, environment=environment
    ) as stack:
        outcome = stack.put_file(CLEAN, "incoming/unscored.csv")
        assert outcome is not None
        assert outcome.status == "SUCCEEDED", outcome.cause
        summary = outcome.output
        assert summary["scored"] == 0
        assert summary["unscored"] == summary["delivered"] == summary["valid"]
        assert_reconciled(stack, summary)


@pytest.mark.parametrize("endpoint_server", [ScoringEndpoint], indirect=True)
def test_a_working_endpoint_scores_every_record(endpoint_server: str) -> None:
    environment = {
        "SAGEMAKER_RUNTIME_URL": endpoint_server,
        "SCORE_MAX_PAYLOAD_BYTES": "200000",  # several requests per chunk
    }
    with EmulatedStack(
        ROOT / "template.yaml", overrides=EXISTING_ENDPOINT, environment=environment
    ) as stack:
        outcome = stack.put_file(CLEAN, "incoming/scored.csv")
        assert outcome is not None
        assert outcome.status == "SUCCEEDED", outcome.cause
        assert outcome.output["scored"] == outcome.output["valid"]
        records = assert_reconciled(stack, outcome.output)
        assert all(
            r["booking_complete_probability"] == round(r["num_passengers"] / 10, 3)
            and r["model_version"] == "test-1"
            for r in records
        )

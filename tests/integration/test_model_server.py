"""The local endpoint: SageMaker's container protocol and the runtime API boto3 calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from booking_core.schema import REQUIRED_FIELDS
from botocore.exceptions import ClientError
from support.ml_helpers import enriched_bookings, train_small_model

from bookings.generator import generate_rows
from bookings.ml.inference import BookingModel, load_model
from bookings.ml.server import start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BookingModel, str]]:
    _, written = train_small_model(tmp_path_factory.mktemp("served-model"), n=3000, seed=8)
    server, url = start_server(written.archive)
    try:
        yield load_model(written.archive), url
    finally:
        stop_server(server)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value))


def _jsonlines(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, default=_json_default) + "\n" for r in records).encode()


def _post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _answers(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines()]


def test_ping(served: tuple[BookingModel, str]) -> None:
    _, url = served
    with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
        assert response.status == 200


def test_invocations_answer_one_line_per_record_in_order(served: tuple[BookingModel, str]) -> None:
    model, url = served
    records = enriched_bookings(40, seed=90)
    status, headers, body = _post(
        f"{url}/invocations", _jsonlines(records), "application/jsonlines"
    )
    assert status == 200
    assert headers["Content-Type"] == "application/jsonlines"
    answers = _answers(body)
    assert len(answers) == 40
    assert {a["model_version"] for a in answers} == {model.model_version}
    expected = model.predict_records(records)
    np.testing.assert_allclose([a["booking_complete_probability"] for a in answers], expected)


def test_csv_with_or_without_header_is_validated_and_enriched(
    served: tuple[BookingModel, str],
) -> None:
    model, url = served
    rows = list(generate_rows(5, seed=91))
    lines = [",".join(str(row[f]) for f in REQUIRED_FIELDS) for row in rows]
    lines[2] = (
        lines[2].replace(",Internet,", ",Carrier pigeon,").replace(",Mobile,", ",Carrier pigeon,")
    )
    headed = ",".join(REQUIRED_FIELDS) + "\r\n" + "\r\n".join(lines)
    for body in (headed, "\n".join(lines)):
        status, _, payload = _post(f"{url}/invocations", body.encode(), "text/csv")
        assert status == 200
        answers = _answers(payload)
        assert len(answers) == 5
        assert answers[2]["booking_complete_probability"] is None
        assert "sales_channel" in answers[2]["error"]
        valid = [a["booking_complete_probability"] for i, a in enumerate(answers) if i != 2]
        assert all(0 <= p <= 1 for p in valid)
    # the same bookings sent as enriched JSON lines get the same scores
    records = enriched_bookings(5, seed=91)
    expected = model.predict_records([r for i, r in enumerate(records) if i != 2])
    np.testing.assert_allclose(valid, expected)


def test_boto3_invoke_endpoint_reaches_the_local_server(
    served: tuple[BookingModel, str], aws_env: None
) -> None:
    model, url = served
    runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1")
    records = enriched_bookings(3, seed=92)
    response = runtime.invoke_endpoint(
        EndpointName="booking-completion",
        Body=_jsonlines(records),
        ContentType="application/jsonlines",
        Accept="application/jsonlines",
    )
    assert response["ContentType"] == "application/jsonlines"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    answers = _answers(response["Body"].read())
    np.testing.assert_allclose(
        [a["booking_complete_probability"] for a in answers], model.predict_records(records)
    )
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(
            EndpointName="booking-completion", Body=b"<xml/>", ContentType="application/xml"
        )
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "unsupported content type" in error.value.response["Error"]["Message"]


def test_malformed_requests_are_refused_with_a_message(served: tuple[BookingModel, str]) -> None:
    _, url = served
    status, _headers, body = _post(
        f"{url}/invocations", b'{"a": 1}\nnot json\n', "application/jsonlines"
    )
    assert status == 400
    assert "line 2" in json.loads(body)["message"]
    status, _, _ = _post(f"{url}/nowhere", b"", "application/jsonlines")
    assert status == 404


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model here"):
        start_server(tmp_path)

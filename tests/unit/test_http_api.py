"""The emulated HTTP API: the template's routes, the payload format 2.0 event a request
becomes (parsed by the model the handler parses it with), and how an answer is read back."""

from __future__ import annotations

import base64
import json

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from booking_core.workflow import parse_event
from support.paths import ROOT

from bookings.offline.emulator.http_api import (
    Route,
    find_route,
    function_answer,
    gateway_answer,
    http_routes,
    request_event,
)
from bookings.offline.emulator.lambda_dispatch import read_functions
from bookings.offline.emulator.template_resolver import TemplateResolver
from bookings.offline.template import load_template


def routes() -> dict[tuple[str, str], Route]:
    template = load_template(ROOT / "template.yaml")
    resolver = TemplateResolver(
        template, parameters={}, region="us-east-1", account="123456789012", stack_name="s"
    )
    return http_routes(resolver, read_functions(resolver, ROOT))


def test_the_routes_are_the_template_http_api_events() -> None:
    found = routes()
    assert set(found) == {("POST", "/v1/bookings"), ("GET", "/v1/openapi.json")}
    assert {route.function.logical_id for route in found.values()} == {"IngestApiFunction"}
    assert find_route(found, "post", "/v1/bookings") is not None
    assert find_route(found, "GET", "/v1/bookings") is None


def test_a_request_becomes_the_event_api_gateway_sends() -> None:
    route = routes()[("POST", "/v1/bookings")]
    body = json.dumps([{"route": "AKLDEL"}]).encode()
    event = request_event(
        route,
        method="POST",
        target="/v1/bookings?dry=1&tag=a&tag=b",
        headers=[
            ("Content-Type", "application/json"),
            ("X-Trace", "1"),
            ("x-trace", "2"),
            ("Cookie", "a=1; b=2"),
            ("Idempotency-Key", "k-1"),
        ],
        body=body,
        source_ip="127.0.0.1",
        host="127.0.0.1:3000",
        account="123456789012",
    )
    request = parse_event(event, APIGatewayProxyEventV2Model)
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "POST /v1/bookings",
        "/v1/bookings",
    )
    assert event["rawQueryString"] == "dry=1&tag=a&tag=b"
    assert event["queryStringParameters"] == {"dry": "1", "tag": "a,b"}
    assert event["headers"]["x-trace"] == "1,2"
    assert event["headers"]["idempotency-key"] == "k-1"
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert request.body == body.decode()
    assert request.isBase64Encoded is False
    assert request.requestContext.http.method == "POST"
    assert request.requestContext.stage == "$default"

    binary = request_event(
        route,
        method="POST",
        target="/v1/bookings",
        headers=[("content-type", "application/octet-stream")],
        body=b"\x00\xff",
        source_ip="127.0.0.1",
        host="localhost",
        account="123456789012",
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"
    other = request_event(
        route,
        method="POST",
        target="/v1/bookings",
        headers=[],
        body=b"",
        source_ip="127.0.0.1",
        host="localhost",
        account="123456789012",
    )
    assert other["requestContext"]["requestId"] != event["requestContext"]["requestId"]


def test_answers_are_read_as_payload_format_2_0_responses() -> None:
    answer = function_answer(
        {
            "statusCode": 201,
            "headers": {"content-type": "text/plain", "x-a": "1"},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"ok").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (answer.status, answer.body) == (201, b"ok")
    assert ("set-cookie", "s=1") in answer.headers
    bare = function_answer({"accepted": []})
    assert (bare.status, json.loads(bare.body)) == (200, {"accepted": []})
    assert function_answer({"statusCode": "nope"}).status == 500
    missing = gateway_answer(404, "Not Found")
    assert (missing.status, json.loads(missing.body)) == (404, {"message": "Not Found"})

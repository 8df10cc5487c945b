"""API Gateway's HTTP API, emulated: the template's routes, requests as the events a function
receives, its answers as HTTP responses.

The routes are the ``HttpApi`` events of the template's functions (``Method`` and ``Path``).
A request becomes the event API Gateway sends with payload format 2.0 (the HTTP API's default:
``version``, ``routeKey``, ``rawPath``, ``rawQueryString``, ``cookies``, ``headers`` with
lower-case names and repeated values joined by commas, ``queryStringParameters``,
``requestContext``, ``body`` and ``isBase64Encoded``), and the function's answer is read as API
Gateway reads a 2.0 response: ``statusCode``, ``headers``, ``cookies``, ``body`` (base64 when
``isBase64Encoded``); a JSON answer without ``statusCode`` is a 200 with that JSON as the body.
API Gateway's own answers keep its wording: 404 ``Not Found`` for no route, 413 ``Request
Entity Too Large`` past the function's payload limit, 500 ``Internal Server Error`` when the
function fails.

Not emulated: authorisation (the offline server listens on loopback only; in AWS the route's
authorizer checks the SigV4 signature), throttling, path parameters and custom domains.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from bookings.offline.emulator.lambda_dispatch import FunctionSpec
from bookings.offline.emulator.template_resolver import TemplateResolver

# Lambda's synchronous invocation payload limit: a larger request never reaches the function.
MAX_REQUEST_BYTES: Final = 6 * 1024 * 1024
# Content types API Gateway passes as text; any other body reaches the function in base64.
TEXT_TYPES: Final = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES: Final = ("+json", "+xml")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: FunctionSpec

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_routes(
    resolver: TemplateResolver, functions: Mapping[str, FunctionSpec]
) -> dict[tuple[str, str], Route]:
    """``(METHOD, /path)`` -> the route, from the functions' ``HttpApi`` events."""
    routes: dict[tuple[str, str], Route] = {}
    for logical_id, spec in functions.items():
        properties = resolver.resources[logical_id].get("Properties") or {}
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = resolver.resolve(event.get("Properties") or {})
            method = str(props.get("Method", "ANY")).upper()
            path = str(props.get("Path", "$default"))
            routes[(method, path)] = Route(method, path, spec)
    return routes


def find_route(routes: Mapping[tuple[str, str], Route], method: str, path: str) -> Route | None:
    return routes.get((method.upper(), path)) or routes.get(("ANY", path))


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(TEXT_TYPES) or kind.endswith(_TEXT_SUFFIXES)


def request_event(
    route: Route,
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    host: str,
    account: str,
    api_id: str = "offline",
) -> dict[str, Any]:
    """The payload format 2.0 event of one request."""
    url = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": merged,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method.upper(),
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode().rstrip("="),
            "routeKey": route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        if _is_text(merged.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def gateway_answer(status: int, message: str) -> HttpAnswer:
    """An answer of API Gateway itself."""
    body = json.dumps({"message": message}).encode()
    return HttpAnswer(status, [("content-type", "application/json")], body)


def function_answer(payload: Any) -> HttpAnswer:
    """A function's answer, read as API Gateway reads payload format 2.0 responses."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        body = json.dumps(payload).encode()
        return HttpAnswer(200, [("content-type", "application/json")], body)
    try:
        status = int(payload["statusCode"])
    except (TypeError, ValueError):
        return gateway_answer(500, "Internal Server Error")
    headers = [(str(k), str(v)) for k, v in (payload.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in payload.get("cookies") or []]
    raw = payload.get("body")
    if raw is None:
        body = b""
    elif payload.get("isBase64Encoded"):
        body = base64.b64decode(str(raw))
    else:
        body = str(raw).encode("utf-8")
    return HttpAnswer(status, headers, body)

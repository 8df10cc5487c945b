"""Contract tests generated from the HTTP API's OpenAPI document (schemathesis), run against
`bookings serve` on loopback: the same handler as in AWS, behind the emulated HTTP API.

Checks left out, and why:
- ``ignored_auth`` and ``missing_required_header``: offline there is no authorizer (the server
  listens on loopback only); in AWS the route's IAM authorizer answers 403 before the function.
- ``negative_data_rejection``: a booking that breaks the schema is answered by the function in a
  200, rejected by position with its field and rule (the API is not all or nothing); only a
  body that is no booking at all is refused as a whole (400).
- ``unsupported_method``: for a method the API has no route for, API Gateway answers 404 (no
  route), not 405.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from booking_core.api_contract import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from support.serving import Served, serving

pytestmark = pytest.mark.slow

EXAMPLES = 60
load_all_checks()
EXCLUDED = [
    CHECKS.get_one(name)
    for name in (
        "ignored_auth",
        "missing_required_header",
        "negative_data_rejection",
        "unsupported_method",
    )
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    out: Path = tmp_path_factory.mktemp("contract")
    with serving(out, "--refresh", "30", "--no-report") as running:
        yield running
        assert running.stop() == 0


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{served.url}/v1/openapi.json")


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_the_api_keeps_its_documented_contract(
    api_schema: schemathesis.BaseSchema, served: Served, mode: schemathesis.GenerationMode
) -> None:
    """Generated requests for every operation (bounded: EXAMPLES per mode), each response
    checked against the document: status documented, body and headers per their schemas,
    content type, never a server error."""

    @given(case=api_schema.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        key = (case.headers or {}).get(IDEMPOTENCY_HEADER)
        if isinstance(key, str) and re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            # Generated keys repeat across examples; the same key with another body is a 422
            # by design (tested with the handler), so each request gets a key of its own.
            case.headers[IDEMPOTENCY_HEADER] = f"{key[:95]}-{uuid.uuid4()}"
        case.call_and_validate(base_url=served.url, excluded_checks=EXCLUDED)

    check()

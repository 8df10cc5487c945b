"""The HTTP API's published contract: docs/openapi.json is what the code generates, and it
documents every status the function answers."""

from __future__ import annotations

import ast
import json

from booking_core.api_contract import (
    BOOKINGS_PATH,
    MAX_BOOKINGS_PER_REQUEST,
    OPENAPI_PATH,
    BookingsAnswer,
    openapi_document,
    openapi_text,
)
from booking_core.schema import BookingSource
from support.paths import ROOT

from bookings import api_docs

USE_CASE = ROOT / "layers" / "core" / "booking_core" / "usecases" / "bookings_api.py"


def test_the_committed_document_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_text(), "run: python -m bookings.api_docs"
    assert api_docs.main(["--check"]) == 0


def test_the_request_is_a_booking_of_the_contract_or_a_bounded_list_of_them() -> None:
    document = openapi_document()
    post = document["paths"][BOOKINGS_PATH]["post"]
    (body_schema,) = post["requestBody"]["content"].values()
    single, many = body_schema["schema"]["oneOf"]
    assert single == {"$ref": "#/components/schemas/BookingSource"}
    assert many["maxItems"] == MAX_BOOKINGS_PER_REQUEST
    booking = document["components"]["schemas"]["BookingSource"]
    assert set(booking["properties"]) == set(BookingSource.model_fields)
    assert booking["additionalProperties"] is False
    assert booking["properties"]["route"]["pattern"] == "^[A-Z]{6}$"
    answer = document["components"]["schemas"]["BookingsAnswer"]
    assert set(answer["required"]) == set(BookingsAnswer.model_fields)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {BOOKINGS_PATH, OPENAPI_PATH}


def test_every_status_the_function_answers_is_documented() -> None:
    """The statuses the use case passes to ApiAnswer/problem, read from its source."""
    tree = ast.parse(USE_CASE.read_text(encoding="utf-8"))
    answered = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) in {"ApiAnswer", "problem"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    documented = set(openapi_document()["paths"][BOOKINGS_PATH]["post"]["responses"])
    # 405 answers a method/path the HTTP API has no route for: API Gateway never passes one.
    assert {str(status) for status in answered} - {"405"} <= documented
    assert {"200", "400", "409", "413", "422", "503"} <= {str(s) for s in answered}


def test_the_document_is_plain_json() -> None:
    assert json.loads(openapi_text()) == openapi_document()

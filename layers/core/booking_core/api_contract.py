"""The HTTP API's contract: the answers' models, its limits, and its OpenAPI 3.1 document.

The document is generated from the pydantic models (the request's booking is
``schema.BookingSource``, the model every booking file row is checked against), served at
``GET /v1/openapi.json`` and committed as ``docs/openapi.json``; a test regenerates it and
compares, so the published contract cannot drift from the code.

Statuses: the function answers 200 (the request was read: every booking is accepted or
rejected, by its position), 400 (the body is not JSON, not a booking or a list of them, empty,
or the ``Idempotency-Key`` is malformed), 409 (a request with the same key is being
processed), 413 (the body is larger than ``MAX_BODY_BYTES`` or holds more than
``MAX_BOOKINGS_PER_REQUEST`` bookings), 422 (the key was used with another body) and 503 (the
bookings could not be stored: retry, with the same key). API Gateway itself answers 403 (the
request is not signed by an allowed principal), 404 (no such route), 413 (past its own payload
limit), 429 (throttled) and 500 (the function failed), with ``{"message": ...}``.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from booking_core.schema import BookingSource

API_VERSION: Final = "1.0.0"
BOOKINGS_PATH: Final = "/v1/bookings"
OPENAPI_PATH: Final = "/v1/openapi.json"
MAX_BOOKINGS_PER_REQUEST: Final = 500
MAX_BODY_BYTES: Final = 1_000_000
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN: Final = r"^[A-Za-z0-9._:-]{1,128}$"
IDEMPOTENCY_REPLAYED_HEADER: Final = "Idempotency-Replayed"


class FieldError(BaseModel):
    """One reason a booking was rejected: the field (``booking`` for the booking as a whole,
    ``row`` for the record) and the rule it broke."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(examples=["num_passengers"])
    rule: str = Field(
        examples=["out_of_range"],
        description="missing, not_integer, not_number, out_of_range, not_allowed, bad_format, "
        "too_long, control_character, unknown_field, not_a_scalar, not_an_object",
    )


class AcceptedBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="position of the booking in the request (0-based)")
    booking_id: str = Field(description="the booking's id in the lake (deterministic)")


class RejectedBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="position of the booking in the request (0-based)")
    errors: list[FieldError] = Field(min_length=1)
    message: str = Field(description="the reasons in words, the value at fault quoted")


class BookingsAnswer(BaseModel):
    """What became of each booking of the request. Accepted bookings reach the lake within the
    delivery stream's buffering time; rejected ones are kept in the rejected_bookings table."""

    model_config = ConfigDict(extra="forbid")

    source_file: str = Field(
        description="the request's source identity in the lake (api#<Idempotency-Key>, or "
        "api#<request id> without a key)"
    )
    received: int = Field(ge=1, le=MAX_BOOKINGS_PER_REQUEST)
    accepted: list[AcceptedBooking]
    rejected: list[RejectedBooking]


class Problem(BaseModel):
    """The request as a whole was not processed."""

    model_config = ConfigDict(extra="forbid")

    error: str


class GatewayMessage(BaseModel):
    """An answer of API Gateway itself (the function was not reached or failed)."""

    message: str


ANSWER_MODELS: Final = (BookingSource, BookingsAnswer, Problem, GatewayMessage)


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 document (JSON Schema 2020-12 schemas, as pydantic writes them)."""
    _, definitions = models_json_schema(
        [(model, "validation") for model in ANSWER_MODELS],
        ref_template="#/components/schemas/{model}",
    )
    booking_ref = {"$ref": "#/components/schemas/BookingSource"}
    post = {
        "operationId": "postBookings",
        "summary": "Send live bookings",
        "description": (
            f"A booking, or a list of 1 to {MAX_BOOKINGS_PER_REQUEST}. Each booking is checked "
            "like a row of a booking file and answered by its position: accepted with its "
            "booking id, or rejected with every field and rule it broke. A request is not "
            "all or nothing: the valid bookings of a request are delivered even when others "
            "are rejected. With an Idempotency-Key, a retried request (same key, same body) "
            "gets the first answer again and delivers nothing twice."
        ),
        "parameters": [
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": (
                    "Makes retries safe for 24 hours: use a new UUID per request and the same "
                    "one for its retries."
                ),
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            booking_ref,
                            {
                                "type": "array",
                                "items": booking_ref,
                                "minItems": 1,
                                "maxItems": MAX_BOOKINGS_PER_REQUEST,
                            },
                        ]
                    }
                }
            },
        },
        "responses": {
            "200": {
                **_json("BookingsAnswer", "Every booking accepted or rejected, by position"),
                "headers": {
                    IDEMPOTENCY_REPLAYED_HEADER: {
                        "description": "true when this is the stored answer of an earlier "
                        "request with the same Idempotency-Key",
                        "schema": {"type": "string", "enum": ["true", "false"]},
                    }
                },
            },
            "400": _json("Problem", "Not JSON, not bookings, empty, or a malformed key"),
            "403": _json("GatewayMessage", "Not signed by an allowed principal (API Gateway)"),
            "409": _json("Problem", "A request with the same Idempotency-Key is in progress"),
            "413": {
                "description": (
                    f"More than {MAX_BOOKINGS_PER_REQUEST} bookings or {MAX_BODY_BYTES:,} "
                    "bytes (API Gateway answers its own limits with a message)"
                ),
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Problem"},
                                {"$ref": "#/components/schemas/GatewayMessage"},
                            ]
                        }
                    }
                },
            },
            "422": _json("Problem", "The Idempotency-Key was used with another body"),
            "429": _json("GatewayMessage", "Throttled (API Gateway): retry with backoff"),
            "500": _json("GatewayMessage", "The function failed (API Gateway)"),
            "503": _json("Problem", "The bookings could not be stored: retry with the same key"),
        },
    }
    get = {
        "operationId": "getOpenApiDocument",
        "summary": "This document",
        "responses": {
            "200": {
                "description": "The OpenAPI document of this API",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "403": _json("GatewayMessage", "Not signed by an allowed principal (API Gateway)"),
            "429": _json("GatewayMessage", "Throttled (API Gateway)"),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Airline bookings: live bookings API",
            "version": API_VERSION,
            "description": (
                "Desktop and mobile clients send bookings as they are made. Requests are "
                "signed with AWS Signature Version 4 (IAM authorisation of the HTTP API)."
            ),
        },
        "paths": {BOOKINGS_PATH: {"post": post}, OPENAPI_PATH: {"get": get}},
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "AWS Signature Version 4 (service execute-api)",
                }
            },
        },
        "security": [{"sigv4": []}],
    }


def openapi_text() -> str:
    """The document as committed in docs/openapi.json (sorted keys, two-space indent)."""
    import json

    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

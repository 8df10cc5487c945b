"""The fast validator against the contract: unit cases, and a hypothesis proof that it accepts
exactly what ``BookingSource.model_validate`` accepts (after the documented normalisations),
with the same values."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from booking_core.pipeline import RejectedRecord, ValidRow, validate_stream
from booking_core.schema import (
    FLIGHT_DAYS,
    SALES_CHANNELS,
    SOURCE_FIELDS,
    TRIP_TYPES,
    BookingSource,
)
from booking_core.validation import ColumnChecker, check_field
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support.badfiles import GOOD_ROWS, HEADER, csv_text


@pytest.mark.parametrize(
    ("field", "raw", "value", "normalisations"),
    [
        ("num_passengers", "2", 2, ()),
        ("num_passengers", " 2 ", 2, ("num_passengers:trimmed_spaces",)),
        ("num_passengers", "2.0", 2, ("num_passengers:decimal_integer",)),
        ("sales_channel", "internet", "Internet", ("sales_channel:case",)),
        ("sales_channel", "MOBILE", "Mobile", ("sales_channel:case",)),
        ("trip_type", "Round Trip", "RoundTrip", ("trip_type:spelling",)),
        ("trip_type", "one-way", "OneWay", ("trip_type:spelling",)),
        ("trip_type", "circletrip", "CircleTrip", ("trip_type:case",)),
        ("flight_day", "Monday", "Mon", ("flight_day:full_day_name",)),
        ("flight_day", "SUN", "Sun", ("flight_day:case",)),
        ("route", "akldel", "AKLDEL", ("route:case",)),
        ("wants_extra_baggage", "True", 1, ("wants_extra_baggage:flag_word",)),
        ("wants_preferred_seat", "no", 0, ("wants_preferred_seat:flag_word",)),
        ("booking_complete", "YES", 1, ("booking_complete:flag_word",)),
        ("flight_duration", "5.52", 5.52, ()),
        ("flight_duration", "8", 8.0, ()),
        ("booking_origin", "(not set)", "(not set)", ()),
    ],
)
def test_values_and_normalisations(
    field: str, raw: str, value: Any, normalisations: tuple[str, ...]
) -> None:
    result = check_field(field, raw)
    assert (result.rule, result.value, result.normalisations) == (None, value, normalisations)


@pytest.mark.parametrize(
    ("field", "raw", "rule"),
    [
        ("num_passengers", "", "missing"),
        ("num_passengers", "  ", "missing"),
        ("num_passengers", "0", "out_of_range"),
        ("num_passengers", "12", "out_of_range"),
        ("num_passengers", "2.5", "not_integer"),
        ("num_passengers", "two", "not_integer"),
        ("num_passengers", "1_0", "not_integer"),
        ("purchase_lead", "-3", "out_of_range"),
        ("flight_hour", "24", "out_of_range"),
        ("wants_extra_baggage", "2", "out_of_range"),
        ("num_passengers", "yes", "not_integer"),
        ("sales_channel", "Tablet", "not_allowed"),
        ("trip_type", "Return", "not_allowed"),
        ("flight_day", "Mnd", "not_allowed"),
        ("route", "AKL-DEL", "bad_format"),
        ("route", "AKLDE", "bad_format"),
        ("route", "ßßßßß", "bad_format"),
        ("flight_duration", "nan", "not_number"),
        ("flight_duration", "5,52", "not_number"),
        ("flight_duration", "1e400", "out_of_range"),
        ("flight_duration", "31.5", "out_of_range"),
        ("booking_origin", "x" * 101, "too_long"),
    ],
)
def test_rules(field: str, raw: str, rule: str) -> None:
    result = check_field(field, raw)
    assert (result.rule, result.value) == (rule, None)


def test_the_fast_cache_holds_only_values_valid_as_written() -> None:
    checker = ColumnChecker("sales_channel")
    for raw in ("Internet", "internet", "Tablet", "Internet"):
        checker.check(raw)
    assert checker.fast == {"Internet": "Internet"}


def test_a_rejected_row_keeps_every_reason_and_a_one_line_message() -> None:
    row = [
        "12",
        "Web",
        "RoundTrip",
        "262",
        "19",
        "7",
        "Sat",
        "AKL1EL",
        "NZ",
        "1",
        "0",
        "0",
        "5.52",
        "",
    ]
    run = validate_stream(io.BytesIO(csv_text([row]).encode()), source_file="f.csv")
    (outcome,) = list(run)
    assert isinstance(outcome, RejectedRecord)
    assert outcome.reasons == [
        "num_passengers:out_of_range",
        "sales_channel:not_allowed",
        "route:bad_format",
        "booking_complete:missing",
    ]
    assert outcome.message.startswith("f.csv: row 1: num_passengers '12' is out of range 1-9; ")
    assert "\n" not in outcome.message
    assert run.summary.reasons["route:bad_format"] == 1


def test_normalisations_are_counted_for_delivered_rows() -> None:
    row = [
        " 2 ",
        "internet",
        "Round Trip",
        "262",
        "19",
        "7",
        "Saturday",
        "akldel",
        "India",
        "yes",
        "0",
        "0",
        "5.52",
        "1.0",
    ]
    run = validate_stream(io.BytesIO(csv_text([row, row]).encode()), source_file="f.csv")
    outcomes = list(run)
    assert all(isinstance(o, ValidRow) for o in outcomes)
    assert outcomes[1].is_duplicate  # type: ignore[union-attr]
    assert run.summary.normalisations == {
        "booking_complete:decimal_integer": 2,
        "flight_day:full_day_name": 2,
        "num_passengers:trimmed_spaces": 2,
        "route:case": 2,
        "sales_channel:case": 2,
        "trip_type:spelling": 2,
        "wants_extra_baggage:flag_word": 2,
    }


# --- The proof: fast validator == pydantic on the normalised text -------------------------

INTEGER_FIELDS = {
    "num_passengers",
    "purchase_lead",
    "length_of_stay",
    "flight_hour",
    "wants_extra_baggage",
    "wants_preferred_seat",
    "wants_in_flight_meals",
    "booking_complete",
}
FLAG_FIELDS = {
    "wants_extra_baggage",
    "wants_preferred_seat",
    "wants_in_flight_meals",
    "booking_complete",
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def expected_text(field: str, raw: str) -> str:
    """The documented normalisation, stated independently of the implementation."""
    text = raw.strip()
    folded = text.lower()
    if field in FLAG_FIELDS and folded in ("true", "yes"):
        return "1"
    if field in FLAG_FIELDS and folded in ("false", "no"):
        return "0"
    if field == "sales_channel":
        return next((v for v in SALES_CHANNELS if v.lower() == folded), text)
    if field == "trip_type":
        squeezed = re.sub(r"[\s_-]+", "", folded)
        return next((v for v in TRIP_TYPES if v.lower() == squeezed), text)
    if field == "flight_day":
        for short, full in zip(FLIGHT_DAYS, DAY_NAMES, strict=True):
            if folded in (short.lower(), full.lower()):
                return short
        return text
    if field == "route" and text.isascii():
        return text.upper()
    return text


def _spellings(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [value, value.lower(), value.upper(), f" {value} ", f"{value}\t", value.title()]
    )


NUMBER_TEXT = st.from_regex(r"\A[+-]?[0-9]{0,4}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?\Z")
JUNK = st.text(alphabet=st.sampled_from(list(" 0123456789.+-eEaxnN,\t\x00é")), max_size=8)


def cell(field: str) -> st.SearchStrategy[str]:
    choices: list[st.SearchStrategy[str]] = [JUNK, NUMBER_TEXT]
    if field in INTEGER_FIELDS:
        choices += [
            st.integers(-3, 1200).map(str),
            st.integers(-3, 30).map(lambda n: f"{n}.0"),
            st.integers(0, 12).map(lambda n: f"{n}.00"),
        ]
        if field in FLAG_FIELDS:
            choices.append(st.sampled_from(["true", "False", "YES", "no", "y", "1", "0"]))
    elif field == "flight_duration":
        choices += [
            st.floats(0, 30, allow_nan=False).map(repr),
            st.sampled_from(["5.52", "8", "nan", "inf", "-inf", "1e1", ".5", "24.0000001"]),
        ]
    elif field == "sales_channel":
        choices += [st.sampled_from(SALES_CHANNELS).flatmap(_spellings)]
    elif field == "trip_type":
        choices += [
            st.sampled_from(TRIP_TYPES).flatmap(_spellings),
            st.sampled_from(["Round Trip", "one-way", "Circle_Trip", "round  trip", "Return"]),
        ]
    elif field == "flight_day":
        choices += [st.sampled_from(FLIGHT_DAYS + DAY_NAMES).flatmap(_spellings)]
    elif field == "route":
        choices += [
            st.from_regex(r"\A[A-Za-z]{6}\Z"),
            st.from_regex(r"\A[A-Z]{5,7}\Z"),
            st.sampled_from(["AKL-DEL", "ÅKLDEL", "akldeß", "AKL DEL"]),
        ]
    elif field == "booking_origin":
        choices += [
            st.text(min_size=0, max_size=110),
            st.sampled_from(["(not set)", "Réunion", "Myanmar (Burma)", " India "]),
        ]
    return st.one_of(choices)


@st.composite
def booking_row(draw: st.DrawFn) -> list[str]:
    """A valid reference row with a few cells replaced by generated text (valid or not), so that
    each field's verdict shows instead of being hidden by another field's failure."""
    row = list(draw(st.sampled_from(GOOD_ROWS)))
    for index in draw(st.sets(st.integers(0, len(SOURCE_FIELDS) - 1), min_size=1, max_size=3)):
        row[index] = draw(cell(SOURCE_FIELDS[index]))
    return row


def _failed_fields(error: ValidationError) -> set[str]:
    return {str(detail["loc"][0]) for detail in error.errors()}


@settings(max_examples=600, deadline=None)
@given(st.lists(booking_row(), min_size=1, max_size=4))
def test_fast_validator_accepts_exactly_what_pydantic_accepts(rows: list[list[str]]) -> None:
    data = csv_text(rows).encode("utf-8")
    outcomes = list(validate_stream(io.BytesIO(data), source_file="prop.csv"))
    assert len(outcomes) == len(rows)
    for row, outcome in zip(rows, outcomes, strict=True):
        normalised = {f: expected_text(f, raw) for f, raw in zip(SOURCE_FIELDS, row, strict=True)}
        model: BookingSource | None = None
        failed: set[str] = set()
        try:
            model = BookingSource.model_validate(normalised)
        except ValidationError as error:
            failed = _failed_fields(error)
        if model is None:
            assert isinstance(outcome, RejectedRecord), (row, outcome)
            assert {reason.split(":")[0] for reason in outcome.reasons} == failed
        else:
            assert isinstance(outcome, ValidRow), (row, outcome)
            assert outcome.values == model.model_dump()


def test_the_five_reference_rows_are_valid_for_both() -> None:
    for row in GOOD_ROWS:
        BookingSource.model_validate(dict(zip(HEADER, row, strict=True)))
    outcomes = list(validate_stream(io.BytesIO(csv_text(GOOD_ROWS).encode()), source_file="x"))
    assert all(isinstance(o, ValidRow) for o in outcomes)

"""Would Firehose's Parquet conversion read this record? A check of one JSON record against the
Glue columns of the table the delivery stream converts it to, by the rules of the deserializer
the stream is configured with (both read from ``template.yaml``).

moto's Firehose stores records as they come; AWS's converts each one with the table's schema
and sends the records it cannot read to the stream's error prefix, where nobody queries them.
So this validator states what AWS's documentation says the deserializer reads:

- ``timestamp`` with the OpenX JSON SerDe (Firehose developer guide, "Convert input data
  format", choosing the JSON deserializer): a string ``yyyy-MM-dd'T'HH:mm:ss[.S]'Z'`` or
  ``yyyy-[M]M-[d]d HH:mm:ss[.S]``, "where the fraction can have up to 9 digits", or a number:
  epoch seconds, epoch milliseconds, floating point epoch seconds. Nothing else: no offset such
  as ``+00:00``, no date alone.
- ``date``: a string ``yyyy-MM-dd`` naming a real day (Hive's DATE literal).
- ``boolean``: JSON ``true`` or ``false`` (not 0/1, not text).
- ``int``, ``bigint``, ``smallint``, ``tinyint``: a JSON integer within the type's range.
- ``double``, ``float``: a JSON number.
- ``decimal(p,s)``: a JSON number with at most ``p`` digits, ``s`` of them after the point.
- ``string``: a JSON string; ``array<T>``: a JSON array of ``T``.
- ``null`` fits every column (Hive columns are nullable).

Keys: the OpenX SerDe lower-cases them by default ("When set to true, which is the default,
Firehose converts JSON keys to lowercase before deserializing them", API reference,
``OpenXJsonSerDe``), then matches them to columns; a key that is no column is dropped without a
word, so it counts as a problem here, and so does a column the record lacks when the caller
says every column must be there (the delivered, scored record).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bookings.offline.template import load_template

# The documented time stamp forms of the OpenX JSON SerDe, and Hive's date.
_ISO_Z = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z\Z")
_SPACED = re.compile(r"\A(\d{4})-(\d{1,2})-(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\Z")
_DATE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})\Z")
_INTEGER_BITS = {"tinyint": 8, "smallint": 16, "int": 32, "integer": 32, "bigint": 64}
_DECIMAL = re.compile(r"\Adecimal\((\d+),\s*(\d+)\)\Z")
_ARRAY = re.compile(r"\Aarray<(.+)>\Z")


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class DeliveryTable:
    """The columns a delivery stream converts records to, and its deserializer."""

    deserializer: str  # "OpenXJsonSerDe" or "HiveJsonSerDe"
    columns: tuple[Column, ...]
    partition_keys: tuple[str, ...]


def table_columns(
    template: dict[str, Any], table: str
) -> tuple[tuple[Column, ...], tuple[str, ...]]:
    """(columns, partition key names) of a ``AWS::Glue::Table`` of the template."""
    table_input = template["Resources"][table]["Properties"]["TableInput"]
    columns = tuple(
        Column(column["Name"].lower(), column["Type"].lower().replace(" ", ""))
        for column in table_input["StorageDescriptor"]["Columns"]
    )
    partitions = tuple(key["Name"].lower() for key in table_input.get("PartitionKeys", []))
    return columns, partitions


def delivery_table(template_path: Path, stream: str) -> DeliveryTable:
    """What the template's delivery stream ``stream`` converts its records with."""
    template = load_template(template_path)
    destination = template["Resources"][stream]["Properties"]["ExtendedS3DestinationConfiguration"]
    conversion = destination["DataFormatConversionConfiguration"]
    if not conversion.get("Enabled", True):
        raise ValueError(f"{stream} does not convert its records")
    (deserializer,) = conversion["InputFormatConfiguration"]["Deserializer"]
    if deserializer != "OpenXJsonSerDe":
        raise ValueError(f"{stream}: rules for the {deserializer} are not written down here")
    table = conversion["SchemaConfiguration"]["TableName"]
    if not (isinstance(table, dict) and "Ref" in table):
        raise ValueError(f"{stream}: the table is not a Ref to a table of the template")
    columns, partitions = table_columns(template, table["Ref"])
    return DeliveryTable(deserializer, columns, partitions)


def _real_moment(parts: tuple[str | None, ...]) -> bool:
    year, month, day, hour, minute, second = (int(part or 0) for part in parts[:6])
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


# One branch per Glue column type and JSON value kind: one function on purpose.
def value_problem(value: Any, column_type: str) -> str | None:  # noqa: C901
    """Why a JSON value does not fit a column of ``column_type``; None when it does."""
    if value is None:
        return None
    array = _ARRAY.match(column_type)
    if array:
        if not isinstance(value, list):
            return f"{value!r} is not a JSON array"
        for item in value:
            problem = value_problem(item, array.group(1))
            if problem:
                return f"an element: {problem}"
        return None
    if column_type == "string":
        return None if isinstance(value, str) else f"{value!r} is not a JSON string"
    if column_type == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not JSON true or false"
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if column_type in _INTEGER_BITS:
        bits = _INTEGER_BITS[column_type]
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{value!r} is not a JSON integer"
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            return f"{value} is out of the range of {column_type}"
        return None
    if column_type in ("double", "float"):
        return None if is_number else f"{value!r} is not a JSON number"
    decimal = _DECIMAL.match(column_type)
    if decimal:
        if not is_number:
            return f"{value!r} is not a JSON number"
        try:
            digits = Decimal(str(value)).as_tuple()
        except InvalidOperation:
            return f"{value!r} is not a decimal number"
        precision, scale = int(decimal.group(1)), int(decimal.group(2))
        after = -int(digits.exponent) if isinstance(digits.exponent, int) else 0
        if after > scale or len(digits.digits) - max(after, 0) > precision - scale:
            return f"{value!r} does not fit {column_type}"
        return None
    if column_type == "date":
        found = _DATE.match(value) if isinstance(value, str) else None
        if found and _real_moment((*found.groups(), None, None, None)):
            return None
        return f"{value!r} is not a date yyyy-MM-dd"
    if column_type == "timestamp":
        if is_number:
            return None  # epoch seconds, epoch milliseconds or floating point epoch seconds
        if isinstance(value, str):
            found = _ISO_Z.match(value) or _SPACED.match(value)
            if found and _real_moment(found.groups()):
                return None
        return (
            f"{value!r} is none of the OpenX JSON SerDe's time stamps "
            "(yyyy-MM-dd'T'HH:mm:ss[.S]'Z', yyyy-[M]M-[d]d HH:mm:ss[.S], epoch seconds)"
        )
    raise ValueError(f"no rule written down for the column type {column_type!r}")


def record_problems(
    record: dict[str, Any], table: DeliveryTable, *, every_column: bool = True
) -> list[str]:
    """Everything that keeps the deserializer from reading ``record`` into ``table``: a
    value that does not fit its column, a key that is no column, and (``every_column``) a
    column the record lacks."""
    columns = {column.name: column.type for column in table.columns}
    problems = []
    seen = set()
    for key, value in record.items():
        name = key.lower()  # the OpenX JSON SerDe's default
        seen.add(name)
        if name not in columns:
            problems.append(f"{key}: no such column (the deserializer drops it)")
            continue
        problem = value_problem(value, columns[name])
        if problem:
            problems.append(f"{key} ({columns[name]}): {problem}")
    if every_column:
        problems += [f"{name}: missing" for name in columns if name not in seen]
    return problems


def json_table(template_path: Path, table: str) -> DeliveryTable:
    """A Glue table whose data is JSON read by the OpenX JSON SerDe (the rejected rows)."""
    template = load_template(template_path)
    storage = template["Resources"][table]["Properties"]["TableInput"]["StorageDescriptor"]
    library = storage["SerdeInfo"]["SerializationLibrary"]
    if library != "org.openx.data.jsonserde.JsonSerDe":
        raise ValueError(f"{table} is read by {library}, not the OpenX JSON SerDe")
    columns, partitions = table_columns(template, table)
    return DeliveryTable("OpenXJsonSerDe", columns, partitions)


__all__ = [
    "Column",
    "DeliveryTable",
    "delivery_table",
    "json_table",
    "record_problems",
    "value_problem",
]

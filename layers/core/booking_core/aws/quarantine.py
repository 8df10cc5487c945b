"""Quarantine a booking file whose processing failed: a copy of the raw object beside an error
report, so that nothing is lost and an operator can see why."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.exceptions import ClientError

from booking_core.aws.ingest import SourceObject, now_utc

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quarantined:
    error: str
    reason: str
    quarantine_key: str | None  # None when the raw object could not be copied
    report_key: str
    report: dict[str, Any]


def describe_error(error: dict[str, Any]) -> tuple[str, str]:
    """The error name and a one-line reason from a Catch's ``{"Error", "Cause"}``."""
    name = str(error.get("Error") or "UnknownError")
    cause = error.get("Cause") or ""
    try:
        parsed = orjson.loads(cause)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        cause = parsed["errorMessage"]
    reason = " ".join(str(cause).split()) or name
    return name, reason


def quarantine_object(
    s3: Any,
    source: SourceObject,
    *,
    lake_bucket: str,
    quarantine_prefix: str,
    error: dict[str, Any],
    execution: str,
) -> Quarantined:
    """Copy the raw object to ``<prefix>files/<key>`` and write ``<that key>.error.json``.

    The report is written even when the copy fails (e.g. the object was deleted meanwhile)."""
    error_name, reason = describe_error(error)
    quarantine_key = f"{quarantine_prefix}files/{source.key}"
    copy_source = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        copy_source["VersionId"] = source.version_id
    copied = True
    try:
        s3.copy_object(CopySource=copy_source, Bucket=lake_bucket, Key=quarantine_key)
    except ClientError as exc:
        copied = False
        LOGGER.error("the raw object could not be copied: %s", exc)
    report = {
        "error": error_name,
        "cause": reason,
        "execution": execution,
        "object_id": source.object_id,
        "source": f"s3://{source.bucket}/{source.key}",
        "quarantined_copy": f"s3://{lake_bucket}/{quarantine_key}" if copied else None,
        "quarantined_at": now_utc().isoformat(),
    }
    report_key = f"{quarantine_key}.error.json"
    s3.put_object(
        Bucket=lake_bucket,
        Key=report_key,
        Body=orjson.dumps(report, option=orjson.OPT_INDENT_2),
        ContentType="application/json",
    )
    return Quarantined(error_name, reason, quarantine_key if copied else None, report_key, report)

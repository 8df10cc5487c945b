"""QuarantineFile: a file's processing failed. Keep a copy of the raw object beside an error
report, so that nothing is lost and an operator can see why; record the file in the
``quarantined_files`` table, so that the data-quality KPIs show it; alert the operators; release
the idempotency claim (FAILED) so that a corrected re-upload runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from botocore.exceptions import ClientError

from booking_core.aws.clients import ClientFactory
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.notifications import publish_alert
from booking_core.aws.settings import Settings
from booking_core.jsonl import dumps_line, firehose_timestamp
from booking_core.schema import QuarantinedFile
from booking_core.usecases.source import SourceObject
from booking_core.workflow import CaughtError, Quarantined, QuarantineRequest

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantinedCopy:
    error: str
    reason: str
    quarantine_key: str | None  # None when the raw object could not be copied
    report_key: str
    report: dict[str, Any]
    record_key: str


def describe_error(error: CaughtError) -> tuple[str, str]:
    """The error name and a one-line reason from a Catch's ``{"Error", "Cause"}`` (a Lambda
    error's Cause is its JSON report: its ``errorMessage`` is the reason)."""
    name = error.Error or "UnknownError"
    cause: Any = error.Cause
    try:
        parsed = orjson.loads(cause)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        cause = parsed["errorMessage"]
    reason = " ".join(str(cause).split()) or name
    return name, reason


def quarantine_file(
    request: QuarantineRequest, settings: Settings, client: ClientFactory
) -> Quarantined:
    """Copy and report, release the claim (when there is a table) and alert (when there is a
    topic)."""
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    source = SourceObject.from_detail(request.detail)
    kept = quarantine_object(
        client("s3"),
        source,
        lake_bucket=settings.lake_bucket,
        quarantine_prefix=settings.quarantine_prefix,
        error=request.error,
        execution=request.execution,
    )
    if settings.idempotency_table:
        IdempotencyStore(client("dynamodb"), settings.idempotency_table).fail(
            source.object_id, orjson.dumps(kept.report).decode()
        )
    message_id = None
    if settings.alert_topic_arn:
        message_id = publish_alert(
            client("sns"),
            settings.alert_topic_arn,
            f"Booking file quarantined: {source.key}",
            kept.report,
        )
    return Quarantined(
        error=kept.error,
        reason=f"{kept.error}: {kept.reason}",
        quarantine_key=kept.quarantine_key,
        report_key=kept.report_key,
        alert_message_id=message_id,
    )


def quarantined_line(record: QuarantinedFile) -> bytes:
    """A file's line of the ``quarantined_files`` table: one line of JSON, the time stamp in the
    form the JSON SerDe reads."""
    fields = record.model_dump()
    fields["quarantined_at"] = firehose_timestamp(record.quarantined_at)
    return dumps_line(fields)


def quarantine_object(
    s3: Any,
    source: SourceObject,
    *,
    lake_bucket: str,
    quarantine_prefix: str,
    error: CaughtError,
    execution: str,
) -> QuarantinedCopy:
    """Copy the raw object to ``<prefix>files/<key>``, write ``<that key>.error.json`` and the
    file's line of the ``quarantined_files`` table, ``<prefix>reports/<file id>.json``.

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
    quarantined_at = datetime.now(UTC)
    quarantined_copy = f"s3://{lake_bucket}/{quarantine_key}" if copied else None
    report = {
        "error": error_name,
        "cause": reason,
        "execution": execution,
        "object_id": source.object_id,
        "source": f"s3://{source.bucket}/{source.key}",
        "quarantined_copy": quarantined_copy,
        "quarantined_at": quarantined_at.isoformat(),
    }
    report_key = f"{quarantine_key}.error.json"
    s3.put_object(
        Bucket=lake_bucket,
        Key=report_key,
        Body=orjson.dumps(report, option=orjson.OPT_INDENT_2),
        ContentType="application/json",
    )
    # One JSON line in a folder of its own: Athena reads every object under a table's location,
    # and the JSON SerDe reads one record per line (the report above is indented).
    record = QuarantinedFile(
        source_file=source.source_file,
        error=error_name,
        # The file is the line's source_file: the reason need not name it again.
        reason=reason.removeprefix(f"{source.source_file}: "),
        execution=execution,
        quarantined_copy=quarantined_copy,
        quarantined_at=quarantined_at,
    )
    record_key = f"{quarantine_prefix}reports/{source.file_id}.json"
    s3.put_object(
        Bucket=lake_bucket,
        Key=record_key,
        Body=quarantined_line(record),
        ContentType="application/json",
    )
    return QuarantinedCopy(
        error_name, reason, quarantine_key if copied else None, report_key, report, record_key
    )

"""QuarantineFile: a file's processing failed. Copy the raw object to ``quarantine/files/``
with an ``.error.json`` report, alert the operators, and release the idempotency claim (FAILED)
so that a corrected re-upload runs."""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.ingest import SourceObject, now_utc
from booking_core.aws.notifications import publish_alert
from booking_core.aws.settings import Settings
from botocore.exceptions import ClientError

logger = Logger()
tracer = Tracer()
metrics = Metrics()


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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    source = SourceObject(
        bucket=detail["bucket"]["name"],
        key=detail["object"]["key"],
        etag=detail["object"].get("etag", ""),
        version_id=detail["object"].get("version-id"),
        size=detail["object"].get("size"),
    )
    execution = str(event.get("execution") or context.aws_request_id)
    logger.set_correlation_id(execution)
    logger.append_keys(object_key=source.key)
    settings = Settings.from_env()
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    error_name, reason = describe_error(event.get("error") or {})

    s3 = aws_client("s3")
    quarantine_key = f"{settings.quarantine_prefix}files/{source.key}"
    copied = True
    copy_source = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        copy_source["VersionId"] = source.version_id
    try:
        s3.copy_object(CopySource=copy_source, Bucket=settings.lake_bucket, Key=quarantine_key)
    except ClientError as exc:
        copied = False
        logger.error("the raw object could not be copied", extra={"error": str(exc)})
    report = {
        "error": error_name,
        "cause": reason,
        "execution": execution,
        "object_id": source.object_id,
        "source": f"s3://{source.bucket}/{source.key}",
        "quarantined_copy": f"s3://{settings.lake_bucket}/{quarantine_key}" if copied else None,
        "quarantined_at": now_utc().isoformat(),
    }
    report_key = f"{quarantine_key}.error.json"
    s3.put_object(
        Bucket=settings.lake_bucket,
        Key=report_key,
        Body=orjson.dumps(report, option=orjson.OPT_INDENT_2),
        ContentType="application/json",
    )
    if settings.idempotency_table:
        IdempotencyStore(aws_client("dynamodb"), settings.idempotency_table).fail(
            source.object_id, orjson.dumps(report).decode()
        )
    message_id = None
    if settings.alert_topic_arn:
        message_id = publish_alert(
            aws_client("sns"),
            settings.alert_topic_arn,
            f"Booking file quarantined: {source.key}",
            report,
        )
    metrics.add_metric(name="QuarantinedFiles", unit=MetricUnit.Count, value=1)
    logger.error("file quarantined", extra={"error": error_name, "cause": reason})
    return {
        "error": error_name,
        "reason": f"{error_name}: {reason}",
        "quarantine_key": quarantine_key if copied else None,
        "report_key": report_key,
        "alert_message_id": message_id,
    }

"""FinalizeFile: reconcile the file's counts from the chunk receipts, mark the object COMPLETED,
publish a "File Processed" event and return the summary."""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.idempotency import IdempotencyStore
from booking_core.aws.ingest import ReconciliationError, read_receipts
from booking_core.aws.notifications import FILE_PROCESSED, put_event
from booking_core.aws.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    file = event["file"]
    execution = str(event.get("execution") or file.get("execution"))
    logger.set_correlation_id(execution)
    logger.append_keys(object_key=file["key"])
    settings = Settings.from_env()
    settings.need(LAKE_BUCKET=settings.lake_bucket, IDEMPOTENCY_TABLE=settings.idempotency_table)

    receipts = read_receipts(
        aws_client("s3"), settings.lake_bucket, f"{settings.staging_prefix}{file['file_id']}/"
    )
    missing = [key for key in file["chunk_keys"] if key not in receipts]
    if missing:
        raise ReconciliationError(
            f"{file['source_file']}: {len(missing)} chunk(s) have no delivery receipt, "
            f"first {missing[0]}"
        )
    chosen = [receipts[key] for key in file["chunk_keys"]]
    delivered = sum(int(r["delivered"]) for r in chosen)
    scored = sum(int(r.get("scored") or 0) for r in chosen)
    if file["rows"] != file["valid"] + file["rejected"] or delivered != file["valid"]:
        raise ReconciliationError(
            f"{file['source_file']}: rows {file['rows']}, valid {file['valid']}, "
            f"rejected {file['rejected']}, delivered {delivered}: the counts do not reconcile"
        )
    crawler = event.get("crawler") or {}
    summary = {
        "status": "completed",
        "object_id": file["object_id"],
        "source_file": file["source_file"],
        "execution": execution,
        "rows": file["rows"],
        "valid": file["valid"],
        "rejected": file["rejected"],
        "duplicates": file["duplicates"],
        "delivered": delivered,
        "scored": scored,
        "unscored": delivered - scored,
        "chunks": len(chosen),
        "reasons": file.get("reasons", {}),
        "rejected_key": file.get("rejected_key"),
        "crawler_state": crawler.get("state"),
        "crawler_gave_up": bool(event.get("crawler_gave_up")),
        "spice": (event.get("spice") or {}).get("status"),
    }
    IdempotencyStore(aws_client("dynamodb"), settings.idempotency_table).complete(
        file["object_id"], orjson.dumps(summary).decode()
    )
    put_event(aws_client("events"), settings.event_bus_name, FILE_PROCESSED, summary)
    metrics.add_metric(name="FilesProcessed", unit=MetricUnit.Count, value=1)
    logger.info("file processed", extra={k: summary[k] for k in ("rows", "valid", "delivered")})
    return summary

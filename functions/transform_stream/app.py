"""TransformStream: the delivery stream's data-transformation Lambda (Firehose invokes it with
batches of records). Scored records from the file workflow pass through unchanged, live records
from the HTTP API are checked and enriched, anything else is answered ``ProcessingFailed`` with
its reasons logged and counted: see ``booking_core.stream_transform``."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import KinesisFirehoseModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.stream_transform import StreamRecord, transform_records
from booking_core.workflow import parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="invocationId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = parse_event(event, KinesisFirehoseModel)
    # The model decodes each record's base64 data to bytes.
    records = [StreamRecord(r.recordId, cast(bytes, r.data)) for r in batch.records]
    outcome = transform_records(records)
    counts = {
        "StreamRecordsEnriched": outcome.enriched,
        "StreamRecordsPassedThrough": outcome.passed_through,
        "StreamRecordsFailed": outcome.failed,
    }
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    # Firehose writes a failed record under the error prefix without the reason: it is here.
    for failure in outcome.failures:
        logger.warning(
            "record not usable: ProcessingFailed",
            extra={"record_id": failure.record_id, "reasons": failure.reasons},
        )
    return outcome.response()

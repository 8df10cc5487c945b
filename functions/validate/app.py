"""Validate: claim a new S3 object and stream it through the validator into staged chunks.

In: the S3 "Object Created" event, bare or as ``{"event", "execution"}`` (the state machine's).
Out (``$.file``): a ValidatedFile (counts, the chunk keys the Map runs over), or a DuplicateFile
when another execution already holds or finished this object, or when its bytes are another
file's (the same bytes under another key).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from booking_core.aws import aws_client
from booking_core.aws.settings import Settings
from booking_core.errors import UnreadableFileError
from booking_core.usecases.validate_file import validate_file
from booking_core.workflow import DuplicateFile, ObjectCreated, parse_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class UnreadableFile(Exception):
    """The object cannot be read as a booking file at all."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, ObjectCreated)
    logger.set_correlation_id(request.execution_name)
    logger.append_keys(object_key=request.detail.object.key)
    try:
        file = validate_file(request, Settings.from_env(), aws_client)
    except UnreadableFileError as exc:
        logger.error("unreadable file", extra={"problem": exc.problem})
        metrics.add_metric(name="UnreadableFiles", unit=MetricUnit.Count, value=1)
        raise UnreadableFile(str(exc)) from exc
    logger.append_keys(object_id=file.object_id)
    if isinstance(file, DuplicateFile):
        logger.warning(
            "duplicate file: skipped",
            extra={
                "claim_status": file.status,
                "claimed_by": file.claimed_by,
                "duplicate_of": file.duplicate_of,
            },
        )
        metrics.add_metric(name="DuplicateFiles", unit=MetricUnit.Count, value=1)
        return file.model_dump(mode="json")
    counts = {"RowsRead": file.rows, "RowsValid": file.valid, "RowsRejected": file.rejected}
    for name, value in {**counts, "DuplicateRows": file.duplicates}.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logged = {"rows", "valid", "rejected", "duplicates", "encoding"}
    logger.info("file validated", extra=file.model_dump(include=logged))
    return file.model_dump(mode="json")

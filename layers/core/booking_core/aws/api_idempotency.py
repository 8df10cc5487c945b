"""The HTTP API's ``Idempotency-Key``: Powertools' idempotency utility on a DynamoDB table.

The first request with a key runs and its answer is stored (the table's key schema is the one
Powertools documents: partition key ``id``, TTL attribute ``expiration``); a request with the
same key and the same body gets that answer back without running again, so a client that
retries after a timeout delivers nothing twice. The same key with another body is refused
(``IdempotencyValidationError``), as is a request whose twin is still running
(``IdempotencyAlreadyInProgressError``). If the work raises (Firehose refused the bookings),
Powertools deletes the record, so the retry runs for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    BaseError as IdempotencyError,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# A retry is safe for a day after the first request.
IDEMPOTENCY_SECONDS: Final = 24 * 3600
KEY_PREFIX: Final = "bookings-api"
REPLAYED: Final = "replayed"

__all__ = [
    "IDEMPOTENCY_SECONDS",
    "IdempotencyAlreadyInProgressError",
    "IdempotencyError",
    "IdempotencyValidationError",
    "RequestIdempotency",
]


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Marks an answer that comes from the table, not from running the request."""
    del idempotent_data
    return {**response, REPLAYED: True} if isinstance(response, dict) else response


def _run_once(*, request: dict[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    del request  # the idempotency key and the body's digest: what the utility hashes
    return work()


class RequestIdempotency:
    """Runs a request's work at most once per ``Idempotency-Key`` (and body)."""

    def __init__(
        self, table_name: str, dynamodb: Any, context: LambdaContext | None = None
    ) -> None:
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
        config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="body_sha256",
            expires_after_seconds=IDEMPOTENCY_SECONDS,
            response_hook=_replayed,
        )
        if context is not None:
            # In-progress records expire with the invocation, should it time out.
            config.register_lambda_context(context)
        self._once = idempotent_function(
            _run_once,
            data_keyword_argument="request",
            persistence_store=persistence,
            config=config,
            key_prefix=KEY_PREFIX,
        )

    def run(self, key: str, body_sha256: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``work()``'s answer, run now or stored by an earlier request (then ``replayed``)."""
        answer: dict[str, Any] = self._once(
            request={"key": key, "body_sha256": body_sha256}, work=work
        )
        return answer

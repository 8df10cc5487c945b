"""Firehose PutRecordBatch delivery: batches within the service limits, retries only the records
that failed (exponential backoff with full jitter), and fails loudly if any remain.

A call that raises rather than answers is retried the same way when its error is transient:
PutRecordBatch's ServiceUnavailableException ("back off and retry", the API reference says),
throttling and internal failures, and a connection or read timeout. The batch is then sent
whole again; a record that did arrive the first time arrives twice (Firehose delivers at least
once), which the tables users query absorb (each booking_id once). Any other error (an invalid
argument, a missing stream, a KMS key Firehose cannot use) is not retried."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from booking_core.errors import BookingError

MAX_RECORDS_PER_BATCH = 500
MAX_BYTES_PER_BATCH = 4 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1000 * 1024
# Error codes of a PutRecordBatch call worth another attempt.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "ThrottlingException",
        "InternalFailure",
        "InternalServerError",
    }
)
TRANSIENT_TRANSPORT_ERRORS = (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


class DeliveryFailedError(BookingError):
    """Records were still failing after every attempt."""

    def __init__(
        self, stream: str, failed: int, attempts: int, error_codes: dict[str, int]
    ) -> None:
        codes = ", ".join(f"{code} x{count}" for code, count in sorted(error_codes.items()))
        super().__init__(
            f"{stream}: {failed} record(s) not delivered after {attempts} attempts ({codes})"
        )
        self.failed = failed
        self.error_codes = error_codes


class RecordTooLargeError(BookingError):
    """A record exceeds Firehose's 1,000 KiB per-record limit."""


def batches(
    records: Iterable[bytes],
    max_records: int = MAX_RECORDS_PER_BATCH,
    max_bytes: int = MAX_BYTES_PER_BATCH,
) -> Iterator[list[bytes]]:
    """Group records into batches of at most ``max_records`` records and ``max_bytes`` bytes."""
    batch: list[bytes] = []
    size = 0
    for record in records:
        if len(record) > MAX_BYTES_PER_RECORD:
            raise RecordTooLargeError(
                f"a record of {len(record)} bytes exceeds Firehose's limit of "
                f"{MAX_BYTES_PER_RECORD} bytes"
            )
        if batch and (len(batch) >= max_records or size + len(record) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        yield batch


def full_jitter_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Backoff before retry ``attempt`` (1-based): uniform in [0, min(cap, base * 2**attempt))."""
    return rng.uniform(0.0, min(cap, base * (2**attempt)))


@dataclass
class FirehoseDelivery:
    """Delivers records to one delivery stream, counting what was delivered and retried."""

    client: Any
    stream_name: str
    max_attempts: int = 5
    base_delay_seconds: float = 0.1
    max_delay_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    delivered: int = 0
    retried: int = 0
    calls: int = 0

    def deliver(self, records: Iterable[bytes]) -> int:
        """Deliver every record; returns how many were delivered by this call."""
        before = self.delivered
        for batch in batches(records):
            self._deliver_batch(batch)
        return self.delivered - before

    def _deliver_batch(self, batch: list[bytes]) -> None:
        pending = batch
        error_codes: dict[str, int] = {}
        for attempt in range(1, self.max_attempts + 1):
            self.calls += 1
            try:
                response = self.client.put_record_batch(
                    DeliveryStreamName=self.stream_name,
                    Records=[{"Data": data} for data in pending],
                )
            except (ClientError, *TRANSIENT_TRANSPORT_ERRORS) as exc:
                code = _error_code(exc)
                error_codes = {code: len(pending)}
                if code not in TRANSIENT_ERROR_CODES and not isinstance(
                    exc, TRANSIENT_TRANSPORT_ERRORS
                ):
                    raise DeliveryFailedError(
                        self.stream_name, len(pending), attempt, error_codes
                    ) from exc
                if attempt < self.max_attempts:
                    self.retried += len(pending)
                    self.sleep(self._delay(attempt))
                continue
            failed_count = int(response.get("FailedPutCount", 0))
            if failed_count == 0:
                self.delivered += len(pending)
                return
            still_failing: list[bytes] = []
            error_codes = {}
            for data, result in zip(pending, response["RequestResponses"], strict=True):
                code = result.get("ErrorCode")
                if code:
                    still_failing.append(data)
                    error_codes[code] = error_codes.get(code, 0) + 1
            self.delivered += len(pending) - len(still_failing)
            pending = still_failing
            if attempt < self.max_attempts:
                self.retried += len(pending)
                self.sleep(self._delay(attempt))
        raise DeliveryFailedError(self.stream_name, len(pending), self.max_attempts, error_codes)

    def _delay(self, attempt: int) -> float:
        return full_jitter_delay(attempt, self.base_delay_seconds, self.max_delay_seconds, self.rng)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or type(exc).__name__)
    return type(exc).__name__

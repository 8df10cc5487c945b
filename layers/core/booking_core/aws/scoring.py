"""The Score step's client of the model endpoint (SageMaker runtime ``invoke_endpoint``).

Protocol: the body is ``application/jsonlines`` with one enriched record per line; the answer is
``application/jsonlines`` with one ``{"booking_complete_probability", "model_version"}`` per
input line, in the same order. Requests are kept below the endpoint's payload limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from booking_core.errors import BookingError

CONTENT_TYPE = "application/jsonlines"
DEFAULT_MAX_PAYLOAD_BYTES = 3_500_000


class ScoringUnavailableError(BookingError):
    """The endpoint could not score a batch (no answer, an error, or a malformed answer)."""


@dataclass(frozen=True)
class Score:
    probability: float | None
    model_version: str | None


UNSCORED = Score(None, None)


def payload_batches(lines: Sequence[bytes], max_bytes: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` index ranges whose lines (plus newlines) fit in ``max_bytes``.

    A single line larger than the limit is a batch of its own (the caller leaves it unscored).
    """
    start, size = 0, 0
    for index, line in enumerate(lines):
        needed = len(line) + 1
        if index > start and size + needed > max_bytes:
            yield start, index
            start, size = index, 0
        size += needed
    if start < len(lines):
        yield start, len(lines)


@dataclass
class EndpointScorer:
    client: Any
    endpoint_name: str
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    calls: int = 0

    def score_batch(self, lines: Sequence[bytes]) -> list[Score]:
        """Score one batch of encoded records; raises ScoringUnavailableError on any failure."""
        body = b"\n".join(lines) + b"\n"
        if len(body) > self.max_payload_bytes:
            raise ScoringUnavailableError(
                f"a batch of {len(body)} bytes exceeds the endpoint limit of "
                f"{self.max_payload_bytes} bytes"
            )
        self.calls += 1
        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType=CONTENT_TYPE,
                Accept=CONTENT_TYPE,
                Body=body,
            )
            answer: bytes = response["Body"].read()
        except Exception as exc:  # any client or transport error means "no score"
            raise ScoringUnavailableError(
                f"endpoint {self.endpoint_name}: {type(exc).__name__}: {exc}"
            ) from exc
        return self._parse(answer, expected=len(lines))

    def _parse(self, answer: bytes, expected: int) -> list[Score]:
        scores: list[Score] = []
        try:
            for line in answer.splitlines():
                if not line.strip():
                    continue
                item = orjson.loads(line)
                probability = item["booking_complete_probability"]
                if probability is not None:
                    probability = float(probability)
                    if not 0.0 <= probability <= 1.0:
                        raise ValueError(f"probability {probability} outside [0, 1]")
                version = item.get("model_version")
                scores.append(Score(probability, None if version is None else str(version)))
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            raise ScoringUnavailableError(
                f"endpoint {self.endpoint_name}: malformed answer: {exc}"
            ) from exc
        if len(scores) != expected:
            raise ScoringUnavailableError(
                f"endpoint {self.endpoint_name}: {len(scores)} scores for {expected} records"
            )
        return scores

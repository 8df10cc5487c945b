"""SPICE refreshes: one CreateIngestion per configured QuickSight data set."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# QuickSight accepts INCREMENTAL_REFRESH only for a data set with incremental refresh properties
# (DataSetRefreshProperties: a look-back window on a date column). The stack's data sets are
# whole-history aggregates without them, so each refresh re-imports the data set.
INGESTION_TYPE = "FULL_REFRESH"

# An ingestion already running or too many at once: the next refresh picks the data up.
TOLERATED_ERRORS = frozenset(
    {"LimitExceededException", "ConcurrentUpdatingException", "ResourceExistsException"}
)


def parse_dataset_ids(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def ingestion_id(execution: str, dataset_id: str) -> str:
    """A unique, valid ingestion id (letters, digits, hyphens, underscores; at most 128)."""
    raw = f"{execution}-{dataset_id}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", raw)[:128]


@dataclass
class RefreshOutcome:
    started: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def refresh_datasets(
    client: Any, account_id: str, dataset_ids: Sequence[str], execution: str
) -> RefreshOutcome:
    """Start a SPICE ingestion per data set; tolerated errors are recorded, others raised."""
    outcome = RefreshOutcome()
    for dataset_id in dataset_ids:
        ingestion = ingestion_id(execution, dataset_id)
        try:
            response = client.create_ingestion(
                AwsAccountId=account_id,
                DataSetId=dataset_id,
                IngestionId=ingestion,
                IngestionType=INGESTION_TYPE,
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in TOLERATED_ERRORS:
                raise
            outcome.skipped.append({"dataset_id": dataset_id, "error": code})
            continue
        outcome.started.append(
            {
                "dataset_id": dataset_id,
                "ingestion_id": ingestion,
                "status": str(response.get("IngestionStatus", "")),
            }
        )
    return outcome

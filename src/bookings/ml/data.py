"""Bookings for training and scoring: read with the core's reader, enriched by the core."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from booking_core.enrichment import EnrichmentContext, enrich_row
from booking_core.schema import OUTCOME_FIELD, SOURCE_FIELDS


@dataclass(frozen=True)
class _TypedRow:
    """A row whose values are already typed and valid (the generator's output)."""

    row_number: int
    values: dict[str, Any]
    is_duplicate: bool


def enrich_typed_rows(
    rows: Iterable[Mapping[str, Any]], *, source_file: str = "generated"
) -> Iterator[dict[str, Any]]:
    """Enrich already-valid typed rows (e.g. ``bookings.generator.generate_rows``), flagging exact
    copies of earlier rows as the reader does."""
    context = EnrichmentContext(source_file=source_file, ingested_at=datetime.now(UTC))
    seen: set[tuple[Any, ...]] = set()
    for row_number, row in enumerate(rows, start=1):
        values = {name: row[name] for name in SOURCE_FIELDS if name in row}
        identity = tuple(values.get(name) for name in SOURCE_FIELDS)
        duplicate = identity in seen
        seen.add(identity)
        yield enrich_row(_TypedRow(row_number, values, duplicate), context)


@dataclass
class LoadedBookings:
    """Enriched valid bookings of one or more files, with the counts that reconcile them."""

    records: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    valid: int = 0
    rejected: int = 0
    rejection_examples: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.records)


def load_bookings(paths: Sequence[str | Path], *, max_examples: int = 5) -> LoadedBookings:
    """Read, validate and enrich booking files with the core's pipeline, keeping input order.

    Raises ``booking_core.errors.UnreadableFileError`` for a file that cannot be read at all.
    """
    from booking_core.pipeline import process_stream

    loaded = LoadedBookings()
    ingested_at = datetime.now(UTC)
    for path in paths:
        source_file = str(path)
        with open(path, "rb") as stream:
            run = process_stream(stream, source_file=source_file, ingested_at=ingested_at)
            for kind, record in run:
                if kind == "valid":
                    loaded.records.append(record)
                elif len(loaded.rejection_examples) < max_examples:
                    loaded.rejection_examples.append(str(record["message"]))
            summary = run.summary
        loaded.files.append(summary.model_dump(mode="json"))
        loaded.rows += summary.rows
        loaded.valid += summary.valid
        loaded.rejected += summary.rejected
    return loaded


@dataclass
class TrainingSet:
    frame: pd.DataFrame
    excluded_unlabelled: int
    excluded_duplicates: int


def training_set(records: Sequence[Mapping[str, Any]]) -> TrainingSet:
    """Labelled bookings for training: rows without an outcome and exact duplicates (copies of an
    earlier row of the same file, which would otherwise straddle the train/test split) left out."""
    frame = pd.DataFrame.from_records(list(records))
    if frame.empty:
        return TrainingSet(frame, 0, 0)
    has_outcome = frame[OUTCOME_FIELD].notna() if OUTCOME_FIELD in frame else None
    unlabelled = 0 if has_outcome is None else int((~has_outcome).sum())
    if has_outcome is None:
        return TrainingSet(frame.iloc[0:0], len(frame), 0)
    frame = frame[has_outcome]
    duplicates = frame["is_duplicate"].astype(bool) if "is_duplicate" in frame else None
    n_duplicates = 0 if duplicates is None else int(duplicates.sum())
    if duplicates is not None:
        frame = frame[~duplicates]
    return TrainingSet(frame.reset_index(drop=True), unlabelled, n_duplicates)

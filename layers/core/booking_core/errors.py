"""Named errors. Their messages are one line that names the file and the problem."""

from __future__ import annotations


class BookingError(Exception):
    """Base class of the project's errors."""


class UnreadableFileError(BookingError):
    """The file cannot be processed at all (empty, not a CSV, no single CSV in an archive,
    a missing required column, ...)."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class MissingColumnError(UnreadableFileError):
    def __init__(self, file: str, columns: list[str]) -> None:
        super().__init__(file, "missing required column(s): " + ", ".join(columns))
        self.columns = columns


class ReconciliationError(BookingError):
    """Counts that must match do not (delivered != valid, missing chunk receipts, ...)."""


class ModelArchiveError(BookingError):
    """A model archive cannot be read (not an s3:// URL, no metadata.json, no held-out metric)."""

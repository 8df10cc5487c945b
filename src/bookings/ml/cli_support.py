"""What the model commands share: one-line errors and data loading with reconciled counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from booking_core.errors import BookingError

from bookings.errors import fail as report_error

if TYPE_CHECKING:
    from bookings.ml.data import LoadedBookings


def fail(message: str, code: int = 1) -> int:
    return report_error(message, code)


def guarded(run: Callable[[Any], int]) -> Callable[[Any], int]:
    """Turn the expected failures (unreadable file, bad model, bad data) into one-line errors."""

    def wrapper(args: Any) -> int:
        try:
            return run(args)
        except (BookingError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            return fail(str(exc))
        except ValueError as exc:
            return fail(str(exc))

    return wrapper


def load(paths: Sequence[str]) -> LoadedBookings:
    from bookings.ml.data import load_bookings

    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: no such file")
    return load_bookings(paths)


def describe_load(loaded: LoadedBookings) -> str:
    text = f"{loaded.rows} rows read: {loaded.valid} valid, {loaded.rejected} rejected"
    if loaded.rejection_examples:
        text += f" (e.g. {loaded.rejection_examples[0]})"
    return text

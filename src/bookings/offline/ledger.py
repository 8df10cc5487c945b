"""The processed-object ledger of an offline output directory (``DIR/ledger.json``).

Each offline run starts a new emulated account, so the idempotency table the deployed stack keeps
in DynamoDB is empty at the start of every run. The ledger carries it from run to run: one entry
per object that went through the pipeline, keyed by ``bucket/key#etag`` (the same bytes uploaded
under the same name), with its outcome, its bytes' checksum and its S3 sequencer. Before a run,
the claims of the files that completed are put back into the emulated idempotency table (the
object's, its bytes', and the latest version of its key), so the state machine itself reports
them as duplicates, recognises their bytes under another name, and supersedes them with a newer
version. The file is replaced whole (written aside, flushed, renamed): a killed run leaves the
previous ledger or the new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookings.durable_files import write_text

LEDGER_FILE = "ledger.json"
LEDGER_VERSION = 1


def ledger_key(bucket: str, key: str, etag: str) -> str:
    return f"{bucket}/{key}#{etag.strip(chr(34))}"


class LedgerError(ValueError):
    """The ledger file exists but cannot be used; the message names it."""


@dataclass
class Ledger:
    path: Path
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, out_dir: str | Path) -> Ledger:
        path = Path(out_dir) / LEDGER_FILE
        if not path.exists():
            return cls(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LedgerError(f"{path}: not a readable ledger ({exc})") from None
        if not isinstance(document, dict) or not isinstance(document.get("objects"), dict):
            raise LedgerError(f"{path}: not a ledger (no 'objects' mapping)")
        return cls(path, dict(document["objects"]))

    def get(self, key: str) -> dict[str, Any] | None:
        return self.objects.get(key)

    def completed(self, key: str) -> bool:
        entry = self.objects.get(key)
        return entry is not None and entry.get("status") == "succeeded"

    def record(self, key: str, entry: dict[str, Any]) -> None:
        """Remember an outcome and write the ledger at once (atomically), so an interrupted run
        keeps what it finished."""
        self.objects[key] = entry
        self.save()

    def completed_entries(self) -> dict[str, dict[str, Any]]:
        return {key: entry for key, entry in self.objects.items() if self.completed(key)}

    def save(self) -> None:
        document = {"version": LEDGER_VERSION, "objects": self.objects}
        write_text(self.path, json.dumps(document, indent=1, sort_keys=True))

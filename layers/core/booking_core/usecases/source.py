"""The S3 object a workflow ingests: its identity, and the booking date its key may carry."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeDetailModel

_KEY_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass(frozen=True)
class SourceObject:
    bucket: str
    key: str
    etag: str
    version_id: str | None
    size: int | None
    sequencer: str | None = None

    @classmethod
    def from_detail(cls, detail: S3EventNotificationEventBridgeDetailModel) -> SourceObject:
        """The object an S3 "Object Created" event's detail names."""
        found = detail.object
        return cls(
            bucket=detail.bucket.name,
            key=found.key,
            etag=found.etag,
            version_id=found.version_id,
            size=int(found.size) if found.size is not None else None,
            sequencer=found.sequencer,
        )

    @property
    def object_id(self) -> str:
        """``bucket/key#etag`` (the version id when there is no ETag). The ETag rather than the
        version: in a versioned bucket a re-upload of the same bytes is a new version, and
        processing it again would deliver every booking twice."""
        return f"{self.bucket}/{self.key}#{self.etag or self.version_id}"

    @property
    def source_file(self) -> str:
        """The source identity carried by every record (and hashed into its booking id)."""
        return f"s3://{self.bucket}/{self.key}#{self.etag}"

    @property
    def file_id(self) -> str:
        """A short, deterministic id for S3 key prefixes (a retried step rewrites the same keys)."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", self.key.rsplit("/", 1)[-1])[:60]
        digest = hashlib.sha256(self.object_id.encode()).hexdigest()[:16]
        return f"{stem}-{digest}"


def booking_date_from_key(key: str) -> date | None:
    """A date written in the object key (``.../2024-05-17/...`` or ``bookings_20240517.csv``)."""
    for match in _KEY_DATE.finditer(key):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None

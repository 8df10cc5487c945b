"""Idempotency claims on S3 objects (DynamoDB conditional writes).

S3 notifications are at-least-once: the same object may start two executions. The first to
claim the object's identity (``bucket/key#etag``, see ``usecases.source.SourceObject``)
processes it; any other sees the claim and stops as a duplicate. A FAILED claim may be taken
again (a corrected re-upload runs), and the execution that holds a claim may re-claim it (a
retried Validate task).

The same table holds two more kinds of item, told apart by their key's prefix:

- ``content#sha256:<hex>``: the claim on an object's bytes, taken by Validate once it has read
  them, so that the same bytes under another key are a duplicate file; released (FAILED) when
  the claimant fails, completed with its file;
- ``version#<bucket>/<key>``: the latest committed version of a key (its source file and the S3
  event's sequencer), advanced by FinalizeFile; a version that commits after a newer one
  learns it is superseded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from booking_core.audit import padded_sequencer

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
KEY_ATTRIBUTE = "object_id"
CONTENT_PREFIX = "content#sha256:"
VERSION_PREFIX = "version#"
# Claims expire (DynamoDB TTL on "expires_at") so that the table does not grow forever.
CLAIM_TTL_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Claim:
    acquired: bool
    status: str
    execution: str | None
    source_file: str | None = None


@dataclass(frozen=True)
class KeyVersion:
    """The latest committed version of an S3 key."""

    source_file: str
    sequencer: str
    execution: str | None


@dataclass(frozen=True)
class VersionAdvance:
    """What advancing a key's latest version did: ``current`` is the latest version now (this
    file unless a newer one already committed); ``replaced`` the version this file superseded."""

    accepted: bool
    current: KeyVersion
    replaced: KeyVersion | None


def content_id(checksum_sha256: str) -> str:
    return f"{CONTENT_PREFIX}{checksum_sha256}"


def version_id_of_key(bucket: str, key: str) -> str:
    return f"{VERSION_PREFIX}{bucket}/{key}"


@dataclass
class IdempotencyStore:
    client: Any
    table_name: str
    key_attribute: str = KEY_ATTRIBUTE

    def claim(self, object_id: str, execution: str, *, source_file: str | None = None) -> Claim:
        """Claim the object for ``execution``; ``acquired`` is False when another holds it."""
        now = int(time.time())
        item = {
            self.key_attribute: {"S": object_id},
            "status": {"S": IN_PROGRESS},
            "execution": {"S": execution},
            "claimed_at": {"N": str(now)},
            "expires_at": {"N": str(now + CLAIM_TTL_SECONDS)},
        }
        if source_file is not None:
            item["source_file"] = {"S": source_file}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=(
                    "attribute_not_exists(#key) OR #status = :failed OR #execution = :execution"
                ),
                ExpressionAttributeNames={
                    "#key": self.key_attribute,
                    "#status": "status",
                    "#execution": "execution",
                },
                ExpressionAttributeValues={
                    ":failed": {"S": FAILED},
                    ":execution": {"S": execution},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            held = self.get(object_id) or {}
            return Claim(
                acquired=False,
                status=held.get("status", {}).get("S", IN_PROGRESS),
                execution=held.get("execution", {}).get("S"),
                source_file=held.get("source_file", {}).get("S"),
            )
        return Claim(
            acquired=True, status=IN_PROGRESS, execution=execution, source_file=source_file
        )

    def get(self, object_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": object_id}},
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def status(self, object_id: str) -> str | None:
        item = self.get(object_id)
        return None if item is None else str(item["status"]["S"])

    def complete(self, object_id: str, summary_json: str) -> None:
        self._set_status(object_id, COMPLETED, "summary", summary_json)

    def fail(self, object_id: str, error_json: str) -> None:
        self._set_status(object_id, FAILED, "error", error_json)

    # -- the bytes of an object ----------------------------------------------------------------
    def claim_content(self, checksum_sha256: str, execution: str, source_file: str) -> Claim:
        """Claim these bytes for ``execution``'s file; not acquired when another file holds or
        ingested them (``source_file`` of the claim names it)."""
        return self.claim(content_id(checksum_sha256), execution, source_file=source_file)

    def note_content(self, object_id: str, checksum_sha256: str) -> None:
        """Remember on the object's claim which bytes it claimed (QuarantineFile releases them)."""
        self.client.update_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": object_id}},
            UpdateExpression="SET checksum_sha256 = :checksum",
            ExpressionAttributeValues={":checksum": {"S": checksum_sha256}},
        )

    def content_of(self, object_id: str) -> str | None:
        item = self.get(object_id) or {}
        value = item.get("checksum_sha256", {}).get("S")
        return str(value) if value else None

    def complete_content(self, checksum_sha256: str, execution: str) -> None:
        self._set_status_if_held(content_id(checksum_sha256), execution, COMPLETED)

    def release_content(self, checksum_sha256: str, execution: str) -> bool:
        """FAILED, so that the same bytes can be ingested again; only by the holder."""
        return self._set_status_if_held(content_id(checksum_sha256), execution, FAILED)

    def _set_status_if_held(self, item_id: str, execution: str, status: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={self.key_attribute: {"S": item_id}},
                UpdateExpression="SET #status = :status, finished_at = :now",
                ConditionExpression="#execution = :execution",
                ExpressionAttributeNames={"#status": "status", "#execution": "execution"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":execution": {"S": execution},
                    ":now": {"N": str(int(time.time()))},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # -- the versions of a key -----------------------------------------------------------------
    def advance_version(
        self, bucket: str, key: str, source_file: str, sequencer: str | None, execution: str
    ) -> VersionAdvance:
        """Make ``source_file`` the latest committed version of ``bucket/key`` unless a version
        with a greater sequencer already is (S3 events may arrive out of order)."""
        padded = padded_sequencer(sequencer)
        item_id = version_id_of_key(bucket, key)
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key={self.key_attribute: {"S": item_id}},
                UpdateExpression=(
                    "SET source_file = :file, sequencer = :sequencer, #execution = :execution, "
                    "#status = :completed, finished_at = :now"
                ),
                ConditionExpression=(
                    "attribute_not_exists(#key) OR sequencer <= :sequencer OR source_file = :file"
                ),
                ExpressionAttributeNames={
                    "#key": self.key_attribute,
                    "#execution": "execution",
                    "#status": "status",
                },
                ExpressionAttributeValues={
                    ":file": {"S": source_file},
                    ":sequencer": {"S": padded},
                    ":execution": {"S": execution},
                    ":completed": {"S": COMPLETED},
                    ":now": {"N": str(int(time.time()))},
                },
                ReturnValues="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            newer = _key_version(self.get(item_id) or {})
            if newer is None:  # removed meanwhile: nothing newer stands in the way
                return self.advance_version(bucket, key, source_file, sequencer, execution)
            return VersionAdvance(accepted=False, current=newer, replaced=None)
        current = KeyVersion(source_file, padded, execution)
        previous = _key_version(response.get("Attributes") or {})
        if previous is not None and previous.source_file == source_file:
            previous = None
        return VersionAdvance(accepted=True, current=current, replaced=previous)

    def latest_version(self, bucket: str, key: str) -> KeyVersion | None:
        return _key_version(self.get(version_id_of_key(bucket, key)) or {})

    def record_version(self, bucket: str, key: str, version: KeyVersion) -> None:
        """Put a key's latest version back (an offline run carries it from its ledger)."""
        self.client.put_item(
            TableName=self.table_name,
            Item={
                self.key_attribute: {"S": version_id_of_key(bucket, key)},
                "source_file": {"S": version.source_file},
                "sequencer": {"S": version.sequencer},
                "execution": {"S": version.execution or "earlier-run"},
                "status": {"S": COMPLETED},
            },
        )

    def _set_status(self, object_id: str, status: str, attribute: str, value: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": object_id}},
            UpdateExpression="SET #status = :status, #detail = :detail, finished_at = :now",
            ExpressionAttributeNames={"#status": "status", "#detail": attribute},
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":detail": {"S": value},
                ":now": {"N": str(int(time.time()))},
            },
        )


def _key_version(item: dict[str, Any]) -> KeyVersion | None:
    source_file = item.get("source_file", {}).get("S")
    if not source_file:
        return None
    return KeyVersion(
        source_file=str(source_file),
        sequencer=str(item.get("sequencer", {}).get("S", "")),
        execution=item.get("execution", {}).get("S"),
    )

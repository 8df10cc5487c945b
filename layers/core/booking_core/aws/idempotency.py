"""Idempotency claims on S3 objects (DynamoDB conditional writes).

S3 notifications are at-least-once: the same object may start two executions. The first to
claim the object's identity (``bucket/key#etag``, see ``usecases.source.SourceObject``)
processes it; any other sees the claim and stops as a duplicate. A FAILED claim may be taken
again (a corrected re-upload runs), and the execution that holds a claim may re-claim it (a
retried Validate task).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
KEY_ATTRIBUTE = "object_id"
# Claims expire (DynamoDB TTL on "expires_at") so that the table does not grow forever.
CLAIM_TTL_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Claim:
    acquired: bool
    status: str
    execution: str | None


@dataclass
class IdempotencyStore:
    client: Any
    table_name: str
    key_attribute: str = KEY_ATTRIBUTE

    def claim(self, object_id: str, execution: str) -> Claim:
        """Claim the object for ``execution``; ``acquired`` is False when another holds it."""
        now = int(time.time())
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    self.key_attribute: {"S": object_id},
                    "status": {"S": IN_PROGRESS},
                    "execution": {"S": execution},
                    "claimed_at": {"N": str(now)},
                    "expires_at": {"N": str(now + CLAIM_TTL_SECONDS)},
                },
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
            item = self.get(object_id) or {}
            return Claim(
                acquired=False,
                status=item.get("status", {}).get("S", IN_PROGRESS),
                execution=item.get("execution", {}).get("S"),
            )
        return Claim(acquired=True, status=IN_PROGRESS, execution=execution)

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

"""Alerts (SNS) and domain events (EventBridge)."""

from __future__ import annotations

from typing import Any

import orjson

EVENT_SOURCE = "airline.bookings"
FILE_PROCESSED = "File Processed"
SNS_SUBJECT_LIMIT = 100


def publish_alert(sns: Any, topic_arn: str, subject: str, message: dict[str, Any]) -> str:
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=subject[:SNS_SUBJECT_LIMIT],
        Message=orjson.dumps(message, option=orjson.OPT_INDENT_2).decode(),
    )
    return str(response["MessageId"])


def put_event(events: Any, bus_name: str, detail_type: str, detail: dict[str, Any]) -> None:
    response = events.put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": orjson.dumps(detail).decode(),
                "EventBusName": bus_name,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise RuntimeError(
            f"EventBridge rejected the {detail_type!r} event on {bus_name}: "
            f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )

"""EventBridge, emulated: the S3 event of an upload, matched against the template's rules.

moto does not start a state machine from a rule, so the stack builds the S3 "Object Created"
event itself, matches it against the patterns of the rules that target the state machine and, when
one matches, starts a named execution (``EmulatedStack.put_file``, ``OfflineSession.process``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bookings.offline.emulator.errors import HarnessError
from bookings.offline.emulator.template_resolver import TemplateResolver

# The comparison operators moto's matcher evaluates. For any other operator it answers "matches"
# (its fallback), so a rule using one would start an execution for every event: such a pattern is
# refused here rather than matched wrongly.
MATCHED_OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "wildcard",
        "anything-but",
        "exists",
        "equals-ignore-case",
        "numeric",
        "cidr",
    }
)


def _check_operators(pattern: Mapping[str, Any]) -> None:
    for key, condition in pattern.items():
        if key == "$or":
            for alternative in condition:
                _check_operators(alternative)
        elif isinstance(condition, Mapping):
            _check_operators(condition)
        elif isinstance(condition, list):
            for option in condition:
                if isinstance(option, Mapping):
                    _check_filter(option)


def _check_filter(comparison: Mapping[str, Any]) -> None:
    if set(comparison) - MATCHED_OPERATORS:
        raise HarnessError(f"event pattern operator not emulated: {dict(comparison)}")
    for value in comparison.values():
        if isinstance(value, Mapping):  # e.g. {"anything-but": {"prefix": ...}}
            _check_filter(value)


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches an EventBridge event pattern, by moto's matcher (exact values,
    prefix, suffix, wildcard, anything-but, exists, equals-ignore-case, numeric, cidr, $or)."""
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import EventPattern

    _check_operators(pattern)
    try:
        matcher = EventPattern.load(json.dumps(pattern))
    except InvalidEventPatternException as exc:
        raise HarnessError(f"not a valid event pattern: {exc}") from None
    # moto types the event as its own TypedDict; any JSON object is matched the same way.
    return bool(matcher.matches_event(dict(event)))  # type: ignore[arg-type]


def rule_patterns(resolver: TemplateResolver, target_arn: str) -> list[dict[str, Any]]:
    """The event patterns of the template's rules that target ``target_arn``."""
    patterns = []
    for logical_id in resolver.resources_of("AWS::Events::Rule"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        if any(t.get("Arn") == target_arn for t in props.get("Targets", [])):
            patterns.append(props["EventPattern"])
    return patterns


def object_created_event(
    s3: Any, *, bucket: str, key: str, account: str, region: str
) -> dict[str, Any]:
    """The EventBridge "Object Created" event S3 sends for an existing object."""
    head = s3.head_object(Bucket=bucket, Key=key)
    detail_object: dict[str, Any] = {
        "key": key,
        "size": head["ContentLength"],
        "etag": head["ETag"].strip('"'),
        # S3's sequencers grow with each event of a key: a clock in nanoseconds does, across runs.
        "sequencer": f"{time.time_ns():016X}",
    }
    if head.get("VersionId") and head["VersionId"] != "null":
        detail_object["version-id"] = head["VersionId"]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": detail_object,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "reason": "PutObject",
        },
    }

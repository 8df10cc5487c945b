"""How the offline stack matches EventBridge patterns: moto's matcher, minus what it cannot do."""

from __future__ import annotations

from typing import Any

import pytest

from bookings.offline.emulator import HarnessError, pattern_matches


def upload(key: str, bucket: str = "raw") -> dict[str, Any]:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}},
    }


@pytest.mark.parametrize(
    ("condition", "key", "matches"),
    [
        ({"prefix": "incoming/"}, "incoming/a.csv", True),
        ({"prefix": "incoming/"}, "elsewhere/incoming/a.csv", False),
        ({"suffix": ".csv"}, "incoming/a.csv", True),
        ({"suffix": ".csv"}, "incoming/a.csv.tmp", False),
        ({"wildcard": "incoming/*.csv"}, "incoming/2024/05/a.csv", True),
        ({"wildcard": "incoming/*.csv"}, "incoming/a.txt", False),
        # EventBridge's wildcard knows only "*": "?" and "[...]" are literal characters.
        ({"wildcard": "incoming/?.csv"}, "incoming/a.csv", False),
        ({"wildcard": "incoming/?.csv"}, "incoming/?.csv", True),
        ({"wildcard": "incoming/[ab].csv"}, "incoming/a.csv", False),
        ({"anything-but": {"prefix": "tmp/"}}, "incoming/a.csv", True),
        ({"anything-but": {"prefix": "tmp/"}}, "tmp/a.csv", False),
    ],
)
def test_the_rule_operators_match_as_eventbridge_does(
    condition: dict[str, Any], key: str, matches: bool
) -> None:
    pattern = {"source": ["aws.s3"], "detail": {"object": {"key": [condition]}}}
    assert pattern_matches(pattern, upload(key)) is matches


def test_any_value_of_a_list_matches_and_a_missing_field_does_not() -> None:
    assert pattern_matches({"resources": ["arn:aws:s3:::raw"]}, upload("incoming/a.csv"))
    assert not pattern_matches({"resources": ["arn:aws:s3:::other"]}, upload("incoming/a.csv"))
    assert not pattern_matches({"detail": {"reason": ["PutObject"]}}, upload("incoming/a.csv"))
    assert pattern_matches({"detail": {"reason": [{"exists": False}]}}, upload("incoming/a.csv"))


def test_an_operator_moto_does_not_evaluate_is_refused_not_matched() -> None:
    # moto's matcher would answer "matches" for it, starting an execution for every upload.
    pattern = {"detail": {"object": {"key": [{"regex": "^incoming/"}]}}}
    with pytest.raises(HarnessError, match="operator not emulated"):
        pattern_matches(pattern, upload("elsewhere/a.csv"))
    nested = {"detail": {"object": {"key": [{"anything-but": {"regex": "x"}}]}}}
    with pytest.raises(HarnessError, match="operator not emulated"):
        pattern_matches(nested, upload("incoming/a.csv"))


def test_a_pattern_eventbridge_would_reject_is_refused() -> None:
    with pytest.raises(HarnessError, match="not a valid event pattern"):
        pattern_matches({"source": "aws.s3"}, upload("incoming/a.csv"))

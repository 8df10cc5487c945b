"""Reading state visits out of an execution history, including the one history that moto's
Distributed Map children share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bookings.offline.emulator.executions import visits_of

START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


class History:
    """Builds a history event by event, each naming the event it followed."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, after: int, **details: Any) -> int:
        event_id = len(self.events) + 1
        event = {
            "id": event_id,
            "previousEventId": after,
            "type": kind,
            "timestamp": START + timedelta(seconds=event_id),
            **details,
        }
        self.events.append(event)
        return event_id

    def enter(self, name: str, after: int) -> int:
        return self.add("TaskStateEntered", after, stateEnteredEventDetails={"name": name})

    def leave(self, name: str, after: int) -> int:
        return self.add("TaskStateExited", after, stateExitedEventDetails={"name": name})

    def lambda_call(self, after: int) -> int:
        scheduled = self.add("LambdaFunctionScheduled", after)
        return self.add("LambdaFunctionStarted", scheduled)


def test_a_child_failure_marks_its_own_state_not_the_state_a_sibling_was_left_in() -> None:
    history = History()
    # Two children interleaved in one history: the first is scoring, the second delivering.
    scoring = history.enter("Score", 0)
    delivering = history.enter("Deliver", 0)
    score_call = history.lambda_call(scoring)
    deliver_call = history.lambda_call(delivering)
    history.add(
        "LambdaFunctionFailed",
        deliver_call,
        lambdaFunctionFailedEventDetails={"error": "RuntimeError", "cause": "refused"},
    )
    del score_call  # the first child is stopped by the map run before its call returns
    visits = visits_of(history.events)
    assert [(visit.name, visit.failed) for visit in visits] == [
        ("Score", False),
        ("Deliver", True),
    ]


def test_visits_pair_each_exit_with_its_own_entry_when_children_interleave() -> None:
    history = History()
    first = history.enter("Enrich", 0)
    second = history.enter("Enrich", 0)
    second_done = history.lambda_call(second)
    first_done = history.lambda_call(first)
    history.leave("Enrich", second_done)  # the second child leaves first
    history.leave("Enrich", first_done)
    visits = visits_of(history.events)
    # Entered at t=1 and t=2; the second left at t=7 (5 s), the first at t=8 (7 s).
    assert [visit.seconds for visit in visits] == [5.0, 7.0]
    assert not any(visit.failed for visit in visits)


def test_a_failed_execution_marks_the_state_it_ended_in() -> None:
    history = History()
    validate = history.enter("Validate", 0)
    history.leave("Validate", history.lambda_call(validate))
    failing = history.add("FailStateEntered", 3, stateEnteredEventDetails={"name": "FileFailed"})
    history.add("ExecutionFailed", failing, executionFailedEventDetails={"error": "X"})
    visits = visits_of(history.events)
    assert [(visit.name, visit.state_type, visit.failed) for visit in visits] == [
        ("Validate", "Task", False),
        ("FileFailed", "Fail", True),
    ]


def test_a_failure_that_traces_to_no_entry_fails_every_open_state() -> None:
    history = History()
    history.enter("Wait", 0)
    history.add("ExecutionFailed", 999, executionFailedEventDetails={"error": "X"})
    assert [(visit.name, visit.failed) for visit in visits_of(history.events)] == [("Wait", True)]

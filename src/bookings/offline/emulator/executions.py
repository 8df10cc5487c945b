"""Executions of a state machine in moto's interpreter: started, waited for, their states timed."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bookings.offline.emulator.errors import HarnessError
from bookings.offline.emulator.step_functions import StepFunctionsRules

POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 0.25


@dataclass(frozen=True)
class StateVisit:
    """One entry into a state, from the execution's history."""

    name: str
    state_type: str
    seconds: float
    failed: bool = False


@dataclass
class ExecutionOutcome:
    """How an execution ended, and the states it went through."""

    name: str
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    seconds: float
    states: list[StateVisit] = field(default_factory=list)
    # The states of its Distributed Maps' child executions (histories of their own in AWS).
    child_states: list[StateVisit] = field(default_factory=list)
    # Why its child executions failed, one line each (in AWS: each child's own history).
    child_failures: list[str] = field(default_factory=list)
    history_events: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def visited(self) -> list[str]:
        """The states of the execution itself, in order."""
        return [visit.name for visit in self.states]

    def child_visited(self) -> list[str]:
        """The states its child executions went through."""
        return [visit.name for visit in self.child_states]

    def seconds_by_state(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for visit in [*self.states, *self.child_states]:
            totals[visit.name] = totals.get(visit.name, 0.0) + visit.seconds
        return totals


class Executions:
    """Starts executions of one state machine and follows them to their end."""

    def __init__(self, client: Callable[[str], Any], state_machine_arn: str) -> None:
        self._client = client
        self.state_machine_arn = state_machine_arn
        self._counter = 0

    def name_for(self, key: str) -> str:
        """A unique execution name that says which object it processes."""
        self._counter += 1
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", key.rsplit("/", 1)[-1]).strip("-")[:50]
        return f"{stem}-{self._counter:03d}-{uuid.uuid4().hex[:8]}"

    def start(self, event: Mapping[str, Any], *, name: str) -> str:
        response = self._client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(event)
        )
        return str(response["executionArn"])

    def wait(self, execution_arn: str, *, timeout: float = 600.0) -> ExecutionOutcome:
        sfn = self._client("stepfunctions")
        started = time.perf_counter()
        pause = POLL_FIRST_SECONDS
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.perf_counter() - started > timeout:
                raise HarnessError(f"execution {execution_arn} still running after {timeout} s")
            # Each poll is a request to moto in this process, taken from the interpreter's time:
            # short executions are seen at once, long ones polled a few times a second.
            time.sleep(pause)
            pause = min(POLL_MAX_SECONDS, pause * 1.5)
        seconds = time.perf_counter() - started
        output = described.get("output")
        history = self._history(execution_arn)
        children = StepFunctionsRules.child_histories.get(execution_arn, [])
        return ExecutionOutcome(
            name=described["name"],
            arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            seconds=seconds,
            states=visits_of(history),
            child_states=visits_of(children),
            child_failures=failures_of(children),
            history_events=len(history),
        )

    def state_visits(self, execution_arn: str) -> list[StateVisit]:
        """The states an execution went through, in order, with their durations."""
        return visits_of(self._history(execution_arn))

    def _history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self._client("stepfunctions")
        events: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events


def visits_of(history: list[dict[str, Any]]) -> list[StateVisit]:
    """The states a history went through, in the order they ended, with their durations.

    Each event names the event it followed (``previousEventId``); walking back from an exit or a
    failure reaches the entry of its own state. That keeps visits apart where several child
    executions of a Distributed Map share one history: a child's failure marks its own state,
    not the states its siblings were in when the map run stopped them. A state entered and never
    left is listed last, failed only when a failure traces back to it."""
    by_id = {event["id"]: event for event in history if "id" in event}
    entries: dict[int, tuple[str, str, datetime]] = {}
    failed_entries: set[int] = set()
    visits: list[StateVisit] = []
    open_entries: list[int] = []

    def entry_of(event: dict[str, Any] | None) -> int | None:
        seen: set[int] = set()
        while event is not None and int(event["id"]) not in seen:
            if _kind(event).endswith("StateEntered"):
                return int(event["id"])
            seen.add(int(event["id"]))
            event = by_id.get(event.get("previousEventId"))
        return None

    for event in history:
        kind = _kind(event)
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            entries[event["id"]] = (name, kind[: -len("StateEntered")], _timestamp(event))
            open_entries.append(event["id"])
        elif kind.endswith("StateExited"):
            entry = entry_of(event)
            if entry is None or entry not in open_entries:
                continue
            open_entries.remove(entry)
            name, state_type, entered = entries[entry]
            seconds = (_timestamp(event) - entered).total_seconds()
            visits.append(StateVisit(name, state_type, seconds, entry in failed_entries))
        elif kind in _FAILURE_EVENTS:
            entry = entry_of(event)
            # A failure that traces back to no state entry fails every state still open.
            failed_entries.update(open_entries if entry is None else [entry])
    for entry in open_entries:
        name, state_type, _ = entries[entry]
        visits.append(StateVisit(name, state_type, 0.0, entry in failed_entries))
    return visits


def _kind(event: dict[str, Any]) -> str:
    """An event's type: text from the API, an enum of text in moto's own event lists."""
    kind = event["type"]
    return str(getattr(kind, "value", kind))


_FAILURE_EVENTS = frozenset(
    {
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "TaskFailed",
        "TaskTimedOut",
        "ExecutionFailed",
        "ExecutionTimedOut",
    }
)

_FAILURE_DETAILS = (
    "lambdaFunctionFailedEventDetails",
    "taskFailedEventDetails",
    "executionFailedEventDetails",
)


def failures_of(history: list[dict[str, Any]]) -> list[str]:
    """The distinct failures of a history, ``<error>: <message>`` (a Lambda's cause is its
    JSON error document, whose message is kept)."""
    found: list[str] = []
    for event in history:
        for key in _FAILURE_DETAILS:
            details = event.get(key)
            if not details:
                continue
            cause = str(details.get("cause") or "")
            with contextlib.suppress(ValueError, AttributeError):
                cause = str(json.loads(cause).get("errorMessage") or cause)
            line = " ".join(f"{details.get('error') or 'Error'}: {cause}".split())
            if line not in found:
                found.append(line)
    return found


def _timestamp(event: dict[str, Any]) -> datetime:
    """An event's time: a datetime from the API, ISO text in moto's own event lists."""
    value = event["timestamp"]
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

"""Step Functions as AWS runs it: the rules moto's interpreter (moto 5.2.5) leaves out.

Installed for as long as an ``EmulatedStack`` runs (``StepFunctionsRules``), so the offline stack
fails where the deployed one fails:

- **States.ALL does not catch States.DataLimitExceeded nor States.Runtime** (Step Functions
  developer guide, "Error names"): both are terminal; moto's ``States.ALL`` matches every error.
- **The 256 KB payload quota applies to a Map state's result** before ResultSelector and
  ResultPath (``ResultPath: null`` does not help): moto checks task results and state outputs
  only. A Map with a ResultWriter returns the ResultWriter's details instead of its items'.
- **An execution's history holds at most 25,000 events**: the 25,000th is ``ExecutionFailed``
  with ``States.Runtime``, "The execution reached the maximum number of history events
  (25000)."; moto keeps no count. (A Distributed Map's child executions have a history each.)
- **A Distributed Map fails once its failed items exceed ToleratedFailureCount or
  ToleratedFailurePercentage** (both 0 by default) with ``States.ExceedToleratedFailureThreshold``,
  and starts no further child: moto ignores both fields and succeeds with ``null`` results.
- **A States.* error keeps its name when raised again** (a Fail state's ErrorPath reading a
  caught error, a Map whose iteration failed with it): moto turns it into States.Runtime.

It also turns moto's Map workers' recursion (one call per item) into a loop, so a Map of
thousands of items runs, and keeps what moto discards: the history of a Distributed Map's child
executions (moto runs them in threads, not as executions), so the offline stack can report their
states; and it tells ``child_started`` observers of each child execution the Distributed Map
starts (the permission audit checks the state machine's role may start it).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, cast

PAYLOAD_LIMIT_BYTES = 256 * 1024
HISTORY_EVENT_LIMIT = 25_000
HISTORY_LIMIT_CAUSE = (
    f"The execution reached the maximum number of history events ({HISTORY_EVENT_LIMIT})."
)
TOLERANCE_CAUSE = "The specified tolerated failure threshold was exceeded"
# Errors Step Functions documents as never matched by States.ALL.
TERMINAL_ERRORS = frozenset({"States.DataLimitExceeded", "States.Runtime"})

# (state machine ARN, execution ARN of the parent) of each child execution a Distributed Map
# starts, told to every observer.
ChildObserver = Callable[[str, str], None]


class StepFunctionsRules:
    """Installs the rules (and the child-history capture) into moto's interpreter while in use;
    re-entrant, so nested emulated stacks share one installation."""

    _lock: ClassVar[threading.RLock] = threading.RLock()
    _users: ClassVar[int] = 0
    _restore: ClassVar[contextlib.ExitStack | None] = None
    # Parent execution ARN -> the history events of its Distributed Maps' child executions.
    child_histories: ClassVar[dict[str, list[dict[str, Any]]]] = {}
    child_started: ClassVar[list[ChildObserver]] = []

    @classmethod
    @contextlib.contextmanager
    def installed(cls) -> Iterator[type[StepFunctionsRules]]:
        with cls._lock:
            if cls._users == 0:
                cls._restore = _install(cls)
            cls._users += 1
        try:
            yield cls
        finally:
            with cls._lock:
                cls._users -= 1
                if cls._users == 0 and cls._restore is not None:
                    cls._restore.close()
                    cls._restore = None
                    cls.child_histories.clear()
                    cls.child_started.clear()


def _patch(restore: contextlib.ExitStack, owner: Any, name: str, replacement: Any) -> None:
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    restore.callback(setattr, owner, name, original)


def _install(rules: type[StepFunctionsRules]) -> contextlib.ExitStack:
    restore = contextlib.ExitStack()
    try:
        _terminal_errors_escape_states_all(restore)
        _states_errors_rethrown(restore)
        _map_results_within_payload_quota(restore)
        _history_limited(restore)
        _tolerated_failures_enforced(restore, rules)
        _child_histories_kept(restore, rules)
        _map_workers_loop(restore)
        # The warning that ToleratedFailureCount has no effect is no longer true here.
        preprocessor = logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor")
        level = preprocessor.level
        preprocessor.setLevel(logging.ERROR)
        restore.callback(preprocessor.setLevel, level)
    except BaseException:
        restore.close()
        raise
    return restore


# -- errors ---------------------------------------------------------------------------------------


def _terminal_errors_escape_states_all(restore: contextlib.ExitStack) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )

    original = ErrorEqualsDecl._eval_body

    @functools.wraps(original)
    def eval_body(self: Any, env: Any) -> None:
        error = env.stack[-1]
        name = getattr(error, "error_name", None)
        named = {getattr(candidate, "error_name", None) for candidate in self.error_names}
        if name in TERMINAL_ERRORS and name not in named:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    _patch(restore, ErrorEqualsDecl, "_eval_body", eval_body)


def _states_errors_rethrown(restore: contextlib.ExitStack) -> None:
    """A States.* error keeps its name when it is raised again: by a Fail state whose ErrorPath
    reads a caught error, and by a Map whose iteration failed with it. moto makes a custom error
    name of it, which may not start with ``States.``, and fails with States.Runtime instead."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        iteration_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    states_errors = {kind.to_name(): kind for kind in StatesErrorNameType}

    def error_name(error_name: str | None) -> Any:
        if error_name in states_errors:
            return StatesErrorName(typ=states_errors[error_name])
        return CustomErrorName(error_name=error_name)

    for module in (iteration_worker, state_fail):
        _patch(restore, module, "CustomErrorName", error_name)


def _failure(env: Any, error: str, cause: str, event_type: Any) -> Exception:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    kind = {
        "States.DataLimitExceeded": StatesErrorNameType.StatesStatesDataLimitExceeded,
        "States.ExceedToleratedFailureThreshold": (
            StatesErrorNameType.StatesExceedToleratedFailureThreshold
        ),
    }[error]
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=kind),
            event_type=event_type,
            event_details=cast(
                EventDetails,
                {
                    "executionFailedEventDetails": ExecutionFailedEventDetails(
                        error=error, cause=cause
                    )
                },
            ),
        )
    )


# -- payload --------------------------------------------------------------------------------------


def _map_results_within_payload_quota(restore: contextlib.ExitStack) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.quotas import is_within_size_quota

    original = StateMap._eval_execution

    @functools.wraps(original)
    def eval_execution(self: Any, env: Any) -> None:
        original(self, env)
        if env.stack and not is_within_size_quota(env.stack[-1]):
            raise _failure(
                env,
                "States.DataLimitExceeded",
                f"The state/task '{self.name}' returned a result with a size exceeding the "
                "maximum number of bytes service limit.",
                HistoryEventType.MapStateFailed,
            )

    _patch(restore, StateMap, "_eval_execution", eval_execution)


# -- history --------------------------------------------------------------------------------------


def _history_limited(restore: contextlib.ExitStack) -> None:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    failure = ExecutionFailedEventDetails(error="States.Runtime", cause=HISTORY_LIMIT_CAUSE)

    class HistoryLimitedEventManager(EventManager):  # type: ignore[misc]
        """An execution's own history: its 25,000th event ends it."""

        def __init__(self, env: Any, logging_session: Any) -> None:
            super().__init__(cloud_watch_logging_session=logging_session)
            self._env = env
            self._limit_lock = threading.Lock()
            self._events = 0
            self._exceeded = False

        def add_event(
            self,
            context: Any,
            event_type: Any,
            event_details: Any = None,
            timestamp: Any = None,
            update_source_event_id: bool = True,
        ) -> int:
            with self._limit_lock:
                if self._exceeded:
                    if event_type != HistoryEventType.ExecutionFailed:
                        return self._events  # nothing happens after the cut
                    # The execution's end is the limit, whatever the interrupted state raised.
                    self._env.set_error(failure)
                    event_details = cast(EventDetails, {"executionFailedEventDetails": failure})
                event_id: int = super().add_event(
                    context, event_type, event_details, timestamp, update_source_event_id
                )
                self._events = event_id
                tripped = not self._exceeded and event_id >= HISTORY_EVENT_LIMIT - 1
                self._exceeded = self._exceeded or tripped
            if tripped:
                self._env.set_error(failure)
            return event_id

    original = ExecutionWorker._get_evaluation_environment

    @functools.wraps(original)
    def evaluation_environment(self: Any) -> Any:
        env = original(self)
        env.event_manager = HistoryLimitedEventManager(env, env.cloud_watch_logging_session)
        return env

    _patch(restore, ExecutionWorker, "_get_evaluation_environment", evaluation_environment)


# -- Distributed Map ------------------------------------------------------------------------------


def _tolerated_failures_enforced(
    restore: contextlib.ExitStack, rules: type[StepFunctionsRules]
) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator.distributed_iterator_worker import (  # noqa: E501
        DistributedIteratorWorker,
    )

    def enforcing(original: Any) -> Any:
        @functools.wraps(original)
        def eval_job(self: Any, env: Any, job: Any) -> None:
            context = env.states.context_object.context_object_data
            for observer in list(rules.child_started):
                observer(context["StateMachine"]["Id"], context["Execution"]["Id"])
            original(self, env, job)
            record = self._map_run_record
            failed = record.item_counter.failed.get() + record.item_counter.timed_out.get()
            total = max(1, self._job_pool._jobs_number)
            if _past_threshold(
                failed, total, record.tolerated_failure_count, record.tolerated_failure_percentage
            ):
                # A failed job output stops the pool: no further child starts, and the map run
                # raises it (MapRunFailed), as Step Functions stops a Map Run past its threshold.
                job.job_output = _failure(
                    env,
                    "States.ExceedToleratedFailureThreshold",
                    f"{TOLERANCE_CAUSE}: {failed} of {total} item(s) failed, at most "
                    f"{record.tolerated_failure_count} "
                    f"({record.tolerated_failure_percentage:g}%) tolerated",
                    HistoryEventType.MapRunFailed,
                )

        return eval_job

    for worker in (DistributedItemProcessorWorker, DistributedIteratorWorker):
        _patch(restore, worker, "_eval_job", enforcing(worker._eval_job))


def _past_threshold(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether a Map Run has more failed items than it tolerates. A threshold left at 0 counts
    only when both are (moto cannot tell a threshold written as 0 from one left out): then the
    first failure fails the Map Run, as Step Functions does without thresholds."""
    if count == 0 and percentage == 0:
        return failed > 0
    return (count > 0 and failed > count) or (
        percentage > 0 and 100.0 * failed / total > percentage
    )


def _map_workers_loop(restore: contextlib.ExitStack) -> None:
    """moto's Map workers take their next item by calling themselves again (a tail call), so a
    worker runs out of Python's recursion limit after some hundreds of items: a file of more
    chunks than that, one at a time, failed with "maximum recursion depth exceeded". The tail
    call is turned into a loop."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import (  # noqa: E501
        IterationWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator.distributed_iterator_worker import (  # noqa: E501
        DistributedIteratorWorker,
    )

    def looping(original: Any) -> Any:
        @functools.wraps(original)
        def eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
            if getattr(self, "_pool_running", False):  # the tail call: the loop takes it
                self._pool_next = (job, worker_frame)
                return
            self._pool_running = True
            try:
                pending: tuple[Any, Any] | None = (job, worker_frame)
                while pending is not None:
                    self._pool_next = None
                    original(self, *pending)
                    pending = self._pool_next
            finally:
                self._pool_running = False

        return eval_pool

    for worker in (IterationWorker, DistributedItemProcessorWorker, DistributedIteratorWorker):
        _patch(restore, worker, "_eval_pool", looping(worker.__dict__["_eval_pool"]))


def _child_histories_kept(restore: contextlib.ExitStack, rules: type[StepFunctionsRules]) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
        DistributedIterationComponent,
    )

    original = DistributedIterationComponent._map_run

    @functools.wraps(original)
    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        # moto gives the children one event manager of their own, then drops it.
        children = env.event_manager
        parent = env.states.context_object.context_object_data["Execution"]["Id"]
        try:
            original(self, env, eval_input)
        finally:
            with rules._lock:
                rules.child_histories.setdefault(parent, []).extend(children.get_event_history())

    _patch(restore, DistributedIterationComponent, "_map_run", map_run)

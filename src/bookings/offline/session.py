"""The offline stack as a user drives it: upload files, let the state machine run, export the lake.

An ``OfflineSession`` starts the emulated account (``EmulatedStack``: the template's resources in
moto, the real ASL, the real handlers), optionally a local model server the Score function calls
through ``SAGEMAKER_RUNTIME_URL``, and processes files one at a time:

1. the file is uploaded under ``incoming/`` in the raw bucket, as a user would;
2. the S3 "Object Created" event is matched against the EventBridge rule's pattern and, when it
   matches, starts a named execution of the ingest state machine, which runs to its end;
3. the delivered bookings, the rejected rows and the audit rows are moved from the emulated lake
   bucket into the file's staging folder as partitioned Parquet (while the execution runs, too,
   so memory holds only the chunks in flight); a quarantined file and its error report are
   copied to ``DIR/quarantine/``;
4. the file is committed (``bookings.offline.commit``): when it succeeded and its export
   reconciled, its rows and its audit rows move into ``DIR/lake/``; otherwise only its audit
   rows do (a quarantined file leaves nothing in ``bookings``); its outcome goes into
   ``DIR/ledger.json``, so a later run of the same file is a duplicate.

One session writes to an output folder at a time (``bookings.offline.lock``); a session that
starts finishes or undoes what a killed one left (``commit.recover``).

With ``replay_dates`` (replaying historical exports), a file whose name holds a date, such as
``bookings_2025-03-01.csv``, is uploaded "on that day": the event's ``time``, hence the bookings'
``ingested_at`` and their ``ingest_date`` partition, is that date at the current time of day. This
exists offline only, to load history: in AWS the event time and Firehose's partitions follow the
real arrival time.

``close()`` (or leaving the ``with`` block) rebuilds ``DIR/catalog.duckdb``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads

from bookings.lake import BOOKINGS_TABLE, CATALOG_FILE, PARTITION_COLUMN, REJECTED_TABLE, LakeWriter
from bookings.offline.commit import Recovery, StagedFile, recover
from bookings.offline.emulator import (
    EmulatedStack,
    ExecutionOutcome,
    HarnessError,
    pattern_matches,
)
from bookings.offline.export import (
    QUARANTINE_DIR,
    STREAM_ERRORS_DIR,
    DrainCounts,
    LakeExporter,
    SeenRows,
    seen_rows_for,
)
from bookings.offline.ledger import Ledger, LedgerError, ledger_key
from bookings.offline.lock import OutputFolderBusyError, OutputLock
from bookings.offline.logs import captured_function_logs
from bookings.offline.memory import (
    frozen_startup_objects,
    limit_heap_arenas,
    release_free_memory,
)
from bookings.offline.template import TemplateError
from bookings.progress import Progress, SilentProgress
from bookings.project_files import template_path

LOCAL_ENDPOINT_NAME = "bookings-local"
MODEL_ARCHIVE = "model.tar.gz"
FUNCTION_LOG = "logs/functions.log"
INCOMING_PREFIX = "incoming/"
# How often the wait loop moves delivered records out of the emulated bucket.
DRAIN_INTERVAL_SECONDS = 0.5
POLL_SECONDS = 0.05
# Emulated S3 objects larger than this live in temporary files rather than in memory (moto's
# setting), so the chunks Validate stages for a large file do not all sit in memory at once.
OBJECT_MEMORY_BYTES = 1 << 20
S3_BUFFER_SETTING = "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"
# The emulated stack runs Lambda invocations one at a time, so more than one child execution in
# flight would only hold more chunks in memory at once, never finish sooner.
OFFLINE_OVERRIDES: dict[str, Any] = {"MapMaxConcurrency": 1}
# Rows the lake writer holds (as dicts) before it writes a row group: bounds the export's memory.
EXPORT_ROW_GROUP_ROWS = 16_384
# The last function of a chunk's iteration: one invocation per chunk done (for the progress).
CHUNK_LAST_FUNCTION = "DeliverFunction"

SUCCEEDED = "succeeded"
QUARANTINED = "quarantined"
DUPLICATE = "duplicate"
IGNORED = "ignored"
FAILED = "failed"


class OfflineRunError(RuntimeError):
    """The run itself cannot go on (not a file's outcome); the message is one line."""


def default_model(out_dir: Path) -> Path | None:
    """``DIR/model/model.tar.gz`` left by an earlier ``bookings demo``, if there is one."""
    candidate = out_dir / "model" / MODEL_ARCHIVE
    return candidate if candidate.is_file() else None


@dataclass
class StateTiming:
    """One state of an execution: how many times it was entered and its total time."""

    state: str
    type: str
    visits: int
    seconds: float
    failed: bool = False
    # A state of the Distributed Map's child executions (one per chunk), not of the execution.
    child: bool = False


@dataclass
class FileResult:
    file: str
    status: str
    rows: int = 0
    valid: int = 0
    rejected: int = 0
    delivered: int = 0
    scored: int = 0
    unscored: int = 0
    duplicates: int = 0
    key: str = ""
    execution: str | None = None
    seconds: float = 0.0
    states: list[StateTiming] = field(default_factory=list)
    error: str | None = None
    quarantined: list[str] = field(default_factory=list)
    exported_bookings: int = 0
    exported_rejected: int = 0
    # Rows the execution delivered that did not reach the lake (its file was not committed).
    discarded_bookings: int = 0
    discarded_rejected: int = 0
    checksum_sha256: str | None = None
    duplicate_of: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    crawler_status: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Time inside each function's handler (invocations run one at a time, so these add up to
    # the execution's busy time) and in moving the results to DIR/lake.
    handlers: dict[str, dict[str, float]] = field(default_factory=dict)
    export_seconds: float = 0.0
    # The upload time the execution saw (the event's ``time``): a replayed date or now.
    uploaded_at: str | None = None
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["seconds"] = round(self.seconds, 3)
        document["export_seconds"] = round(self.export_seconds, 3)
        for timing in document["handlers"].values():
            timing["seconds"] = round(timing["seconds"], 3)
        for state in document["states"]:
            state["seconds"] = round(state["seconds"], 3)
        return document


@dataclass
class RunResult:
    out: Path
    files: list[FileResult]
    lake: dict[str, int]
    catalog: Path | None
    model: str | None
    seconds: dict[str, float]
    # What this run's start finished or undid of a killed run, if anything.
    recovered: str | None = None

    @property
    def broken(self) -> bool:
        return any(f.status == FAILED for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "lake": self.lake,
            "out": str(self.out),
            "catalog": str(self.catalog) if self.catalog else None,
            "model": self.model,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "recovered": self.recovered,
        }


def summarise_states(outcome: ExecutionOutcome) -> list[StateTiming]:
    """The states in the order first entered, with visit counts and total durations: the
    execution's own, then its child executions'."""
    timings: dict[tuple[bool, str], StateTiming] = {}
    visits = [(False, v) for v in outcome.states] + [(True, v) for v in outcome.child_states]
    for child, visit in visits:
        timing = timings.get((child, visit.name))
        if timing is None:
            timing = timings[(child, visit.name)] = StateTiming(
                visit.name, visit.state_type, 0, 0.0, child=child
            )
        timing.visits += 1
        timing.seconds += visit.seconds
        timing.failed = timing.failed or visit.failed
    return list(timings.values())


def lake_counts(out_dir: Path) -> dict[str, int]:
    """Rows per table of the offline lake (from the Parquet footers)."""
    counts = {}
    for table in (BOOKINGS_TABLE, REJECTED_TABLE):
        directory = out_dir / "lake" / table
        if any(directory.glob(f"{PARTITION_COLUMN}=*/*.parquet")):
            dataset = pads.dataset(directory, format="parquet", partitioning="hive")
            counts[table] = dataset.count_rows()
        else:
            counts[table] = 0
    return counts


@contextlib.contextmanager
def _environment_variable(name: str, value: object) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = str(value)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _exported_rows(writer: LakeWriter) -> int:
    return writer.stats.bookings + writer.stats.rejected


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


EVENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def replayed_upload_time(file_name: str, now: datetime) -> datetime | None:
    """The upload time of a historical export: the date in its name (the pattern the core reads
    the booking date with) at ``now``'s time of day, so files of one day keep their order.

    None when the name holds no date or a date after ``now`` (an export cannot arrive early)."""
    from booking_core.usecases.source import booking_date_from_key

    day = booking_date_from_key(file_name)
    if day is None or day > now.date():
        return None
    return datetime.combine(day, now.timetz()).astimezone(UTC)


class OfflineSession:
    """The emulated stack, the local model server and the output directory of one run."""

    def __init__(
        self,
        out_dir: str | Path,
        *,
        model: str | Path | None = None,
        progress: Progress | None = None,
        template: str | Path | None = None,
        overrides: dict[str, Any] | None = None,
        drain_interval: float = DRAIN_INTERVAL_SECONDS,
        replay_dates: bool = False,
        wait: bool = False,
        function_timeouts: Mapping[str, float] | None = None,
        lock: OutputLock | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        # Variables added to every function's environment (e.g. QUICKSIGHT_DATASET_IDS).
        self.environment = dict(environment or {})
        self.function_timeouts = dict(function_timeouts or {})
        # The output folder's writer lock: taken here, unless the caller holds it already.
        self._owns_lock = lock is None
        self._lock = lock if lock is not None else OutputLock(self.out_dir, wait=wait)
        self.recovery = Recovery()
        self.replay_dates = replay_dates
        self.model_path = Path(model) if model else default_model(self.out_dir)
        self.progress = progress or SilentProgress()
        self.template = Path(template) if template else template_path()
        self.overrides = {**OFFLINE_OVERRIDES, **(overrides or {})}
        self.drain_interval = drain_interval
        self.ledger: Ledger | None = None
        self.stack: EmulatedStack | None = None
        self.exporter: LakeExporter | None = None
        self.model_version: str | None = None
        self._server: Any = None
        self._logs = contextlib.ExitStack()
        self._export_seconds = 0.0
        self._seen: dict[str, SeenRows] = {}
        self._audit: list[dict[str, Any]] = []
        # Records the delivery stream's processor failed, moved to DIR/quarantine/stream/.
        self._stream_failed = 0
        self.seconds: dict[str, float] = {}
        # The command's own output: the session sends standard output to the functions' log.
        self.stdout = sys.stdout

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> OfflineSession:
        started = time.perf_counter()
        if not self.template.is_file():
            raise OfflineRunError(f"{self.template}: template not found")
        if self.model_path is not None and not self.model_path.exists():
            raise OfflineRunError(f"{self.model_path}: model not found")
        self._open_output()
        # The template's log level: the functions' logs are kept in DIR/logs/functions.log.
        environment = {"POWERTOOLS_LOG_LEVEL": "INFO", **self.environment}
        # Before the model server's, the upload's and the state machine's threads start.
        limit_heap_arenas()
        try:
            if self.model_path is not None:
                environment.update(self._start_model_server())
            self._logs.enter_context(_environment_variable(S3_BUFFER_SETTING, OBJECT_MEMORY_BYTES))
            log_path = self.out_dir / FUNCTION_LOG
            log_path.parent.mkdir(parents=True, exist_ok=True)
            sink = self._logs.enter_context(log_path.open("a", encoding="utf-8"))
            self._logs.enter_context(captured_function_logs(sink))
            stack = EmulatedStack(
                self.template,
                overrides=self.overrides,
                environment=environment,
                function_timeouts=self.function_timeouts,
            )
            stack.__enter__()
            self.stack = stack
            self.exporter = LakeExporter(stack, self.out_dir)
            self._seed_claims()
            # The stack's start-up objects live as long as it does: leaving them out of full
            # collections lets the collector free moto's request cycles as fast as they come.
            self._logs.enter_context(frozen_startup_objects())
        except (HarnessError, TemplateError) as exc:
            self._stop()
            raise OfflineRunError(_one_line(exc)) from None
        except BaseException:
            self._stop()
            raise
        self.seconds["start"] = time.perf_counter() - started
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _open_output(self) -> None:
        """Create the output folder, take its writer lock, load the ledger and finish or undo
        what a killed session left there."""
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OfflineRunError(f"{self.out_dir}: cannot create ({exc.strerror})") from None
        if self._owns_lock:
            try:
                self._lock.acquire()
            except OutputFolderBusyError as exc:
                raise OfflineRunError(str(exc)) from None
        try:
            self.ledger = Ledger.load(self.out_dir)
            self.recovery = recover(self.out_dir, self.ledger)
        except BaseException:
            if self._owns_lock:
                self._lock.release()
            raise

    def _start_model_server(self) -> dict[str, str]:
        from bookings.ml.server import start_server

        try:
            self._server, url = start_server(self.model_path)  # type: ignore[arg-type]
        except Exception as exc:  # any failure to load the model ends the run with its reason
            raise OfflineRunError(
                f"{self.model_path}: cannot serve the model: {_one_line(exc)}"
            ) from None
        self.model_version = str(getattr(self._server.model, "model_version", "") or "") or None
        return {"SAGEMAKER_RUNTIME_URL": url, "MODEL_ENDPOINT_NAME": LOCAL_ENDPOINT_NAME}

    def _stop(self) -> None:
        try:
            if self.stack is not None:
                self.stack.__exit__(None, None, None)
                self.stack = None
            self._logs.close()
            if self._server is not None:
                from bookings.ml.server import stop_server

                stop_server(self._server)
                self._server = None
        finally:
            if self._owns_lock:
                self._lock.release()

    def _require_stack(self) -> EmulatedStack:
        if self.stack is None or self.exporter is None or self.ledger is None:
            raise OfflineRunError("the offline session is not started")
        return self.stack

    # -- one file -------------------------------------------------------------------------------
    def _setting(self, name: str, default: str) -> str:
        stack = self._require_stack()
        for spec in stack.functions.values():
            if spec.environment.get(name):
                return spec.environment[name]
        return default

    def _seed_claims(self) -> None:
        """Put the claims of the files earlier runs completed back into the emulated idempotency
        table: each object's, its bytes', and the latest version of each key."""
        from booking_core.audit import padded_sequencer
        from booking_core.aws.idempotency import IdempotencyStore, KeyVersion

        assert self.ledger is not None
        completed = self.ledger.completed_entries()
        if not completed:
            return
        stack = self._require_stack()
        table = self._setting("IDEMPOTENCY_TABLE", "")
        if not table:
            raise OfflineRunError("template: no function has IDEMPOTENCY_TABLE in its environment")
        store = IdempotencyStore(stack.client("dynamodb"), table)
        latest: dict[tuple[str, str], KeyVersion] = {}
        for object_id, entry in completed.items():
            execution = str(entry.get("execution") or "earlier-run")
            bucket, _, rest = object_id.partition("/")
            key, _, etag = rest.rpartition("#")
            source_file = str(entry.get("source_file") or f"s3://{bucket}/{key}#{etag}")
            store.claim(object_id, execution, source_file=source_file)
            store.complete(object_id, json.dumps(entry))
            checksum = entry.get("checksum_sha256")
            if checksum:
                store.claim_content(str(checksum), execution, source_file)
                store.complete_content(str(checksum), execution)
            version = KeyVersion(source_file, padded_sequencer(entry.get("sequencer")), execution)
            held = latest.get((bucket, key))
            if held is None or version.sequencer >= held.sequencer:
                latest[(bucket, key)] = version
        for (bucket, key), version in latest.items():
            store.record_version(bucket, key, version)

    def process(self, path: str | Path) -> FileResult:
        """Upload one file, run its execution to the end and export what it produced."""
        from booking_core.usecases.source import SourceObject

        stack = self._require_stack()
        assert self.exporter is not None
        assert self.ledger is not None
        path = Path(path)
        started = time.perf_counter()
        key = f"{INCOMING_PREFIX}{path.name}"
        task = self.progress.start(path.name, total=None)
        self.progress.update(task, stage="upload")
        try:
            stack.upload(path, key)
        except OSError as exc:
            raise OfflineRunError(f"{path}: cannot read ({exc.strerror or exc})") from None
        event = stack.object_created_event(key)
        now = datetime.now(UTC)
        uploaded_at = replayed_upload_time(path.name, now) if self.replay_dates else None
        replayed = uploaded_at is not None
        event["time"] = (uploaded_at or now).strftime(EVENT_TIME_FORMAT)
        detail = event["detail"]["object"]
        source = SourceObject(
            bucket=stack.raw_bucket,
            key=key,
            etag=detail["etag"],
            version_id=detail.get("version-id"),
            size=detail["size"],
        )
        entry_key = ledger_key(stack.raw_bucket, key, detail["etag"])

        if not any(pattern_matches(p, event) for p in stack.rule_patterns()):
            result = FileResult(
                file=str(path),
                key=key,
                status=IGNORED,
                error=f"{path.name}: no EventBridge rule matches {key} (booking files end in "
                ".csv, .csv.gz or .zip)",
            )
            self.progress.finish(task, IGNORED)
            return result

        name = stack.execution_name(key)
        first_invocation = len(stack.invocations)
        arn = stack.start_execution(event, name=name)
        staging_prefix = f"{self._setting('STAGING_PREFIX', 'staging/')}{source.file_id}/"
        self._seen = seen_rows_for(self.out_dir, source.source_file)
        self._audit = []
        staged = StagedFile(self.out_dir, name)
        writer = staged.writer(row_group_rows=EXPORT_ROW_GROUP_ROWS)
        self._export_seconds = 0.0
        try:
            outcome = self._follow(arn, task, staging_prefix, writer)
            self._export(writer, staging_prefix)
            mark = time.perf_counter()
            writer.close()
            self._export_seconds += time.perf_counter() - mark
        except BaseException as exc:
            writer.abandon()
            staged.discard()
            if isinstance(exc, HarnessError):
                raise OfflineRunError(f"{path}: {_one_line(exc)}") from None
            raise
        result = self._result(path, key, outcome)
        result.uploaded_at = event["time"]
        result.replayed = replayed
        result.export_seconds = self._export_seconds
        for function, seconds, _failed in stack.invocations[first_invocation:]:
            timing = result.handlers.setdefault(
                function.removesuffix("Function"), {"invocations": 0, "seconds": 0.0}
            )
            timing["invocations"] += 1
            timing["seconds"] += seconds
        result.exported_bookings = writer.stats.bookings
        result.exported_rejected = writer.stats.rejected
        self._check_export(result)
        self._read_audit(result, source.source_file)
        if result.status == QUARANTINED:
            result.quarantined = self._copy_quarantined(key)
        entries = {}
        if result.status in {SUCCEEDED, QUARANTINED}:
            entries[entry_key] = {
                "file": str(path),
                "status": result.status,
                "execution": result.execution,
                "rows": result.rows,
                "valid": result.valid,
                "rejected": result.rejected,
                "delivered": result.delivered,
                "error": result.error,
                "source_file": source.source_file,
                "checksum_sha256": result.checksum_sha256,
                "sequencer": detail.get("sequencer"),
                "processed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        mark = time.perf_counter()
        self._commit(staged, result, source.source_file, entries)
        self._export_seconds += time.perf_counter() - mark
        result.export_seconds = self._export_seconds
        result.seconds = time.perf_counter() - started
        self.progress.update(task, rows=_exported_rows(writer))
        self.progress.finish(task, self._finish_message(result))
        return result

    def _commit(
        self,
        staged: StagedFile,
        result: FileResult,
        source_file: str,
        entries: dict[str, dict[str, Any]],
    ) -> None:
        """Store the file's audit rows and commit it: its rows too when it succeeded."""
        assert self.ledger is not None
        keep_rows = result.status == SUCCEEDED
        if not keep_rows:
            result.discarded_bookings = result.exported_bookings
            result.discarded_rejected = result.exported_rejected
            result.exported_bookings = result.exported_rejected = 0
        audit = self._audit_rows(result, source_file)
        if audit:
            with staged.writer(row_group_rows=EXPORT_ROW_GROUP_ROWS) as audit_writer:
                audit_writer.add_audit(audit)
        staged.commit(self.ledger, entries, keep_rows=keep_rows)

    def _audit_rows(self, result: FileResult, source_file: str) -> list[dict[str, Any]]:
        """The audit rows the execution wrote; when the offline run found the file FAILED (its
        export did not reconcile, or the execution ended unplanned), one row saying so."""
        if result.status != FAILED:
            return list(self._audit)
        own = [r for r in self._audit if r.get("source_file") == source_file]
        row = dict(own[-1]) if own else self._fallback_audit_row(result, source_file)
        row.update(
            status="failed",
            error=result.error,
            superseded_by=None,
            finished_at=datetime.now(UTC),
        )
        return [row]

    def _fallback_audit_row(self, result: FileResult, source_file: str) -> dict[str, Any]:
        stack = self._require_stack()
        etag = source_file.rpartition("#")[2]
        return {
            "bucket": stack.raw_bucket,
            "object_key": result.key,
            "etag": etag,
            "source_file": source_file,
            "execution": result.execution or "",
            "checksum_sha256": result.checksum_sha256,
        }

    def _read_audit(self, result: FileResult, source_file: str) -> None:
        """What the audit rows tell of the file beyond the execution's output."""
        for row in self._audit:
            if row.get("source_file") != source_file:
                continue
            result.checksum_sha256 = row.get("checksum_sha256") or result.checksum_sha256
            if row.get("status") == "quarantined":
                for name in ("rows", "valid", "rejected", "delivered"):
                    if isinstance(row.get(name), int):
                        setattr(result, name, row[name])
            if row.get("status") == "duplicate" and row.get("duplicate_of"):
                result.duplicate_of = row["duplicate_of"]

    def _check_export(self, result: FileResult) -> None:
        """Every delivered booking and every rejected row of a file is in the lake once."""
        if result.status != SUCCEEDED:
            return
        in_lake = result.exported_bookings + self._seen[BOOKINGS_TABLE].skipped
        rejected_in_lake = result.exported_rejected + self._seen[REJECTED_TABLE].skipped
        if in_lake != result.delivered or rejected_in_lake != result.rejected:
            result.status = FAILED
            result.error = (
                f"the lake export does not reconcile: {result.delivered} delivered, "
                f"{in_lake} in the lake; {result.rejected} rejected, {rejected_in_lake} in the lake"
                f"; {self._stream_failed} record(s) of the stream failed so far "
                f"({QUARANTINE_DIR}/{STREAM_ERRORS_DIR}/)"
            )

    def _follow(
        self, arn: str, task: int, staging_prefix: str, writer: LakeWriter
    ) -> ExecutionOutcome:
        """Wait for the execution, showing its stage and moving delivered records out as it
        goes (so the emulated bucket holds only the chunks in flight)."""
        stack = self._require_stack()
        assert self.exporter is not None
        sfn = stack.client("stepfunctions")
        first_invocation = len(stack.invocations)
        manifest_key = f"{staging_prefix}manifest.json"
        chunks: int | None = None
        last_drain = time.perf_counter()
        processors = stack.streams.processor_ids
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            # The workflow's steps: the stream's processor runs after each Deliver, besides.
            invocations = [
                i for i in stack.invocations[first_invocation:] if i[0] not in processors
            ]
            if chunks is None and any(i[0] == "ValidateFunction" for i in invocations):
                chunks = self._chunk_count(manifest_key)
            if invocations:
                stage = invocations[-1][0].removesuffix("Function")
                done = sum(1 for invocation in invocations if invocation[0] == CHUNK_LAST_FUNCTION)
                self.progress.update(
                    task,
                    completed=done,
                    total=chunks or None,  # 0: the manifest is gone already, the count unknown
                    stage=stage,
                    rows=_exported_rows(writer),
                )
            if time.perf_counter() - last_drain >= self.drain_interval:
                self._export(writer, staging_prefix)
                last_drain = time.perf_counter()
            time.sleep(POLL_SECONDS)
        outcome = stack.wait(arn)
        # Only once the interpreter's thread is idle: trimming the heap while it allocates crashed
        # the process (a segmentation fault in json.dumps) in some runs.
        release_free_memory()
        return outcome

    def _export(self, writer: LakeWriter, staging_prefix: str) -> None:
        """Move what the execution delivered so far to the lake (handlers wait meanwhile)."""
        stack = self._require_stack()
        assert self.exporter is not None
        mark = time.perf_counter()
        with stack.paused():
            self.exporter.drain(writer, self._seen, self._audit)
            self._stream_failed += self.exporter.drain_stream_errors()
            self.exporter.expire_staging(staging_prefix)
        self._export_seconds += time.perf_counter() - mark

    @property
    def stream_failed(self) -> int:
        """Records the delivery stream's processor failed, moved to DIR/quarantine/stream/."""
        return self._stream_failed

    def export_pending(self, seen: dict[str, SeenRows]) -> DrainCounts:
        """Move everything delivered so far to the lake, in part files of their own (readable
        as soon as this returns), leaving out the rows ``seen`` holds; and the records the
        delivery stream's processor failed to ``DIR/quarantine/stream/`` (``stream_failed``)."""
        stack = self._require_stack()
        assert self.exporter is not None
        writer = LakeWriter(self.out_dir, row_group_rows=EXPORT_ROW_GROUP_ROWS)
        try:
            # The processor's invocations take turns with the handlers', one at a time; only
            # the drain holds them back.
            stack.streams.flush()
            with stack.paused():
                # Bookings posted to the API are committed per request: they need no audit row.
                counts = self.exporter.drain(writer, seen, [])
                self._stream_failed += self.exporter.drain_stream_errors()
        finally:
            writer.close()
        return counts

    def _chunk_count(self, manifest_key: str) -> int | None:
        stack = self._require_stack()
        try:
            body = stack.client("s3").get_object(Bucket=stack.lake_bucket, Key=manifest_key)
        except Exception:  # no manifest: Validate failed, the file goes to quarantine
            return 0
        return len(json.loads(body["Body"].read()).get("chunk_keys", []))

    def _result(self, path: Path, key: str, outcome: ExecutionOutcome) -> FileResult:
        output = outcome.output if isinstance(outcome.output, dict) else {}
        result = FileResult(
            file=str(path),
            key=key,
            status=FAILED,
            execution=outcome.name,
            states=summarise_states(outcome),
        )
        visited = set(outcome.visited())
        if outcome.succeeded and output.get("status") == DUPLICATE:
            result.status = DUPLICATE
            result.duplicate_of = output.get("duplicate_of")
            previous = output.get("claim_status")
            result.error = None if previous is None else f"already processed ({previous.lower()})"
        elif outcome.succeeded and output.get("status") == "completed":
            result.status = SUCCEEDED
            for name in ("rows", "valid", "rejected", "delivered", "scored", "unscored"):
                setattr(result, name, int(output.get(name) or 0))
            result.duplicates = int(output.get("duplicates") or 0)
            result.checksum_sha256 = output.get("checksum_sha256")
            result.supersedes = output.get("supersedes")
            result.superseded_by = output.get("superseded_by")
            result.crawler_status = output.get("crawler_status")
            result.warnings = list(output.get("warnings") or [])
        elif "QuarantineFile" in visited:
            result.status = QUARANTINED
            reason = outcome.cause or outcome.error or "quarantined"
            if outcome.child_failures:  # the Map's own error says only that a chunk failed
                reason += f"; a chunk failed: {outcome.child_failures[0]}"
            result.error = _one_line(reason)
        else:
            result.error = _one_line(
                f"execution {outcome.name} ended {outcome.status}: "
                f"{outcome.error or ''} {outcome.cause or ''}"
            )
        return result

    def _copy_quarantined(self, key: str) -> list[str]:
        assert self.exporter is not None
        prefix = self._setting("QUARANTINE_PREFIX", "quarantine/")
        quarantine_key = f"{prefix}files/{key}"
        stack = self._require_stack()
        existing = {
            item["Key"]
            for page in stack.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=stack.lake_bucket, Prefix=quarantine_key)
            for item in page.get("Contents", [])
        }
        copied = self.exporter.copy_quarantined(
            quarantine_key if quarantine_key in existing else None,
            f"{quarantine_key}.error.json" if f"{quarantine_key}.error.json" in existing else None,
        )
        return [str(p) for p in copied]

    @staticmethod
    def _finish_message(result: FileResult) -> str:
        if result.status == SUCCEEDED:
            return f"{SUCCEEDED}: {result.delivered:,} delivered, {result.rejected:,} rejected"
        return result.status

    # -- the lake -------------------------------------------------------------------------------
    def build_catalog(self) -> Path | None:
        """``DIR/catalog.duckdb`` with the Glue tables (and the KPI views) over the lake."""
        from bookings.analytics.engine import build_catalog

        if not (self.out_dir / "lake").is_dir():
            (self.out_dir / "lake" / BOOKINGS_TABLE).mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        path = build_catalog(self.out_dir)
        self.seconds["catalog"] = self.seconds.get("catalog", 0.0) + time.perf_counter() - started
        return path


def run_files(
    files: list[str | Path],
    out_dir: str | Path,
    *,
    model: str | Path | None = None,
    progress: Progress | None = None,
    overrides: dict[str, Any] | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    replay_dates: bool = False,
    wait: bool = False,
    function_timeouts: Mapping[str, float] | None = None,
    lock: OutputLock | None = None,
) -> RunResult:
    """Run every file through the offline stack into ``out_dir`` (see the module docstring).

    ``replay_dates`` uploads each file on the date in its name (replaying historical exports);
    ``wait`` waits for another process writing to ``out_dir`` rather than failing at once."""
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise OfflineRunError(f"{missing[0]}: no such file")
    out = Path(out_dir)
    started = time.perf_counter()
    results: list[FileResult] = []
    if progress is not None:
        progress.expect({Path(f).name: Path(f).stat().st_size for f in files})
    with OfflineSession(
        out,
        model=model,
        progress=progress,
        overrides=overrides,
        replay_dates=replay_dates,
        wait=wait,
        function_timeouts=function_timeouts,
        lock=lock,
    ) as session:
        for path in files:
            result = session.process(path)
            results.append(result)
            if on_file is not None:
                on_file(result)
        catalog = session.build_catalog()
        seconds = dict(session.seconds)
        model_version = session.model_version
        recovered = session.recovery.describe() if session.recovery.anything else None
    seconds["files"] = sum(r.seconds for r in results)
    seconds["total"] = time.perf_counter() - started
    return RunResult(
        out=out,
        files=results,
        lake=lake_counts(out),
        catalog=catalog,
        model=model_version,
        seconds=seconds,
        recovered=recovered,
    )


__all__ = [
    "CATALOG_FILE",
    "DUPLICATE",
    "FAILED",
    "IGNORED",
    "QUARANTINED",
    "QUARANTINE_DIR",
    "SUCCEEDED",
    "FileResult",
    "LedgerError",
    "OfflineRunError",
    "OfflineSession",
    "RunResult",
    "lake_counts",
    "replayed_upload_time",
    "run_files",
]

"""The compaction job: the delivered ``bookings`` files into a compacted table that keeps each
booking once, only rows of committed files, plus daily and monthly summary tables.

This file is the script AWS Glue runs (Glue 5.0: Spark 3.5.4, Python 3.11) and the module the
``bookings compact`` command runs on local Spark: it imports only the standard library and
pyspark at module level, and Glue's own modules (``awsglue``) only inside ``glue_main``, the one
place that knows it runs in Glue. Everything else works on a ``SparkSession`` and Hadoop file
system paths (``s3://`` in Glue, local paths offline).

The commit rule is the one of ``sql/views/committed_files.sql`` and ``committed_bookings.sql``:
a file's rows count when its latest outcome in ``ingest_audit`` (committed, quarantined or
failed) is ``committed`` and it is the latest committed version of its S3 key (greatest
sequencer, then latest ``finished_at``); bookings posted to the HTTP API (``source_file``
``api#...``) are committed per request. Among the visible copies of a ``booking_id`` the first
ingested is kept. The summary tables count as ``sql/views/booking_facts.sql`` does: exact
duplicates of an earlier row of the same file (``is_duplicate``) are left out.

Each run compares, for every ingest-date partition, its input files (name and size) and a
signature of the rows it keeps (their count and a hash over their identities) with the manifest
of the previous run; only partitions where either changed are rewritten. A run with nothing new
writes nothing. The rewritten partitions are written under a staging prefix, counted back
(rows in = rows out + duplicates dropped + rows of files not committed), and only then swapped
into place, partition by partition, before the manifest is replaced; a count that does not add
up raises ``CountMismatch`` and leaves the published tables and the manifest untouched.
"""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.window import WindowSpec

PARTITION_COLUMN = "ingest_date"
MONTH_COLUMN = "ingest_month"
MANIFEST_FORMAT = 1
DEFAULT_TARGET_FILE_MIB = 128
API_SOURCE_PREFIX = "api#"
OUTCOME_STATUSES = ("committed", "quarantined", "failed")
# The summary tables' dimensions: the project's own enrichment computed each of them per
# booking (booking_core.enrichment: regions, lead-time band, service tier), so a summary groups
# by the stored column and never re-derives a band. "overall" is one row per period.
OVERALL = "overall"
DIMENSIONS = (
    "sales_channel",
    "trip_type",
    "booking_origin",
    "booking_origin_region",
    "origin_country",
    "origin_region",
    "route",
    "lead_time_band",
    "service_tier",
)
# Within a file, rows of a route sit together: the route-derived columns compress to runs.
CLUSTER_COLUMNS = ("route", "booking_origin")
# The columns that order the copies of a booking: first ingested wins; the rest only make the
# choice among copies ingested at the same instant deterministic.
_FILE_PATH = "_file_path"
_VISIBLE = "_visible"
_COPY = "_copy"
_REFERENCE = "_reference"
_FILE_BUCKET = "_file_bucket"
_KEY_COLUMNS = ("booking_id", "ingested_at", "source_file", "row_number")


class CompactionError(Exception):
    """The job cannot run (missing input, unreadable manifest); the message is one line."""


class CountMismatch(CompactionError):
    """The staged output does not reconcile with the input: nothing was published."""


@dataclass(frozen=True)
class CompactionPaths:
    """Where the job reads and writes: directories of Hive-partitioned tables, the manifest
    file, and a prefix for the run's staged output (any Hadoop file system path)."""

    bookings: str
    audit: str
    compacted: str
    daily_summary: str
    monthly_summary: str
    manifest: str
    staging: str
    # The audit trail is JSON lines in S3 (the Glue table's JSON SerDe) and Parquet offline.
    audit_format: str = "parquet"


@dataclass(frozen=True)
class CompactionOptions:
    target_file_bytes: int = DEFAULT_TARGET_FILE_MIB * 1024 * 1024


@dataclass
class PartitionState:
    """What the manifest records of one ingest-date partition."""

    input_files: list[list[Any]]
    signature: str
    rows_in: int
    rows_out: int
    duplicates: int
    uncommitted: int
    output_files: int = 0

    def fingerprint(self) -> tuple[Any, ...]:
        return (tuple(tuple(f) for f in self.input_files), self.signature)


def _as_lists(files: dict[str, list[tuple[str, int]]]) -> dict[str, list[list[Any]]]:
    return {value: [list(entry) for entry in entries] for value, entries in files.items()}


@dataclass
class Manifest:
    """The partitions processed, each with its input files and the signature of the rows it
    keeps, and the audit trail's files the run read (name and size per partition)."""

    partitions: dict[str, PartitionState]
    audit_files: dict[str, list[list[Any]]]

    def covers(
        self,
        input_files: dict[str, list[tuple[str, int]]],
        audit_files: dict[str, list[list[Any]]],
    ) -> bool:
        """Whether these inputs are exactly the ones this manifest was written from."""
        delivered = {day: state.input_files for day, state in self.partitions.items()}
        return delivered == _as_lists(input_files) and self.audit_files == audit_files

    def to_text(self) -> str:
        document = {
            "format": MANIFEST_FORMAT,
            "partitions": {day: asdict(self.partitions[day]) for day in sorted(self.partitions)},
            "audit_files": {day: self.audit_files[day] for day in sorted(self.audit_files)},
        }
        return json.dumps(document, indent=1) + "\n"


@dataclass
class CompactionResult:
    """What one run did; counts are over the partitions it rewrote."""

    partitions: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0
    duplicates: int = 0
    uncommitted: int = 0
    files_in: int = 0
    files_out: int = 0
    unchanged_partitions: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.partitions)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Files, through Hadoop's FileSystem (the same calls on S3 in Glue and on local disk).


class _Storage:
    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        jvm = spark.sparkContext._jvm
        if jvm is None:
            raise CompactionError("the Spark session has no JVM (stopped?)")
        self.jvm: Any = jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _resolve(self, path: str) -> tuple[Any, Any]:
        hadoop_path = self.jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(self.conf), hadoop_path

    def exists(self, path: str) -> bool:
        fs, hadoop_path = self._resolve(path)
        return bool(fs.exists(hadoop_path))

    def delete(self, path: str) -> None:
        fs, hadoop_path = self._resolve(path)
        if fs.exists(hadoop_path):
            fs.delete(hadoop_path, True)

    def rename(self, source: str, target: str) -> None:
        fs, source_path = self._resolve(source)
        _, target_path = self._resolve(target)
        fs.mkdirs(target_path.getParent())
        if not fs.rename(source_path, target_path):
            raise CompactionError(f"cannot move {source} to {target}")

    def data_files(self, table: str, column: str) -> dict[str, list[tuple[str, int]]]:
        """The data files of a Hive-partitioned table, per partition value: (name, size),
        sorted by name. Names starting with ``_`` or ``.`` are not data (Spark skips them too:
        markers, checksums, the lake's temporary files)."""
        fs, root = self._resolve(table)
        found: dict[str, list[tuple[str, int]]] = {}
        if not fs.exists(root):
            return found
        prefix = f"{column}="
        files = fs.listFiles(root, True)
        while files.hasNext():
            status = files.next()
            path = status.getPath()
            name = path.getName()
            parent = path.getParent().getName()
            if name.startswith(("_", ".")) or not parent.startswith(prefix):
                continue
            found.setdefault(parent[len(prefix) :], []).append((name, int(status.getLen())))
        return {value: sorted(entries) for value, entries in sorted(found.items())}

    def read_text(self, path: str) -> str | None:
        if not self.exists(path):
            return None
        rows = self.spark.read.text(path, wholetext=True).collect()
        return str(rows[0][0]) if rows else ""

    def write_text(self, path: str, text: str) -> None:
        """Writes a small file beside its final name, then moves it into place."""
        fs, final = self._resolve(path)
        _, scratch = self._resolve(f"{path}.{uuid.uuid4().hex[:8]}.tmp")
        stream = fs.create(scratch, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        if fs.exists(final):
            fs.delete(final, False)
        if not fs.rename(scratch, final):
            raise CompactionError(f"cannot write {path}")


# ---------------------------------------------------------------------------------------------
# The commit rule.


def committed_files(audit: DataFrame) -> DataFrame:
    """``source_file`` of every file whose rows users see (``sql/views/committed_files.sql``)."""
    outcomes = audit.filter(F.col("status").isin(*OUTCOME_STATUSES)).withColumn(
        "_recency",
        F.row_number().over(
            Window.partitionBy("source_file").orderBy(F.col("finished_at").desc_nulls_last())
        ),
    )
    committed = outcomes.filter((F.col("_recency") == 1) & (F.col("status") == "committed"))
    versions = committed.withColumn(
        "_version",
        F.row_number().over(
            Window.partitionBy("bucket", "object_key").orderBy(
                F.col("sequencer").desc_nulls_last(), F.col("finished_at").desc_nulls_last()
            )
        ),
    )
    return versions.filter(F.col("_version") == 1).select("source_file").distinct()


def _read_audit(spark: SparkSession, paths: CompactionPaths) -> DataFrame:
    columns = ["bucket", "object_key", "source_file", "status", "sequencer", "finished_at"]
    if paths.audit_format == "json":
        schema = ", ".join(f"{name} string" for name in columns)
        frame = spark.read.schema(schema).json(paths.audit)
    else:
        frame = spark.read.parquet(paths.audit)
    return frame.select(
        *[F.col(name) for name in columns[:-1]],
        F.col("finished_at").cast("timestamp").alias("finished_at"),
    )


def _with_visibility(rows: DataFrame, visible_files: DataFrame) -> DataFrame:
    marked = visible_files.select("source_file", F.lit(True).alias("_committed"))
    return (
        rows.join(F.broadcast(marked), "source_file", "left")
        .withColumn(
            _VISIBLE,
            F.coalesce(F.col("_committed"), F.lit(False))
            | F.col("source_file").startswith(API_SOURCE_PREFIX),
        )
        .drop("_committed")
    )


def _copy_order() -> WindowSpec:
    """Visible copies first, then the first ingested; the rest breaks ties deterministically."""
    return Window.partitionBy("booking_id").orderBy(
        F.col(_VISIBLE).desc(),
        F.col("ingested_at").asc_nulls_last(),
        F.col("source_file").asc_nulls_last(),
        F.col("row_number").asc_nulls_last(),
        F.col(_FILE_PATH).asc_nulls_last(),
    )


def _row_identity() -> Column:
    """A kept row's identity: its key columns and the name of its file (not the file's full
    path, so that a lake copied or moved elsewhere is still unchanged)."""
    file_name = F.element_at(F.split(F.col(_FILE_PATH), "/"), -1)
    return F.xxhash64(*[F.col(name) for name in _KEY_COLUMNS], file_name)


# ---------------------------------------------------------------------------------------------
# The job.


class CompactionJob:
    def __init__(
        self,
        spark: SparkSession,
        paths: CompactionPaths,
        options: CompactionOptions | None = None,
    ) -> None:
        self.spark = spark
        self.paths = paths
        self.options = options or CompactionOptions()
        self.storage = _Storage(spark)
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.stage = f"{paths.staging.rstrip('/')}/{self.run_id}"
        # Timestamps read and written as UTC instants, as Athena and DuckDB read them; partition
        # values stay the strings of the folder names.
        for key, value in {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
            "spark.sql.parquet.compression.codec": "zstd",
            "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
            "spark.sql.sources.partitionOverwriteMode": "static",
        }.items():
            spark.conf.set(key, value)

    # -- what changed ---------------------------------------------------------------------

    def read_manifest(self) -> Manifest | None:
        text = self.storage.read_text(self.paths.manifest)
        if not text:
            return None
        try:
            document = json.loads(text)
            if document.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {document.get('format')!r}")
            return Manifest(
                partitions={
                    day: PartitionState(**state) for day, state in document["partitions"].items()
                },
                audit_files=document["audit_files"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CompactionError(f"{self.paths.manifest}: unreadable manifest ({exc})") from None

    def _bookings(self, days: Sequence[str] | None = None) -> DataFrame:
        base = self.paths.bookings.rstrip("/")
        reader = self.spark.read.option("basePath", base)
        frame = (
            reader.parquet(base)
            if days is None
            else reader.parquet(*[f"{base}/{PARTITION_COLUMN}={day}" for day in days])
        )
        return frame.withColumn(_FILE_PATH, F.col("_metadata.file_path"))

    def partition_states(
        self, input_files: dict[str, list[tuple[str, int]]], visible_files: DataFrame
    ) -> dict[str, PartitionState]:
        """Each partition's input files and the rows it keeps, from the key columns only."""
        keys = self._bookings().select(*_KEY_COLUMNS, PARTITION_COLUMN, _FILE_PATH)
        ranked = _with_visibility(keys, visible_files).withColumn(
            _COPY, F.row_number().over(_copy_order())
        )
        winner = F.col(_VISIBLE) & (F.col(_COPY) == 1)
        stats = ranked.groupBy(PARTITION_COLUMN).agg(
            F.count(F.lit(1)).alias("rows_in"),
            F.count(F.when(winner, True)).alias("rows_out"),
            F.count(F.when(F.col(_VISIBLE) & (F.col(_COPY) > 1), True)).alias("duplicates"),
            F.count(F.when(~F.col(_VISIBLE), True)).alias("uncommitted"),
            F.bit_xor(F.when(winner, _row_identity())).alias("identity"),
        )
        states = {}
        for row in stats.collect():
            day = row[PARTITION_COLUMN]
            states[day] = PartitionState(
                input_files=[list(entry) for entry in input_files.get(day, [])],
                signature=f"{row['rows_out']}:{row['identity'] or 0}",
                rows_in=row["rows_in"],
                rows_out=row["rows_out"],
                duplicates=row["duplicates"],
                uncommitted=row["uncommitted"],
            )
        return states

    # -- the rewrite ----------------------------------------------------------------------

    def kept_rows(
        self, days: Sequence[str], visible_files: DataFrame, other_days: Sequence[str]
    ) -> DataFrame:
        """The rows the compacted table keeps in ``days``: a booking's copies in every other
        partition take part in choosing its first copy, by their key columns only."""
        changed = _with_visibility(self._bookings(days), visible_files).withColumn(
            _REFERENCE, F.lit(False)
        )
        candidates = changed
        if other_days:
            reference = (
                _with_visibility(
                    self._bookings().select(*_KEY_COLUMNS, PARTITION_COLUMN, _FILE_PATH),
                    visible_files,
                )
                .filter(F.col(_VISIBLE) & ~F.col(PARTITION_COLUMN).isin(*days))
                .withColumn(_REFERENCE, F.lit(True))
            )
            candidates = changed.unionByName(reference, allowMissingColumns=True)
        ranked = candidates.withColumn(_COPY, F.row_number().over(_copy_order()))
        kept = ranked.filter(F.col(_VISIBLE) & (F.col(_COPY) == 1) & ~F.col(_REFERENCE))
        return kept.drop(_VISIBLE, _COPY, _REFERENCE, _FILE_PATH)

    def files_per_partition(
        self, states: dict[str, PartitionState], days: Iterable[str]
    ) -> dict[str, int]:
        """How many files each partition is written as: its kept share of the input bytes over
        the target file size (at least one)."""
        counts = {}
        for day in days:
            state = states[day]
            input_bytes = sum(size for _, size in state.input_files)
            kept_bytes = input_bytes * state.rows_out / state.rows_in if state.rows_in else 0
            counts[day] = max(1, math.ceil(kept_bytes / self.options.target_file_bytes))
        return counts

    def write_compacted(self, kept: DataFrame, file_counts: dict[str, int], target: str) -> None:
        buckets = F.create_map(*[F.lit(v) for item in file_counts.items() for v in item])
        spread = kept.withColumn(
            _FILE_BUCKET,
            F.pmod(F.xxhash64("booking_id"), F.element_at(buckets, F.col(PARTITION_COLUMN))),
        )
        (
            spread.repartition(sum(file_counts.values()), PARTITION_COLUMN, _FILE_BUCKET)
            .sortWithinPartitions(PARTITION_COLUMN, *CLUSTER_COLUMNS)
            .drop(_FILE_BUCKET)
            .write.mode("overwrite")
            .partitionBy(PARTITION_COLUMN)
            .parquet(target)
        )

    def daily_summary(self, compacted: DataFrame) -> DataFrame:
        """Bookings, bookings with an outcome and completed bookings per ingest date and value
        of each dimension (``booking_facts``: exact in-file duplicates left out)."""
        facts = compacted.filter(~F.coalesce(F.col("is_duplicate"), F.lit(False)))
        pairs = [F.struct(F.lit(OVERALL).alias("dimension"), F.lit("all").alias("value"))]
        pairs += [
            F.struct(F.lit(name).alias("dimension"), F.col(name).cast("string").alias("value"))
            for name in DIMENSIONS
        ]
        exploded = facts.select(
            PARTITION_COLUMN, "booking_complete", F.explode(F.array(*pairs)).alias("d")
        )
        return exploded.groupBy(PARTITION_COLUMN, "d.dimension", "d.value").agg(
            F.count(F.lit(1)).alias("bookings"),
            F.count("booking_complete").alias("with_outcome"),
            F.count(F.when(F.col("booking_complete") == 1, True)).alias("completed"),
        )

    def monthly_summary(self, daily: DataFrame) -> DataFrame:
        month = F.concat(F.substring(PARTITION_COLUMN, 1, 7), F.lit("-01"))
        return (
            daily.withColumn(MONTH_COLUMN, month)
            .groupBy(MONTH_COLUMN, "dimension", "value")
            .agg(
                *[
                    F.sum(c).cast("bigint").alias(c)
                    for c in ("bookings", "with_outcome", "completed")
                ]
            )
        )

    # -- checks and publishing ------------------------------------------------------------

    def _count(self, table: str, column: str) -> tuple[int, dict[str, int]]:
        files = self.storage.data_files(table, column)
        if not files:
            return 0, {}
        rows = self.spark.read.parquet(table).count()
        return rows, {value: len(entries) for value, entries in files.items()}

    def check_counts(self, states: dict[str, PartitionState], days: Sequence[str]) -> int:
        """Rows in = rows out + duplicates dropped + rows of uncommitted files, for the staged
        partitions, with rows out counted from the staged files; returns the files written."""
        rows_in = sum(states[d].rows_in for d in days)
        duplicates = sum(states[d].duplicates for d in days)
        uncommitted = sum(states[d].uncommitted for d in days)
        expected_out = sum(states[d].rows_out for d in days)
        staged, files = self._count(f"{self.stage}/compacted", PARTITION_COLUMN)
        if rows_in != staged + duplicates + uncommitted or staged != expected_out:
            raise CountMismatch(
                f"counts do not reconcile over {len(days)} partition(s): rows in {rows_in} != "
                f"rows out {staged} + duplicates dropped {duplicates} + rows of uncommitted "
                f"files {uncommitted} (expected {expected_out} rows out); nothing was published"
            )
        for day in days:
            states[day].output_files = files.get(day, 0)
        summary_total = self._overall_bookings(f"{self.stage}/daily_summary")
        facts = self._facts_count(f"{self.stage}/compacted")
        if summary_total != facts:
            raise CountMismatch(
                f"the daily summary counts {summary_total} bookings, the compacted rows without "
                f"in-file duplicates are {facts}; nothing was published"
            )
        return sum(files.values())

    def _overall_bookings(self, table: str) -> int:
        if not self.storage.data_files(table, PARTITION_COLUMN):
            return 0
        frame = self.spark.read.parquet(table).filter(F.col("dimension") == OVERALL)
        value = frame.agg(F.sum("bookings")).collect()[0][0]
        return int(value or 0)

    def _facts_count(self, table: str) -> int:
        if not self.storage.data_files(table, PARTITION_COLUMN):
            return 0
        frame = self.spark.read.parquet(table)
        return frame.filter(~F.coalesce(F.col("is_duplicate"), F.lit(False))).count()

    def publish(self, table: str, staged: str, column: str, values: Iterable[str]) -> None:
        """Each partition's staged folder in place of the published one (none when the
        partition keeps no row)."""
        for value in values:
            target = f"{table.rstrip('/')}/{column}={value}"
            source = f"{staged}/{column}={value}"
            if self.storage.exists(target):
                self.storage.rename(target, f"{self.stage}/replaced/{table_name(table)}/{value}")
            if self.storage.exists(source):
                self.storage.rename(source, target)

    def write_manifest(self, manifest: Manifest) -> None:
        self.storage.write_text(self.paths.manifest, manifest.to_text())

    # -- the run --------------------------------------------------------------------------

    def run(self) -> CompactionResult:
        result = CompactionResult()
        # A run killed before its swap leaves its staged output behind: nothing reads it.
        self.storage.delete(self.paths.staging)
        input_files = self.storage.data_files(self.paths.bookings, PARTITION_COLUMN)
        audit_files = _as_lists(self.storage.data_files(self.paths.audit, PARTITION_COLUMN))
        manifest = self.read_manifest()
        previous = manifest.partitions if manifest else {}
        if manifest is not None and manifest.covers(input_files, audit_files):
            # Neither a delivered file nor the audit trail changed: nothing to read.
            result.unchanged_partitions = len(previous)
            return result
        if not input_files and not previous:
            return result
        visible = committed_files(_read_audit(self.spark, self.paths)) if input_files else None
        states = self.partition_states(input_files, visible) if visible is not None else {}
        changed = sorted(
            day
            for day in set(states) | set(previous)
            if day not in states
            or day not in previous
            or states[day].fingerprint() != previous[day].fingerprint()
        )
        result.unchanged_partitions = len(states) - len([d for d in changed if d in states])
        if not changed:
            # The audit trail moved without changing what any partition keeps: remember it.
            self.write_manifest(Manifest(partitions=states, audit_files=audit_files))
            return result
        present = [day for day in changed if day in states]
        others = [day for day in states if day not in changed]
        try:
            if present and visible is not None:
                kept = self.kept_rows(present, visible, others)
                self.write_compacted(
                    kept, self.files_per_partition(states, present), f"{self.stage}/compacted"
                )
                staged = (
                    self.spark.read.parquet(f"{self.stage}/compacted")
                    if any(states[d].rows_out for d in present)
                    else None
                )
                if staged is not None:
                    self.daily_summary(staged).write.mode("overwrite").partitionBy(
                        PARTITION_COLUMN
                    ).parquet(f"{self.stage}/daily_summary")
            result.files_out = self.check_counts(states, present)
            months = sorted({day[:7] + "-01" for day in changed})
            self._stage_monthly(changed, months)
            self.publish(self.paths.compacted, f"{self.stage}/compacted", PARTITION_COLUMN, changed)
            self.publish(
                self.paths.daily_summary, f"{self.stage}/daily_summary", PARTITION_COLUMN, changed
            )
            self.publish(
                self.paths.monthly_summary, f"{self.stage}/monthly_summary", MONTH_COLUMN, months
            )
            self.write_manifest(Manifest(partitions=states, audit_files=audit_files))
        finally:
            self.storage.delete(self.stage)
        result.partitions = changed
        result.months = months
        for day in present:
            state = states[day]
            result.rows_in += state.rows_in
            result.rows_out += state.rows_out
            result.duplicates += state.duplicates
            result.uncommitted += state.uncommitted
            result.files_in += len(state.input_files)
        return result

    def _stage_monthly(self, changed: Sequence[str], months: Sequence[str]) -> None:
        """Each touched month from its days' daily summaries: the staged ones for the days
        rewritten, the published ones for the others."""
        frames = []
        staged = f"{self.stage}/daily_summary"
        if self.storage.data_files(staged, PARTITION_COLUMN):
            frames.append(self.spark.read.parquet(staged))
        published = self.storage.data_files(self.paths.daily_summary, PARTITION_COLUMN)
        keep = [d for d in published if d[:7] + "-01" in months and d not in changed]
        if keep:
            base = self.paths.daily_summary.rstrip("/")
            frames.append(
                self.spark.read.option("basePath", base).parquet(
                    *[f"{base}/{PARTITION_COLUMN}={day}" for day in keep]
                )
            )
        if not frames:
            return
        daily = frames[0]
        for frame in frames[1:]:
            daily = daily.unionByName(frame)
        self.monthly_summary(daily).repartition(MONTH_COLUMN).write.mode("overwrite").partitionBy(
            MONTH_COLUMN
        ).parquet(f"{self.stage}/monthly_summary")


def table_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def compact(
    spark: SparkSession, paths: CompactionPaths, options: CompactionOptions | None = None
) -> CompactionResult:
    """Runs the job once; raises ``CountMismatch`` (nothing published) or ``CompactionError``."""
    return CompactionJob(spark, paths, options).run()


# ---------------------------------------------------------------------------------------------
# The Glue seam: the only code that knows it runs in AWS Glue.

GLUE_ARGUMENTS = (
    "JOB_NAME",
    "bookings_path",
    "audit_path",
    "compacted_path",
    "daily_summary_path",
    "monthly_summary_path",
    "manifest_path",
    "staging_path",
    "target_file_mib",
)


def glue_main(argv: Sequence[str]) -> None:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(list(argv), list(GLUE_ARGUMENTS))
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    paths = CompactionPaths(
        bookings=args["bookings_path"],
        audit=args["audit_path"],
        compacted=args["compacted_path"],
        daily_summary=args["daily_summary_path"],
        monthly_summary=args["monthly_summary_path"],
        manifest=args["manifest_path"],
        staging=args["staging_path"],
        audit_format="json",
    )
    options = CompactionOptions(target_file_bytes=int(args["target_file_mib"]) * 1024 * 1024)
    result = compact(glue_context.spark_session, paths, options)
    print(json.dumps({"compaction": result.to_json()}, sort_keys=True))
    job.commit()


if __name__ == "__main__":
    glue_main(sys.argv)

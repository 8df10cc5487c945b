"""The compaction job on local Spark, against the offline lake.

The same ``compact_job`` Glue runs, on a ``SparkSession`` in local mode: Spark's own jars only
(nothing is fetched from a package repository at start-up), no UI, local files written without
Hadoop's checksum files. The tables it writes sit beside the lake's own under ``DIR/lake``:

- ``bookings_compacted/ingest_date=YYYY-MM-DD/part-*.parquet``: each booking once, committed
  files only, files of about ``target_file_mib`` each;
- ``booking_daily_summary/ingest_date=YYYY-MM-DD/`` and
  ``booking_monthly_summary/ingest_month=YYYY-MM-01/``: ``dimension``, ``value``, ``bookings``,
  ``with_outcome``, ``completed``;
- ``_compaction/manifest.json``: the partitions processed and their input files, and
  ``_compaction/staging/``, a run's output until it is counted and swapped in.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bookings.lake import AUDIT_TABLE, BOOKINGS_SCHEMA, BOOKINGS_TABLE, resolve_lake

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from bookings.etl.compact_job import CompactionPaths, CompactionResult

COMPACTED_TABLE = "bookings_compacted"
DAILY_SUMMARY_TABLE = "booking_daily_summary"
MONTHLY_SUMMARY_TABLE = "booking_monthly_summary"
COMPACTION_FOLDER = "_compaction"
SUMMARY_SCHEMA = pa.schema(
    [("dimension", pa.string()), ("value", pa.string())]
    + [(name, pa.int64()) for name in ("bookings", "with_outcome", "completed")]
)
# The job's tables: schema (without the partition column) and partition column.
COMPACTED_TABLES: dict[str, tuple[pa.Schema, str]] = {
    COMPACTED_TABLE: (BOOKINGS_SCHEMA, "ingest_date"),
    DAILY_SUMMARY_TABLE: (SUMMARY_SCHEMA, "ingest_date"),
    MONTHLY_SUMMARY_TABLE: (SUMMARY_SCHEMA, "ingest_month"),
}
SPARK_VERSION = "3.5.4"
# Spark 3.5 runs on Java 8, 11 and 17; Glue 5.0 runs it on 17, the version installed here.
JAVA_PACKAGE = "openjdk-17-jre-headless"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


class SparkUnavailableError(RuntimeError):
    """Java or pyspark is missing; the message is one line saying what to install."""


def java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_spark() -> None:
    """Raises ``SparkUnavailableError`` when local Spark cannot start."""
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailableError(
            f"pyspark is not installed: pip install 'airline-bookings[spark]' "
            f"(pyspark=={SPARK_VERSION}), or run make setup"
        )
    if java_executable() is None:
        raise SparkUnavailableError(
            f"Spark needs Java and none was found (JAVA_HOME or java on PATH): "
            f"apt-get install {JAVA_PACKAGE}"
        )


def local_session(cores: int = 2, memory: str | None = None) -> SparkSession:
    """A local Spark session for the job (the caller stops it)."""
    check_spark()
    from pyspark.sql import SparkSession

    java = java_executable()
    if java and "JAVA_HOME" not in os.environ:
        os.environ["JAVA_HOME"] = str(Path(java).resolve().parent.parent)
    log_option = f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("bookings-compaction")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", memory or os.environ.get("BOOKINGS_SPARK_MEMORY", "2g"))
        .config("spark.driver.extraJavaOptions", log_option)
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.default.parallelism", str(max(2, cores * 2)))
        # Local files without .crc companions and without _SUCCESS markers.
        .config("spark.hadoop.fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
        .config("spark.hadoop.fs.file.impl.disable.cache", "true")
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def lake_paths(lake: str | Path) -> CompactionPaths:
    """The job's inputs and outputs in the offline lake ``DIR`` (or ``DIR/lake``)."""
    from bookings.etl.compact_job import CompactionPaths

    tables = resolve_lake(lake).resolve() / "lake"
    work = tables / COMPACTION_FOLDER
    return CompactionPaths(
        bookings=str(tables / BOOKINGS_TABLE),
        audit=str(tables / AUDIT_TABLE),
        compacted=str(tables / COMPACTED_TABLE),
        daily_summary=str(tables / DAILY_SUMMARY_TABLE),
        monthly_summary=str(tables / MONTHLY_SUMMARY_TABLE),
        manifest=str(work / "manifest.json"),
        staging=str(work / "staging"),
        audit_format="parquet",
    )


@dataclass
class LocalRun:
    result: CompactionResult
    paths: CompactionPaths


def compact_lake(
    lake: str | Path,
    *,
    target_file_mib: float = 128,
    spark: SparkSession | None = None,
    **session_options: Any,
) -> LocalRun:
    """Runs the job once on the offline lake; starts (and stops) a session unless given one."""
    from bookings.etl.compact_job import CompactionOptions, CompactionResult, compact

    paths = lake_paths(lake)
    unchanged = covered_partitions(paths)
    if unchanged is not None and spark is None:
        # Nothing new since the last run: no reason to start a JVM to find that out.
        return LocalRun(result=CompactionResult(unchanged_partitions=unchanged), paths=paths)
    options = CompactionOptions(target_file_bytes=max(1, int(target_file_mib * 1024 * 1024)))
    session = spark or local_session(**session_options)
    try:
        result = compact(session, paths, options)
    finally:
        if spark is None:
            session.stop()
    return LocalRun(result=result, paths=paths)


def _listed(table: Path, column: str) -> dict[str, list[list[Any]]]:
    """A Hive-partitioned table's data files as the job lists them: per partition value,
    [name, size] sorted by name, leaving out names starting with ``_`` or ``.``."""
    found: dict[str, list[list[Any]]] = {}
    for path in sorted(table.glob(f"{column}=*/*")):
        if path.is_file() and not path.name.startswith(("_", ".")):
            value = path.parent.name.split("=", 1)[1]
            found.setdefault(value, []).append([path.name, path.stat().st_size])
    return dict(sorted(found.items()))


def covered_partitions(paths: CompactionPaths) -> int | None:
    """How many partitions the last run's manifest lists, when it lists exactly the lake's
    current bookings and audit files (names and sizes); ``None`` when anything differs. The
    job makes the same comparison first; this one needs neither Spark nor Java."""
    import json

    try:
        document = json.loads(Path(paths.manifest).read_text(encoding="utf-8"))
        delivered = {day: state["input_files"] for day, state in document["partitions"].items()}
        audit = document["audit_files"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if delivered != _listed(Path(paths.bookings), "ingest_date"):
        return None
    if audit != _listed(Path(paths.audit), "ingest_date"):
        return None
    return len(delivered)


def summaries_current(lake: str | Path) -> bool:
    """Whether the compacted and summary tables were built from exactly the lake's current
    bookings and audit files: then they say what a scan of the bookings would."""
    paths = lake_paths(lake)
    return covered_partitions(paths) is not None and Path(paths.daily_summary).is_dir()

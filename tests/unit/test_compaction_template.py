"""The compaction job as template.yaml deploys it: the Glue version whose Spark the project pins,
the arguments the script reads, the tables it writes, a role that writes only its own prefix."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT

from bookings.offline.template import load_template

SCRIPT = ROOT / "src" / "bookings" / "etl" / "compact_job.py"


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
    return resources


def _constant(name: str) -> Any:
    """A module-level constant of the Glue script, read without importing pyspark."""
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise KeyError(name)


def _sub_text(value: Any) -> str:
    return value["Fn::Sub"] if isinstance(value, dict) else str(value)


def test_the_job_runs_glue_5_with_the_spark_the_project_pins(resources: dict[str, Any]) -> None:
    job = resources["CompactionJob"]["Properties"]
    assert job["GlueVersion"] == "5.0"
    assert job["Command"]["Name"] == "glueetl"
    assert job["Command"]["PythonVersion"] == "3"
    assert ROOT / job["Command"]["ScriptLocation"] == SCRIPT
    assert (job["WorkerType"], job["NumberOfWorkers"]) == ("G.1X", 2)
    assert job["ExecutionProperty"]["MaxConcurrentRuns"] == 1
    assert 0 < job["Timeout"] <= 120
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # Glue 5.0 runs Spark 3.5.4 (AWS Glue release notes).
    assert pyproject["project"]["optional-dependencies"]["spark"] == ["pyspark==3.5.4"]


def test_the_job_passes_every_argument_the_script_reads(resources: dict[str, Any]) -> None:
    arguments = resources["CompactionJob"]["Properties"]["DefaultArguments"]
    expected = {f"--{name}" for name in _constant("GLUE_ARGUMENTS") if name != "JOB_NAME"}
    assert set(arguments) == expected | {"--job-bookmark-option"}
    # The manifest is the job's memory of what it processed: Glue's bookmarks stay off.
    assert arguments["--job-bookmark-option"] == "job-bookmark-disable"


def test_the_tables_are_where_the_job_writes(resources: dict[str, Any]) -> None:
    arguments = resources["CompactionJob"]["Properties"]["DefaultArguments"]
    tables = {
        "CompactedBookingsTable": ("--compacted_path", "ingest_date"),
        "DailySummaryTable": ("--daily_summary_path", "ingest_date"),
        "MonthlySummaryTable": ("--monthly_summary_path", "ingest_month"),
    }
    for logical_id, (argument, key) in tables.items():
        table = resources[logical_id]["Properties"]["TableInput"]
        location = _sub_text(table["StorageDescriptor"]["Location"])
        assert location == _sub_text(arguments[argument]), logical_id
        assert [k["Name"] for k in table["PartitionKeys"]] == [key]
        parameters = table["Parameters"]
        # Partition projection: Athena finds each partition without a crawler.
        assert parameters["projection.enabled"] == "true"
        assert parameters[f"projection.{key}.type"] == "date"
        template = _sub_text(parameters["storage.location.template"])
        assert template == f"{location}{key}=${{!{key}}}/", logical_id


def test_the_compacted_table_has_the_delivered_columns(resources: dict[str, Any]) -> None:
    def columns(logical_id: str) -> list[tuple[str, str]]:
        table = resources[logical_id]["Properties"]["TableInput"]["StorageDescriptor"]
        return [(c["Name"], c["Type"]) for c in table["Columns"]]

    assert columns("CompactedBookingsTable") == columns("BookingsTable")
    summary = [("dimension", "string"), ("value", "string")] + [
        (name, "bigint") for name in ("bookings", "with_outcome", "completed")
    ]
    assert columns("DailySummaryTable") == summary
    assert columns("MonthlySummaryTable") == summary


def test_the_job_role_writes_only_under_compacted(resources: dict[str, Any]) -> None:
    role = resources["CompactionJobRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions), statement
        writes = [a for a in actions if re.match(r"s3:(Put|Delete)", a)]
        if writes:
            assert _sub_text(statement["Resource"]) == "${LakeBucket.Arn}/compacted/*"


def test_the_trigger_runs_the_job_on_the_schedule_parameter(resources: dict[str, Any]) -> None:
    trigger = resources["CompactionTrigger"]["Properties"]
    assert trigger["Type"] == "SCHEDULED"
    assert trigger["Schedule"] == {"Ref": "CompactionSchedule"}
    assert trigger["Actions"] == [{"JobName": {"Ref": "CompactionJob"}}]


def test_a_failed_run_raises_the_alert(resources: dict[str, Any]) -> None:
    rule = resources["CompactionFailedRule"]["Properties"]["EventPattern"]
    assert rule["detail"]["jobName"] == [{"Ref": "CompactionJob"}]
    assert set(rule["detail"]["state"]) == {"FAILED", "TIMEOUT", "ERROR"}
    alarm = resources["CompactionFailedAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": "CompactionFailedRule"}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_the_script_is_packaged_with_the_project() -> None:
    assert SCRIPT.is_file()
    assert Path(SCRIPT).with_name("log4j2.properties").is_file()

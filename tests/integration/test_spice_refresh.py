"""SPICE refreshes against the template's QuickSight data sets: QuickSight accepts an
INCREMENTAL_REFRESH ingestion only for a data set with incremental refresh properties
(CreateIngestion, DataSetRefreshProperties), which moto does not check."""

from __future__ import annotations

from typing import Any

import boto3
from booking_core.aws.quicksight import parse_dataset_ids, refresh_datasets
from support.paths import TEMPLATE

from bookings.offline.template import load_template

STACK = "airline-bookings-dev"
ACCOUNT = "123456789012"


def with_stack_name(value: Any) -> str:
    """A ``!Sub "${AWS::StackName}-..."`` value of the template, for the stack named STACK."""
    assert set(value) == {"Fn::Sub"}, value
    return str(value["Fn::Sub"]).replace("${AWS::StackName}", STACK)


def incremental_data_sets(template: dict[str, Any]) -> dict[str, bool]:
    """Each SPICE data set's id -> whether it defines incremental refresh properties (a
    DIRECT_QUERY data set has no ingestion to refresh)."""
    found = {}
    for spec in template["Resources"].values():
        if spec["Type"] != "AWS::QuickSight::DataSet":
            continue
        properties = spec["Properties"]
        if properties["ImportMode"] != "SPICE":
            continue
        refresh = properties.get("DataSetRefreshProperties", {}).get("RefreshConfiguration", {})
        found[with_stack_name(properties["DataSetId"])] = "IncrementalRefresh" in refresh
    return found


def test_every_refresh_is_of_a_kind_its_data_set_accepts(moto_aws: None) -> None:
    template = load_template(TEMPLATE)
    data_sets = incremental_data_sets(template)
    variables = template["Resources"]["RefreshSpiceFunction"]["Properties"]["Environment"]
    configured = variables["Variables"]["QUICKSIGHT_DATASET_IDS"]["Fn::If"][1]
    dataset_ids = parse_dataset_ids(with_stack_name(configured))
    assert set(dataset_ids) == set(data_sets)

    quicksight = boto3.client("quicksight")
    requests: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        requests.append(dict(params))

    quicksight.meta.events.register("provide-client-params.quicksight.CreateIngestion", record)
    outcome = refresh_datasets(quicksight, ACCOUNT, dataset_ids, "exec-1")

    assert [s["dataset_id"] for s in outcome.started] == dataset_ids
    assert [r["DataSetId"] for r in requests] == dataset_ids
    for request in requests:
        kind = request.get("IngestionType", "FULL_REFRESH")
        if kind == "INCREMENTAL_REFRESH":
            assert data_sets[request["DataSetId"]], (
                f"{request['DataSetId']}: INCREMENTAL_REFRESH without incremental refresh "
                "properties is refused by QuickSight"
            )
        else:
            assert kind == "FULL_REFRESH", request

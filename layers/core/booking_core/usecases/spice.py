"""RefreshSpice: one SPICE ingestion per configured QuickSight data set.

A clean no-op when QUICKSIGHT_DATASET_IDS is empty (QuickSight off); an ingestion refused for a
limit or a concurrent update is recorded as skipped, never fatal (the next refresh catches up).
"""

from __future__ import annotations

from booking_core.aws.clients import ClientFactory
from booking_core.aws.quicksight import parse_dataset_ids, refresh_datasets
from booking_core.aws.settings import Settings
from booking_core.workflow import ExecutionStep, SpiceRefresh


def refresh_spice(
    request: ExecutionStep, settings: Settings, client: ClientFactory, account_id: str
) -> SpiceRefresh:
    dataset_ids = parse_dataset_ids(settings.quicksight_dataset_ids)
    if not dataset_ids:
        return SpiceRefresh(status="disabled")
    outcome = refresh_datasets(client("quicksight"), account_id, dataset_ids, request.execution)
    return SpiceRefresh(status="refreshed", started=outcome.started, skipped=outcome.skipped)

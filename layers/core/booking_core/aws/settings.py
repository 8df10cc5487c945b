"""The handlers' configuration, read from the environment the template gives each function.

Read at each invocation (cheap), so one process can serve functions with different settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_CHUNK_SIZE = 5000
DEFAULT_SCORE_MAX_PAYLOAD_BYTES = 3_500_000
DEFAULT_MODEL_NAME_PREFIX = "booking-model"
DEFAULT_SERVERLESS_MEMORY_MIB = 2048
DEFAULT_SERVERLESS_MAX_CONCURRENCY = 5


class ConfigurationError(Exception):
    """A required environment variable is missing or invalid."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name}={raw!r} is not an integer") from None
    if value < 1:
        raise ConfigurationError(f"environment variable {name}={raw!r} must be at least 1")
    return value


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def optional(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _prefix(name: str, default: str) -> str:
    value = optional(name, default) or default
    return value if value.endswith("/") else value + "/"


@dataclass(frozen=True)
class Settings:
    raw_bucket: str
    lake_bucket: str
    staging_prefix: str
    quarantine_prefix: str
    chunk_size: int
    idempotency_table: str
    api_idempotency_table: str
    delivery_stream_name: str
    crawler_name: str
    alert_topic_arn: str
    model_endpoint_name: str
    score_max_payload_bytes: int
    sagemaker_runtime_url: str
    quicksight_dataset_ids: str
    event_bus_name: str
    # The ingest audit trail: where its rows go, and the Glue table whose partitions they add.
    audit_prefix: str
    glue_database: str
    audit_table: str
    # PromoteModel: what a newly trained model is served with.
    model_role_arn: str
    inference_image_uri: str
    model_name_prefix: str
    serverless_memory_mib: int
    serverless_max_concurrency: int
    # The archive the stack's own model reads (SageMakerModelDataUrl); empty when the endpoint
    # is not the stack's. PromoteModel copies each promoted archive there.
    live_model_data_url: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            raw_bucket=optional("RAW_BUCKET"),
            lake_bucket=optional("LAKE_BUCKET"),
            staging_prefix=_prefix("STAGING_PREFIX", "staging/"),
            quarantine_prefix=_prefix("QUARANTINE_PREFIX", "quarantine/"),
            chunk_size=_int("CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
            idempotency_table=optional("IDEMPOTENCY_TABLE"),
            api_idempotency_table=optional("API_IDEMPOTENCY_TABLE"),
            delivery_stream_name=optional("DELIVERY_STREAM_NAME"),
            crawler_name=optional("CRAWLER_NAME"),
            alert_topic_arn=optional("ALERT_TOPIC_ARN"),
            model_endpoint_name=optional("MODEL_ENDPOINT_NAME"),
            score_max_payload_bytes=_int(
                "SCORE_MAX_PAYLOAD_BYTES", DEFAULT_SCORE_MAX_PAYLOAD_BYTES
            ),
            sagemaker_runtime_url=optional("SAGEMAKER_RUNTIME_URL"),
            quicksight_dataset_ids=optional("QUICKSIGHT_DATASET_IDS"),
            event_bus_name=optional("EVENT_BUS_NAME", "default") or "default",
            audit_prefix=_prefix("AUDIT_PREFIX", "audit/ingest_audit/"),
            glue_database=optional("GLUE_DATABASE"),
            audit_table=optional("AUDIT_TABLE"),
            model_role_arn=optional("MODEL_ROLE_ARN"),
            inference_image_uri=optional("INFERENCE_IMAGE_URI"),
            model_name_prefix=optional("MODEL_NAME_PREFIX") or DEFAULT_MODEL_NAME_PREFIX,
            serverless_memory_mib=_int("SERVERLESS_MEMORY_MIB", DEFAULT_SERVERLESS_MEMORY_MIB),
            serverless_max_concurrency=_int(
                "SERVERLESS_MAX_CONCURRENCY", DEFAULT_SERVERLESS_MAX_CONCURRENCY
            ),
            live_model_data_url=optional("LIVE_MODEL_DATA_URL"),
        )

    def need(self, **values: str) -> None:
        """Raise ConfigurationError naming every empty setting among ``values``."""
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ConfigurationError("environment variable(s) not set: " + ", ".join(missing))

"""The ``ingest_audit`` rows the workflow's steps write, and where they write them."""

from __future__ import annotations

from typing import Any

from booking_core.audit import padded_sequencer
from booking_core.aws.audit_log import AuditLog
from booking_core.aws.clients import ClientFactory
from booking_core.aws.settings import Settings
from booking_core.usecases.source import SourceObject


def audit_log(settings: Settings, client: ClientFactory) -> AuditLog:
    """The audit trail in the lake bucket; its partitions are registered when the function
    knows the Glue table (GLUE_DATABASE, AUDIT_TABLE)."""
    settings.need(LAKE_BUCKET=settings.lake_bucket)
    registers = bool(settings.glue_database and settings.audit_table)
    return AuditLog(
        s3=client("s3"),
        bucket=settings.lake_bucket,
        prefix=settings.audit_prefix,
        glue=client("glue") if registers else None,
        database=settings.glue_database,
        table=settings.audit_table,
    )


def file_identity_row(source: SourceObject) -> dict[str, Any]:
    """The audit row's fields that name the object."""
    return {
        "bucket": source.bucket,
        "object_key": source.key,
        "version_id": source.version_id,
        "etag": source.etag,
        "sequencer": padded_sequencer(source.sequencer),
        "source_file": source.source_file,
    }

"""The SAM application's contract with its code, defined once for every test that checks it."""

from __future__ import annotations

# The SAM application contract: logical id -> function directory.
FUNCTIONS = {
    "ValidateFunction": "validate",
    "EnrichFunction": "enrich",
    "ScoreFunction": "score",
    "DeliverFunction": "deliver",
    "StartCrawlerFunction": "start_crawler",
    "CheckCrawlerFunction": "check_crawler",
    "RefreshSpiceFunction": "refresh_spice",
    "QuarantineFileFunction": "quarantine_file",
    "FinalizeFileFunction": "finalize_file",
    "IngestApiFunction": "ingest_api",
    "TransformStreamFunction": "transform_stream",
}
# Functions no state machine invokes: API Gateway invokes one, Firehose the other.
NOT_IN_WORKFLOWS = {"IngestApiFunction", "TransformStreamFunction"}
# The retraining workflow's steps (their contract: tests/integration/test_train_state_machine.py).
TRAINING_FUNCTIONS = {
    "EvaluateModelFunction": "evaluate_model",
    "PromoteModelFunction": "promote_model",
}
CONTRACT_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "RAW_BUCKET",
    "LAKE_BUCKET",
    "STAGING_PREFIX",
    "QUARANTINE_PREFIX",
    "CHUNK_SIZE",
    "IDEMPOTENCY_TABLE",
    "API_IDEMPOTENCY_TABLE",
    "DELIVERY_STREAM_NAME",
    "CRAWLER_NAME",
    "ALERT_TOPIC_ARN",
    "MODEL_ENDPOINT_NAME",
    "SCORE_MAX_PAYLOAD_BYTES",
    "SAGEMAKER_RUNTIME_URL",
    "QUICKSIGHT_DATASET_IDS",
    "EVENT_BUS_NAME",
    "GLUE_DATABASE",
    "BOOKINGS_TABLE",
    "REJECTED_TABLE",
    "AUDIT_PREFIX",
    "AUDIT_TABLE",
}
SUBSTITUTIONS = {
    f"{logical_id}Arn" for logical_id in FUNCTIONS if logical_id not in NOT_IN_WORKFLOWS
}
SUBSTITUTIONS |= {
    "LakeBucketName",
    "StagingPrefix",
    "MapMaxConcurrency",
    "FlushWaitSeconds",
    "CrawlerPollSeconds",
    "CrawlerMaxPolls",
    "RetryIntervalSeconds",
    "RetryMaxAttempts",
    "RetryBackoffRate",
}

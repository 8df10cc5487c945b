"""AWS adapters used by the Lambda handlers: thin, typed wrappers over boto3 calls.

Each module holds one concern (S3 streaming and chunks, Firehose delivery, idempotency claims,
endpoint scoring, the Glue crawler, QuickSight refreshes, alerts and events) so that the
handlers stay thin and every adapter can be tested against moto.
"""

from booking_core.aws.clients import aws_client

__all__ = ["aws_client"]

"""Adapters to the AWS services: thin, typed wrappers over boto3 calls, and the handlers'
settings.

Each module holds one service concern (S3 streaming and chunks, Firehose delivery, idempotency
claims, endpoint scoring, model hosting, the Glue crawler, QuickSight refreshes, alerts and
events) so that every adapter can be tested against moto. What a step does with them lives in
``booking_core.usecases``.
"""

from booking_core.aws.clients import ClientFactory, aws_client

__all__ = ["ClientFactory", "aws_client"]

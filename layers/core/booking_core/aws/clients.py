"""boto3 clients, created once per process (a Lambda's cold start) and reused."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# What the use cases are given to reach AWS: ``aws_client`` itself, or any function that returns
# a client for a service name (and an optional endpoint URL).
ClientFactory = Callable[..., Any]

# Standard retry mode: exponential backoff with jitter on throttling and transient errors.
_DEFAULT_RETRIES = {"mode": "standard", "max_attempts": 3}


@functools.lru_cache(maxsize=32)
def aws_client(
    service: str,
    endpoint_url: str | None = None,
    max_attempts: int = 3,
    *,
    read_timeout: int | None = None,
    connect_timeout: int | None = None,
) -> Any:
    """Return a cached boto3 client for ``service`` (``endpoint_url`` empty = the AWS default);
    timeouts in whole seconds (botocore's defaults, 60, when None)."""
    import boto3  # deferred: keeps importing a handler module cheap when it is only inspected
    from botocore.config import Config

    retries = dict(_DEFAULT_RETRIES, max_attempts=max_attempts)
    timeouts: dict[str, int] = {}
    if read_timeout is not None:
        timeouts["read_timeout"] = read_timeout
    if connect_timeout is not None:
        timeouts["connect_timeout"] = connect_timeout
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url or None,
        config=Config(retries=retries, **timeouts),  # type: ignore[arg-type]
    )

"""SageMaker hosting as the stack uses it: moto 5.2.5 answers UpdateEndpoint with "not
implemented", so the emulated stack adds it while it runs (``endpoint_updates``).

An update moves the endpoint to another endpoint configuration, as SageMaker does once it has
deployed the configuration's variants: the endpoint's configuration name and variants become the
new configuration's, its status stays ``InService``. An unknown endpoint or configuration is a
``ValidationException``, as in moto's other endpoint operations.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, ClassVar


class EndpointUpdates:
    """Installs UpdateEndpoint into moto's SageMaker while in use (re-entrant)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _users: ClassVar[int] = 0

    @classmethod
    @contextlib.contextmanager
    def installed(cls) -> Iterator[None]:
        from moto.sagemaker.responses import SageMakerResponse

        with cls._lock:
            if cls._users == 0:
                SageMakerResponse.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
            cls._users += 1
        try:
            yield
        finally:
            with cls._lock:
                cls._users -= 1
                if cls._users == 0:
                    del SageMakerResponse.update_endpoint  # type: ignore[attr-defined]


def _update_endpoint(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpoint

    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    config_name = self._get_param("EndpointConfigName")
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = backend.describe_endpoint_config(config_name)  # ValidationError when unknown
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.data_capture_config = config["DataCaptureConfig"]
    endpoint.last_modified_time = utcnow()
    return ActionResult({"EndpointArn": endpoint.arn})

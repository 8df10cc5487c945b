"""A local model endpoint speaking SageMaker's protocols, with the shipped inference code.

- the container protocol SageMaker uses to talk to a model server: ``GET /ping`` and
  ``POST /invocations``;
- the runtime API boto3's ``sagemaker-runtime`` ``invoke_endpoint`` calls:
  ``POST /endpoints/<name>/invocations``, answered with the ``Content-Type`` and
  ``x-Amzn-Invoked-Production-Variant`` headers botocore reads back.

So the offline Score step can point ``SAGEMAKER_RUNTIME_URL`` at it and use plain boto3.
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from bookings.ml.inference import (
    BookingModel,
    RequestError,
    input_fn,
    load_model,
    output_fn,
    predict_fn,
)

PRODUCTION_VARIANT = "AllTraffic"
RUNTIME_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker's real-time payload limit


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], model: BookingModel) -> None:
        super().__init__(address, ModelRequestHandler)
        self.model = model


class ModelRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ModelServer
    quiet: ClassVar[bool] = True

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: HTTPStatus, error_type: str, message: str) -> None:
        body = json.dumps({"message": message}).encode("utf-8")
        self._send(status, body, "application/json", **{"x-amzn-ErrorType": error_type})

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._send(HTTPStatus.OK, b"", "text/plain")
        else:
            self._error(HTTPStatus.NOT_FOUND, "NotFound", f"no such path {self.path}")

    def do_POST(self) -> None:
        if self.path != "/invocations" and not RUNTIME_PATH.match(self.path):
            self._error(HTTPStatus.NOT_FOUND, "NotFound", f"no such path {self.path}")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "ValidationError",
                f"payload of {length} bytes is over the {MAX_BODY_BYTES}-byte limit",
            )
            return
        body = self.rfile.read(length)
        try:
            records = input_fn(body, self.headers.get("Content-Type"))
            answers = predict_fn(records, self.server.model)
            payload, content_type = output_fn(answers, self.headers.get("Accept"))
        except (RequestError, UnicodeDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, "ValidationError", str(exc))
            return
        except Exception as exc:  # the model failed: SageMaker answers ModelError (424)
            self._error(HTTPStatus.FAILED_DEPENDENCY, "ModelError", f"{type(exc).__name__}: {exc}")
            return
        self._send(
            HTTPStatus.OK,
            payload.encode("utf-8"),
            content_type,
            **{"x-Amzn-Invoked-Production-Variant": PRODUCTION_VARIANT},
        )


def make_server(model: BookingModel, host: str = "127.0.0.1", port: int = 8080) -> ModelServer:
    return ModelServer((host, port), model)


def start_server(
    model_dir_or_tar: str | Path, port: int = 0, host: str = "127.0.0.1"
) -> tuple[ModelServer, str]:
    """Serve the model from a background thread; returns the server (``shutdown()`` it when
    done) and its base URL (``http://127.0.0.1:<port>``)."""
    server = make_server(load_model(model_dir_or_tar), host, port)
    thread = threading.Thread(target=server.serve_forever, name="model-server", daemon=True)
    thread.start()
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    return server, f"http://{bound_host}:{bound_port}"


def stop_server(server: ModelServer) -> None:
    server.shutdown()
    server.server_close()

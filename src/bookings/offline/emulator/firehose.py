"""Firehose's data transformation, emulated: moto stores what is put, and runs no processor.

For a delivery stream whose ``ProcessingConfiguration`` (template.yaml) names a Lambda processor
of the stack, ``StreamProcessors`` takes over moto's PutRecordBatch: the records wait in a
buffer, and ``flush()`` does what Firehose does with them (Firehose developer guide, "Transform
source data in Amazon Data Firehose" and "Handle failure in data transformation"):

- invokes the processor with batches of at most the processor's ``BufferSizeInMBs`` of data,
  in the event Firehose sends (``invocationId``, ``deliveryStreamArn``, ``region``, ``records``
  of ``recordId``, ``approximateArrivalTimestamp`` and base64 ``data``), retrying a failed
  invocation ``NumberOfRetries`` times;
- checks the answer against the contract Firehose enforces: every ``recordId`` of the batch
  back exactly once, ``result`` one of ``Ok``, ``Dropped``, ``ProcessingFailed``, base64
  ``data``, the response within Lambda's 6 MB;
- writes the ``Ok`` records to the stream's prefix (as moto writes a batch: one object, the
  records' data concatenated), and every record that failed, as it arrived, to the error prefix
  as the JSON document Firehose writes under ``processing-failed/`` (``attemptsMade``,
  ``arrivalTimestamp``, ``errorCode``, ``errorMessage``, ``attemptEndingTimestamp``,
  ``rawData``, ``lambdaArn``). ``Dropped`` records are counted, and written nowhere.

What is not emulated: the buffering time (by default the stack flushes when the invocation that
put the records ends; ``bookings serve`` flushes at each refresh instead, as Firehose flushes at
its buffer interval), the Parquet conversion (records stay JSON lines), and the processor's own
buffering hints beyond the batch size.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bookings.offline.emulator.errors import HarnessError
from bookings.offline.emulator.lambda_dispatch import FunctionSpec
from bookings.offline.emulator.template_resolver import TemplateResolver

RESULTS: Final = frozenset({"Ok", "Dropped", "ProcessingFailed"})
# Lambda's synchronous invocation limit, for the request and for the response.
MAX_INVOCATION_BYTES: Final = 6 * 1024 * 1024
DEFAULT_BUFFER_MB: Final = 1.0  # the processor's BufferSizeInMBs default
DEFAULT_RETRIES: Final = 3  # NumberOfRetries' default
# What Firehose writes for a record the function answered ProcessingFailed, and for a batch
# whose invocation failed.
PROCESSING_FAILED_CODE: Final = "Lambda.ProcessingFailedStatus"
PROCESSING_FAILED_MESSAGE: Final = "ProcessingFailed status set for record"
FUNCTION_ERROR_CODE: Final = "Lambda.FunctionError"
FUNCTION_ERROR_MESSAGE: Final = (
    "The Lambda function was successfully invoked but it returned an error result."
)

Dispatch = Callable[[FunctionSpec, Any], dict[str, Any]]


@dataclass(frozen=True)
class StreamProcessing:
    """A delivery stream of the template with a Lambda processor."""

    stream_name: str
    stream_arn: str
    function: FunctionSpec
    buffer_bytes: int
    retries: int


@dataclass
class ProcessingCounts:
    """What the processor did with a stream's records so far."""

    invocations: int = 0
    records: int = 0
    ok: int = 0
    dropped: int = 0
    failed: int = 0
    function_errors: int = 0
    # Answers that broke the contract (a bug of the function: Firehose fails their records).
    contract_violations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Buffered:
    arrival_ms: int
    data: bytes


def stream_processing(
    resolver: TemplateResolver, functions: Mapping[str, FunctionSpec]
) -> dict[str, StreamProcessing]:
    """The template's delivery streams with a Lambda processor, by stream name."""
    by_arn = {spec.arn: spec for spec in functions.values()}
    streams: dict[str, StreamProcessing] = {}
    for logical_id in resolver.resources_of("AWS::KinesisFirehose::DeliveryStream"):
        props = resolver.resolve(resolver.resources[logical_id]["Properties"])
        destination = props.get("ExtendedS3DestinationConfiguration") or {}
        processing = destination.get("ProcessingConfiguration") or {}
        if not processing or str(processing.get("Enabled", True)).lower() == "false":
            continue
        for processor in processing.get("Processors", []):
            if processor.get("Type") != "Lambda":
                raise HarnessError(f"{logical_id}: processor {processor.get('Type')} not emulated")
            parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
            function = by_arn.get(str(parameters.get("LambdaArn")))
            if function is None:
                raise HarnessError(
                    f"{logical_id}: the processor {parameters.get('LambdaArn')} is not a "
                    "function of the template"
                )
            name = resolver.physical_name(logical_id)
            streams[name] = StreamProcessing(
                stream_name=name,
                stream_arn=resolver.arn(logical_id),
                function=function,
                buffer_bytes=int(
                    float(parameters.get("BufferSizeInMBs", DEFAULT_BUFFER_MB)) * 1024 * 1024
                ),
                retries=int(parameters.get("NumberOfRetries", DEFAULT_RETRIES)),
            )
    return streams


class StreamProcessors:
    """Buffers what is put to the processed streams, and runs their processors on ``flush``."""

    def __init__(
        self,
        streams: Mapping[str, StreamProcessing],
        dispatch: Dispatch,
        *,
        account: str,
        region: str,
    ) -> None:
        self.streams = dict(streams)
        self._dispatch = dispatch
        self._account = account
        self._region = region
        self._buffers: dict[str, list[_Buffered]] = {name: [] for name in self.streams}
        self._lock = threading.Lock()
        self.counts = {name: ProcessingCounts() for name in self.streams}
        # When set, the stack flushes at the end of each invocation; a caller that flushes on
        # its own cadence (``bookings serve``, like Firehose's buffer interval) clears it.
        self.flush_after_each_invocation = True

    @property
    def processor_ids(self) -> frozenset[str]:
        """The logical ids of the processor functions."""
        return frozenset(s.function.logical_id for s in self.streams.values())

    def pending(self) -> int:
        with self._lock:
            return sum(len(buffer) for buffer in self._buffers.values())

    @contextlib.contextmanager
    def intercepting(self) -> Iterator[None]:
        """Route moto's PutRecordBatch (and PutRecord) for the processed streams to the buffer."""
        from moto.firehose.models import FirehoseBackend

        original = FirehoseBackend.put_record_batch
        streams = self.streams

        def put_record_batch(
            backend: Any, delivery_stream_name: str, records: list[dict[str, bytes]]
        ) -> dict[str, Any]:
            if delivery_stream_name not in streams or (
                delivery_stream_name not in backend.delivery_streams
            ):
                return original(backend, delivery_stream_name, records)
            arrival = int(time.time() * 1000)
            with self._lock:
                self._buffers[delivery_stream_name].extend(
                    _Buffered(arrival, record["Data"]) for record in records
                )
            return {
                "FailedPutCount": 0,
                "Encrypted": False,
                "RequestResponses": [{"RecordId": uuid.uuid4().hex} for _ in records],
            }

        FirehoseBackend.put_record_batch = put_record_batch  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            FirehoseBackend.put_record_batch = original  # type: ignore[method-assign]

    def flush(self) -> int:
        """Run the processors on everything buffered; returns how many records were handled."""
        handled = 0
        for name, processing in self.streams.items():
            with self._lock:
                buffered, self._buffers[name] = self._buffers[name], []
            for batch in _batches(buffered, processing.buffer_bytes):
                self._process(processing, batch)
                handled += len(batch)
        return handled

    # -- one invocation -----------------------------------------------------------------------
    def _process(self, processing: StreamProcessing, batch: list[_Buffered]) -> None:
        counts = self.counts[processing.stream_name]
        counts.records += len(batch)
        ids = [
            f"{int(time.time() * 1000)}{index:08d}{uuid.uuid4().hex[:12]}"
            for index in range(len(batch))
        ]
        event = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": processing.stream_arn,
            "region": self._region,
            "records": [
                {
                    "recordId": record_id,
                    "approximateArrivalTimestamp": record.arrival_ms,
                    "data": base64.b64encode(record.data).decode("ascii"),
                }
                for record_id, record in zip(ids, batch, strict=True)
            ],
        }
        attempts = 0
        payload: Any = None
        for _ in range(processing.retries + 1):
            attempts += 1
            counts.invocations += 1
            response = self._dispatch(processing.function, event)
            if "FunctionError" not in response:
                payload = response["Payload"]
                break
            counts.function_errors += 1
        if payload is None:
            self._write_failed(
                processing, batch, attempts, FUNCTION_ERROR_CODE, FUNCTION_ERROR_MESSAGE
            )
            return
        answers, violation = _check_answer(payload, ids)
        if violation is not None:
            counts.contract_violations.append(violation)
            self._write_failed(
                processing,
                batch,
                attempts,
                FUNCTION_ERROR_CODE,
                f"{FUNCTION_ERROR_MESSAGE} {violation}",
            )
            return
        ok: list[bytes] = []
        failed: list[_Buffered] = []
        for record_id, record in zip(ids, batch, strict=True):
            result, data = answers[record_id]
            if result == "Ok":
                ok.append(data)
            elif result == "Dropped":
                counts.dropped += 1
            else:
                failed.append(record)
        counts.ok += len(ok)
        if ok:
            self._put(processing.stream_name, ok, error=False)
        if failed:
            self._write_failed(
                processing, failed, attempts, PROCESSING_FAILED_CODE, PROCESSING_FAILED_MESSAGE
            )

    def _write_failed(
        self,
        processing: StreamProcessing,
        records: list[_Buffered],
        attempts: int,
        code: str,
        message: str,
    ) -> None:
        self.counts[processing.stream_name].failed += len(records)
        ended = int(time.time() * 1000)
        documents = [
            json.dumps(
                {
                    "attemptsMade": attempts,
                    "arrivalTimestamp": record.arrival_ms,
                    "errorCode": code,
                    "errorMessage": message,
                    "attemptEndingTimestamp": ended,
                    "rawData": base64.b64encode(record.data).decode("ascii"),
                    "lambdaArn": processing.function.arn,
                }
            ).encode()
            + b"\n"
            for record in records
        ]
        self._put(processing.stream_name, documents, error=True)

    def _put(self, stream_name: str, data: list[bytes], *, error: bool) -> None:
        """Write records to the stream's prefix (or its error prefix) as moto writes a batch."""
        from moto.firehose.models import firehose_backends

        backend = firehose_backends[self._account][self._region]
        stream = backend.delivery_streams[stream_name]
        destination = stream.destinations[0]["ExtendedS3"]
        if error:
            destination = {**destination, "Prefix": destination.get("ErrorOutputPrefix", "")}
        backend.put_s3_records(
            stream_name, stream.version_id, destination, [{"Data": item} for item in data]
        )


def _batches(records: list[_Buffered], max_bytes: int) -> Iterator[list[_Buffered]]:
    batch: list[_Buffered] = []
    size = 0
    for record in records:
        if batch and size + len(record.data) > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record.data)
    if batch:
        yield batch


def _check_answer(payload: Any, ids: list[str]) -> tuple[dict[str, tuple[str, bytes]], str | None]:
    """The answer by record id, or why Firehose would refuse it."""
    size = len(json.dumps(payload))
    if size > MAX_INVOCATION_BYTES:
        return {}, f"the response ({size} bytes) exceeds Lambda's 6 MB limit"
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        return {}, "the response has no records list"
    answers: dict[str, tuple[str, bytes]] = {}
    expected = set(ids)
    for item in payload["records"]:
        record_id = item.get("recordId") if isinstance(item, dict) else None
        if record_id not in expected:
            return {}, f"the response names a record id not in the batch: {record_id!r}"
        if record_id in answers:
            return {}, f"the response answers record {record_id} twice"
        result = item.get("result")
        if result not in RESULTS:
            return (
                {},
                f"record {record_id}: result {result!r} is not Ok, Dropped or ProcessingFailed",
            )
        try:
            data = base64.b64decode(item.get("data", ""), validate=True)
        except (binascii.Error, ValueError, TypeError):
            return {}, f"record {record_id}: data is not base64"
        answers[record_id] = (result, data)
    if len(answers) != len(expected):
        return {}, f"the response leaves out {len(expected) - len(answers)} record(s) of the batch"
    return answers, None

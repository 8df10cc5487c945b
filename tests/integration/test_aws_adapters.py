"""The AWS adapters of the core (booking_core.aws) against moto."""

from __future__ import annotations

import gzip
import io
import json
import random
import zipfile
from typing import Any

import boto3
import pytest
from booking_core.aws import s3io
from booking_core.aws.crawler import ALREADY_RUNNING, STARTED, crawler_status, start_crawler
from booking_core.aws.firehose import (
    MAX_BYTES_PER_BATCH,
    MAX_BYTES_PER_RECORD,
    DeliveryFailedError,
    FirehoseDelivery,
    RecordTooLargeError,
    batches,
    full_jitter_delay,
)
from booking_core.aws.idempotency import COMPLETED, FAILED, IN_PROGRESS, IdempotencyStore
from booking_core.aws.model_hosting import endpoint_exists, serve_model, served_model_data_url
from booking_core.aws.quicksight import ingestion_id, parse_dataset_ids, refresh_datasets
from booking_core.aws.scoring import EndpointScorer, ScoringUnavailableError, payload_batches
from botocore.exceptions import ClientError

BUCKET = "adapters-test"


@pytest.fixture
def s3(moto_aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


# -- Firehose ------------------------------------------------------------------------------------


def test_batches_respect_the_record_count_and_byte_limits() -> None:
    small = [b"x" * 10] * 1201
    assert [len(b) for b in batches(small)] == [500, 500, 201]
    big = [b"y" * (900 * 1024)] * 10  # 4 fit in 4 MiB, the fifth would not
    sizes = [sum(map(len, b)) for b in batches(big)]
    assert all(size <= MAX_BYTES_PER_BATCH for size in sizes)
    assert [len(b) for b in batches(big)] == [4, 4, 2]


def test_a_record_over_the_per_record_limit_is_a_named_error() -> None:
    with pytest.raises(RecordTooLargeError, match="exceeds"):
        list(batches([b"z" * (MAX_BYTES_PER_RECORD + 1)]))


def test_full_jitter_stays_within_the_capped_exponential() -> None:
    rng = random.Random(7)
    for attempt in range(1, 8):
        delays = [full_jitter_delay(attempt, 0.1, 2.0, rng) for _ in range(200)]
        assert min(delays) >= 0.0
        assert max(delays) <= min(2.0, 0.1 * 2**attempt)


class FailingFirstCalls:
    """Test instrumentation around a real (moto) Firehose client: the first ``fail_calls``
    PutRecordBatch calls report every ``every``-th record as failed and forward the others."""

    def __init__(self, client: Any, fail_calls: int, every: int = 3) -> None:
        self.client = client
        self.fail_calls = fail_calls
        self.every = every
        self.calls: list[int] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> Any:
        self.calls.append(len(Records))
        if len(self.calls) > self.fail_calls:
            return self.client.put_record_batch(
                DeliveryStreamName=DeliveryStreamName, Records=Records
            )
        failed = {i for i in range(len(Records)) if i % self.every == 0}
        passed = [r for i, r in enumerate(Records) if i not in failed]
        if passed:
            self.client.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=passed)
        return {
            "FailedPutCount": len(failed),
            "RequestResponses": [
                {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
                if i in failed
                else {"RecordId": f"id-{i}"}
                for i in range(len(Records))
            ],
        }


@pytest.fixture
def firehose(s3: Any) -> Any:
    client = boto3.client("firehose")
    client.create_delivery_stream(
        DeliveryStreamName="bookings",
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "Prefix": "curated/",
        },
    )
    return client


def delivered_records(s3: Any) -> list[dict[str, Any]]:
    records = []
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="curated/").get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        records.extend(json.loads(line) for line in body.splitlines())
    return records


def test_failed_records_are_retried_alone_until_delivered(s3: Any, firehose: Any) -> None:
    client = FailingFirstCalls(firehose, fail_calls=2)
    sleeps: list[float] = []
    delivery = FirehoseDelivery(client, "bookings", sleep=sleeps.append, rng=random.Random(1))
    records = [json.dumps({"n": n}).encode() + b"\n" for n in range(1200)]
    assert delivery.deliver(records) == 1200
    # The first batch (500) fails 167 records, the retry of those fails 56 again, then 56 pass.
    assert client.calls[:4] == [500, 167, 56, 500]
    assert len(sleeps) == 2
    assert sorted(r["n"] for r in delivered_records(s3)) == list(range(1200))


def test_records_still_failing_after_every_attempt_raise(s3: Any, firehose: Any) -> None:
    client = FailingFirstCalls(firehose, fail_calls=100, every=1)
    delivery = FirehoseDelivery(client, "bookings", max_attempts=3, sleep=lambda _: None)
    with pytest.raises(DeliveryFailedError, match=r"10 record\(s\) not delivered after 3"):
        delivery.deliver([b"{}\n"] * 10)
    assert client.calls == [10, 10, 10]


class RaisingCalls:
    """Test instrumentation around a real (moto) Firehose client: the first calls raise the
    given errors (as botocore raises once its own retries are spent), the others go through."""

    def __init__(self, client: Any, errors: list[Exception]) -> None:
        self.client = client
        self.errors = errors
        self.calls = 0

    def put_record_batch(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.client.put_record_batch(**kwargs)


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected"}}, "PutRecordBatch")


def test_transient_sdk_errors_are_retried_with_backoff(s3: Any, firehose: Any) -> None:
    from botocore.exceptions import ReadTimeoutError

    errors: list[Exception] = [
        client_error("ServiceUnavailableException"),
        client_error("ThrottlingException"),
        ReadTimeoutError(endpoint_url="https://firehose.us-east-1.amazonaws.com"),
    ]
    client = RaisingCalls(firehose, errors)
    sleeps: list[float] = []
    delivery = FirehoseDelivery(client, "bookings", sleep=sleeps.append, rng=random.Random(2))
    records = [json.dumps({"n": n}).encode() + b"\n" for n in range(30)]
    assert delivery.deliver(records) == 30
    assert client.calls == 4
    assert delivery.retried == 90  # the whole batch, three times
    assert len(sleeps) == 3
    assert all(0 <= delay <= 0.1 * 2**attempt for attempt, delay in enumerate(sleeps, 1))
    assert sorted(r["n"] for r in delivered_records(s3)) == list(range(30))


def test_an_sdk_error_that_retrying_cannot_cure_fails_at_once(s3: Any, firehose: Any) -> None:
    client = RaisingCalls(firehose, [client_error("ResourceNotFoundException")])
    delivery = FirehoseDelivery(client, "bookings", sleep=lambda _: None)
    with pytest.raises(
        DeliveryFailedError,
        match=r"3 record\(s\) not delivered after 1 attempts \(ResourceNotFoundException x3\)",
    ):
        delivery.deliver([b"{}\n"] * 3)
    assert client.calls == 1


def test_sdk_errors_on_every_attempt_raise_named(s3: Any, firehose: Any) -> None:
    client = RaisingCalls(firehose, [client_error("ServiceUnavailableException")] * 3)
    delivery = FirehoseDelivery(client, "bookings", max_attempts=3, sleep=lambda _: None)
    with pytest.raises(DeliveryFailedError, match="ServiceUnavailableException x2"):
        delivery.deliver([b"{}\n"] * 2)
    assert delivered_records(s3) == []


# -- idempotency ---------------------------------------------------------------------------------


@pytest.fixture
def store(moto_aws: None) -> IdempotencyStore:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="claims",
        AttributeDefinitions=[{"AttributeName": "object_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "object_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return IdempotencyStore(client, "claims")


def test_an_object_is_claimed_once(store: IdempotencyStore) -> None:
    assert store.claim("raw/a.csv#v1", "exec-1").acquired
    other = store.claim("raw/a.csv#v1", "exec-2")
    assert not other.acquired
    assert (other.status, other.execution) == (IN_PROGRESS, "exec-1")
    # The holder may claim again (a retried task); another version is another object.
    assert store.claim("raw/a.csv#v1", "exec-1").acquired
    assert store.claim("raw/a.csv#v2", "exec-2").acquired


def test_a_completed_object_stays_done_and_a_failed_one_can_run_again(
    store: IdempotencyStore,
) -> None:
    store.claim("raw/done.csv#v1", "exec-1")
    store.complete("raw/done.csv#v1", '{"rows": 3}')
    assert store.claim("raw/done.csv#v1", "exec-2").status == COMPLETED
    store.claim("raw/bad.csv#v1", "exec-1")
    store.fail("raw/bad.csv#v1", '{"error": "UnreadableFile"}')
    assert store.status("raw/bad.csv#v1") == FAILED
    assert store.claim("raw/bad.csv#v1", "exec-2").acquired


def test_the_same_bytes_are_claimed_by_one_file_until_it_fails(store: IdempotencyStore) -> None:
    first = store.claim_content("abc", "exec-1", "s3://raw/a.csv#1")
    assert first.acquired
    copy = store.claim_content("abc", "exec-2", "s3://raw/b.csv#2")
    assert not copy.acquired
    assert (copy.source_file, copy.execution) == ("s3://raw/a.csv#1", "exec-1")
    # Only the holder releases them; released, another file may take them.
    assert not store.release_content("abc", "exec-2")
    assert store.release_content("abc", "exec-1")
    assert store.claim_content("abc", "exec-2", "s3://raw/b.csv#2").acquired
    store.complete_content("abc", "exec-2")
    assert store.claim_content("abc", "exec-3", "s3://raw/c.csv#3").status == COMPLETED


def test_a_key_s_latest_version_follows_the_sequencer_not_the_arrival(
    store: IdempotencyStore,
) -> None:
    first = store.advance_version("raw", "k.csv", "s3://raw/k.csv#1", "0A1", "exec-1")
    assert first.accepted
    assert first.replaced is None
    newer = store.advance_version("raw", "k.csv", "s3://raw/k.csv#3", "0A3", "exec-3")
    assert newer.accepted
    assert newer.replaced is not None
    assert newer.replaced.source_file == "s3://raw/k.csv#1"
    # A version older than the latest, arriving late, does not replace it.
    late = store.advance_version("raw", "k.csv", "s3://raw/k.csv#2", "0A2", "exec-2")
    assert not late.accepted
    assert late.current.source_file == "s3://raw/k.csv#3"
    # The same version finalized again (a retried step) stays the latest, replacing nothing.
    again = store.advance_version("raw", "k.csv", "s3://raw/k.csv#3", "0A3", "exec-3")
    assert again.accepted
    assert again.replaced is None
    # Sequencers of different lengths compare padded on the right, as S3 documents: 0A2F is
    # before 0A3 (0A30...), 0A31 after it.
    assert not store.advance_version("raw", "k.csv", "s3://raw/k.csv#x", "0A2F", "exec-x").accepted
    assert store.advance_version("raw", "k.csv", "s3://raw/k.csv#4", "0A31", "exec-4").accepted
    latest = store.latest_version("raw", "k.csv")
    assert latest is not None
    assert latest.source_file == "s3://raw/k.csv#4"


# -- S3 streaming --------------------------------------------------------------------------------


def test_chunk_writer_writes_numbered_chunks_of_the_chunk_size(s3: Any) -> None:
    writer = s3io.ChunkWriter(s3, BUCKET, "staging/f/", chunk_size=4)
    for n in range(10):
        writer.add({"row_number": n + 1})
    keys = writer.close()
    assert keys == [f"staging/f/chunk-0000{i}.jsonl" for i in (1, 2, 3)]
    counts = [len(list(s3io.iter_json_lines(s3, BUCKET, key))) for key in keys]
    assert counts == [4, 4, 2]


def test_open_object_streams_plain_and_gzip_and_spools_a_zip(s3: Any, tmp_path: Any) -> None:
    text = b"a,b\r\n1,2\r\n" * 1000
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("bookings.csv", text)
    s3.put_object(Bucket=BUCKET, Key="plain.csv", Body=text)
    s3.put_object(Bucket=BUCKET, Key="data.gz", Body=gzip.compress(text))
    s3.put_object(Bucket=BUCKET, Key="data.zip", Body=archive.getvalue())
    with s3io.open_object(s3, BUCKET, "plain.csv") as stream:
        assert stream.read(4) == b"a,b\r"
        assert stream.read() == text[4:]
    with s3io.open_object(s3, BUCKET, "data.gz") as stream:
        assert gzip.decompress(stream.read()) == text
    with s3io.open_object(s3, BUCKET, "data.zip", spool_dir=str(tmp_path)) as stream:
        assert stream.seekable()
        assert zipfile.ZipFile(stream).read("bookings.csv") == text


def test_a_digest_sees_every_byte_of_the_object_once(s3: Any, tmp_path: Any) -> None:
    import hashlib

    text = b"a,b\r\n1,2\r\n" * 5000
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("bookings.csv", text)
    for key, body in (
        ("plain.csv", text),
        ("data.gz", gzip.compress(text)),
        ("d.zip", archive.getvalue()),
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        digest = hashlib.sha256()
        with s3io.open_object(s3, BUCKET, key, spool_dir=str(tmp_path), digest=digest) as stream:
            stream.read(100)  # a reader that stops early
            s3io.drain(stream)
        assert digest.hexdigest() == hashlib.sha256(body).hexdigest(), key


# -- scoring -------------------------------------------------------------------------------------


def test_payload_batches_stay_below_the_limit() -> None:
    lines = [b"x" * 99] * 25  # 100 bytes each with the newline
    ranges = list(payload_batches(lines, 1000))
    assert ranges == [(0, 10), (10, 20), (20, 25)]
    assert list(payload_batches([b"y" * 5000], 1000)) == [(0, 1)]


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class AnsweringEndpoint:
    """A stand-in sagemaker-runtime client answering with a fixed body (protocol tests)."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.bodies: list[bytes] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["ContentType"] == "application/jsonlines"
        self.bodies.append(kwargs["Body"])
        return {"Body": Body(self.answer)}


def test_scores_are_read_in_order_and_malformed_answers_are_refused() -> None:
    answer = b'{"booking_complete_probability": 0.25, "model_version": "m1"}\n' * 2
    scorer = EndpointScorer(AnsweringEndpoint(answer), "model")
    scores = scorer.score_batch([b"{}", b"{}"])
    assert [(s.probability, s.model_version) for s in scores] == [(0.25, "m1")] * 2
    with pytest.raises(ScoringUnavailableError, match="2 scores for 3 records"):
        scorer.score_batch([b"{}"] * 3)
    bad = EndpointScorer(AnsweringEndpoint(b'{"booking_complete_probability": 7}\n'), "m")
    with pytest.raises(ScoringUnavailableError, match="outside"):
        bad.score_batch([b"{}"])


def test_an_unreachable_endpoint_is_scoring_unavailable(aws_env: None) -> None:
    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url="http://127.0.0.1:9",
        config=__import__("botocore.config").config.Config(
            retries={"max_attempts": 1}, connect_timeout=1
        ),
    )
    with pytest.raises(ScoringUnavailableError, match="EndpointConnectionError"):
        EndpointScorer(client, "model").score_batch([b"{}"])


# -- crawler and QuickSight ----------------------------------------------------------------------


def test_a_running_crawler_means_already_running(moto_aws: None) -> None:
    glue = boto3.client("glue")
    glue.create_database(DatabaseInput={"Name": "db"})
    glue.create_crawler(
        Name="partitions",
        Role="arn:aws:iam::123456789012:role/crawler",
        DatabaseName="db",
        Targets={"S3Targets": [{"Path": "s3://lake/curated/"}]},
    )
    assert crawler_status(glue, "partitions")["state"] == "READY"
    assert start_crawler(glue, "partitions") == STARTED
    assert crawler_status(glue, "partitions")["state"] == "RUNNING"
    assert start_crawler(glue, "partitions") == ALREADY_RUNNING


class RefusingFirst:
    """Instrumentation around a real (moto) QuickSight client: one data set's ingestion is
    refused with ``code``."""

    def __init__(self, client: Any, dataset_id: str, code: str) -> None:
        self.client = client
        self.dataset_id = dataset_id
        self.code = code

    def create_ingestion(self, **kwargs: Any) -> Any:
        if kwargs["DataSetId"] == self.dataset_id:
            raise ClientError({"Error": {"Code": self.code, "Message": "busy"}}, "CreateIngestion")
        return self.client.create_ingestion(**kwargs)


def test_spice_refreshes_tolerate_limits_and_concurrent_updates(moto_aws: None) -> None:
    assert parse_dataset_ids(" a, ,b ") == ["a", "b"]
    assert parse_dataset_ids("") == []
    quicksight = boto3.client("quicksight")
    for code in ("LimitExceededException", "ConcurrentUpdatingException"):
        outcome = refresh_datasets(
            RefusingFirst(quicksight, "busy", code), "123456789012", ["busy", "ok"], "exec:1"
        )
        assert outcome.skipped == [{"dataset_id": "busy", "error": code}]
        assert [s["dataset_id"] for s in outcome.started] == ["ok"]
    with pytest.raises(ClientError):
        refresh_datasets(
            RefusingFirst(quicksight, "x", "AccessDeniedException"), "123456789012", ["x"], "e"
        )
    assert ingestion_id("exec:1/2", "ds") == "exec-1-2-ds"


# -- model hosting -------------------------------------------------------------------------------


def test_a_first_model_is_served_from_a_new_endpoint(moto_aws: None) -> None:
    """(moto has no UpdateEndpoint: replacing the served model is not exercised here.)"""
    sagemaker = boto3.client("sagemaker")
    assert served_model_data_url(sagemaker, "") is None
    assert served_model_data_url(sagemaker, "bookings") is None
    assert endpoint_exists(sagemaker, "bookings") is False
    common = {
        "endpoint_name": "bookings",
        "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/inference:1",
        "role_arn": "arn:aws:iam::123456789012:role/model",
        "memory_mib": 2048,
        "max_concurrency": 5,
    }
    first = serve_model(
        sagemaker, name="booking-model-v1", model_data_url="s3://lake/v1.tar.gz", **common
    )
    assert first == "created"
    assert served_model_data_url(sagemaker, "bookings") == "s3://lake/v1.tar.gz"
    config = sagemaker.describe_endpoint_config(EndpointConfigName="booking-model-v1")
    variant = config["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    model = sagemaker.describe_model(ModelName="booking-model-v1")["PrimaryContainer"]
    assert model["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert endpoint_exists(sagemaker, "bookings") is True

"""What a function's sample event (``events/<fn>.json``) refers to, created in a fresh emulated
account, so ``bookings invoke FUNCTION --event events/<fn>.json --seed`` runs as it would in a
deployed stack after the steps before it.

The objects are made by the project's own code from the sample data (the rows of the project's
generator with the seed of ``data/sample_bookings.csv``, as many as the event counts, or the
rows of ``--object FILE``), and the steps before the function run for real in the emulated
account (Validate's staging, Enrich, Score, Deliver); the event keeps its values, except where
it names a deployed stack's bucket, which becomes the emulated stack's (``SEEDS`` says what each
function gets).
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bookings.offline.emulator import EmulatedStack

# data/sample_bookings.csv is `bookings generate --rows 1000 --seed 26`.
SAMPLE_SEED = 26
SAMPLE_ROWS = 1000
MODEL_TRAINING_ROWS = 2000
S3_URL = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")


class SeedError(ValueError):
    """The event cannot be seeded (a one-line reason)."""


@dataclass
class Seeded:
    """The event to invoke with, and one line per thing the seed created."""

    event: Any
    notes: list[str] = field(default_factory=list)


# -- rows -----------------------------------------------------------------------------------------


def staged_rows(count: int | None, *, source: Path | None = None) -> list[dict[str, Any]]:
    """``count`` validated rows (all of ``source``'s when None) as Validate stages them
    (``{row_number, values, is_duplicate}``): those of ``source`` when given, else the sample
    data's (the generator's rows with its seed, valid by construction)."""
    from booking_core.pipeline import ValidRow, validate_stream

    from bookings.generator import generate_rows, write_csv

    with tempfile.TemporaryDirectory(prefix="bookings-seed-") as scratch:
        path = source
        if path is None:
            path = Path(scratch) / "sample_bookings.csv"
            rows_needed = SAMPLE_ROWS if count is None else count
            write_csv(path, generate_rows(rows_needed, SAMPLE_SEED), seed=SAMPLE_SEED)
        with path.open("rb") as stream:
            rows = [
                {"row_number": o.row_number, "values": o.values, "is_duplicate": o.is_duplicate}
                for o in validate_stream(stream, source_file=str(path))
                if isinstance(o, ValidRow)
            ]
    if count is None:
        return rows
    if len(rows) < count:
        raise SeedError(f"{path}: {len(rows)} valid row(s), the event needs {count}")
    return rows[:count]


def _put_rows(stack: EmulatedStack, key: str, rows: list[dict[str, Any]]) -> None:
    body = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    stack.client("s3").put_object(Bucket=stack.lake_bucket, Key=key, Body=body)


def _model_archive() -> bytes:
    """A model trained on the sample data, as ``bookings train`` packages it."""
    from bookings.generator import generate_rows
    from bookings.ml.data import enrich_typed_rows, training_set
    from bookings.ml.packaging import save_training
    from bookings.ml.training import TrainingOptions, train_model

    rows = enrich_typed_rows(
        generate_rows(MODEL_TRAINING_ROWS, SAMPLE_SEED), source_file="sample_bookings.csv"
    )
    labelled = training_set(list(rows))
    result = train_model(labelled.frame, TrainingOptions(seed=SAMPLE_SEED))
    with tempfile.TemporaryDirectory(prefix="bookings-seed-model-") as scratch:
        written = save_training(result, Path(scratch), {"rows_read": MODEL_TRAINING_ROWS})
        return written.archive.read_bytes()


# -- what each function gets ----------------------------------------------------------------------


def _object_event(
    stack: EmulatedStack,
    detail_of: Callable[[Any], dict[str, Any]],
    event: Any,
    source: Path | None,
    notes: list[str],
) -> Any:
    """Upload the data file under the key the event names, in the raw bucket, and point the
    event's detail at that object (bucket, ETag, version, size)."""
    from bookings.generator import generate_rows, write_csv

    detail = detail_of(event)
    key = ((detail.get("object") or {}).get("key")) if isinstance(detail, dict) else None
    if not key:
        raise SeedError("the event names no object (detail.object.key)")
    with tempfile.TemporaryDirectory(prefix="bookings-seed-") as scratch:
        data = source
        if data is None:  # the bytes of data/sample_bookings.csv
            data = Path(scratch) / "sample_bookings.csv"
            write_csv(data, generate_rows(SAMPLE_ROWS, SAMPLE_SEED), seed=SAMPLE_SEED)
        stack.upload(data, key)
    fresh = stack.object_created_event(key)["detail"]
    detail.update(bucket=fresh["bucket"], object={**detail["object"], **fresh["object"]})
    shown = source or f"the sample data ({SAMPLE_ROWS} rows, as data/sample_bookings.csv)"
    notes.append(f"uploaded {shown} to s3://{stack.raw_bucket}/{key}")
    return event


def _seed_validate(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
    seeded = Seeded(copy.deepcopy(event))
    _object_event(stack, lambda e: e["detail"], seeded.event, source, seeded.notes)
    seeded.event["resources"] = [f"arn:aws:s3:::{stack.raw_bucket}"]
    return seeded


def _seed_quarantine(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
    seeded = Seeded(copy.deepcopy(event))
    _object_event(stack, lambda e: e["detail"], seeded.event, source, seeded.notes)
    return seeded


def _task(event: Any) -> dict[str, Any]:
    fields = ("chunk_key", "source_file", "ingested_at", "booking_date", "execution")
    return {name: event[name] for name in fields if name in event}


def _seed_enrich(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
    rows = staged_rows(None, source=source)
    _put_rows(stack, event["chunk_key"], rows)
    return Seeded(
        copy.deepcopy(event),
        [f"staged {len(rows)} row(s) at s3://{stack.lake_bucket}/{event['chunk_key']}"],
    )


def _through(stack: EmulatedStack, task: dict[str, Any], steps: tuple[str, ...]) -> dict[str, Any]:
    """Run a chunk through the functions before the one invoked, as the child execution does."""
    state = dict(task)
    for logical_id in steps:
        state = {**state, **stack.invoke(logical_id, state)}
    return state


def _seed_chunk_step(steps: tuple[str, ...], written: str) -> Callable[..., Seeded]:
    def seed(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
        rows = staged_rows(int(event["records"]), source=source)
        _put_rows(stack, event["chunk_key"], rows)
        state = _through(stack, _task(event), steps)
        if state[written] != event[written]:
            raise SeedError(
                f"{' then '.join(steps)} wrote {state[written]}, the event names {event[written]}"
            )
        return Seeded(
            copy.deepcopy(event),
            [
                f"staged {len(rows)} row(s) at s3://{stack.lake_bucket}/{event['chunk_key']}",
                f"ran {', '.join(steps)}: s3://{stack.lake_bucket}/{state[written]}",
            ],
        )

    return seed


def chunk_keys_of(file: dict[str, Any]) -> list[str]:
    """The chunk keys Validate writes for a file: ``chunk-00001.jsonl``... beside its list."""
    prefix = str(file["chunks_key"]).rpartition("/")[0]
    return [f"{prefix}/chunk-{n:05d}.jsonl" for n in range(1, int(file["chunk_count"]) + 1)]


def _seed_finalize(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
    from booking_core.aws.idempotency import IdempotencyStore

    file = event["file"]
    keys = chunk_keys_of(file)
    size, valid = int(file["chunk_size"]), int(file["valid"])
    if not keys or not 0 < valid - size * (len(keys) - 1) <= size:
        raise SeedError(
            f"the file's {len(keys)} chunk(s) of {size} row(s) cannot hold its {valid} valid rows"
        )
    s3 = stack.client("s3")
    s3.put_object(Bucket=stack.lake_bucket, Key=file["chunks_key"], Body=json.dumps(keys))
    claims = IdempotencyStore(
        stack.client("dynamodb"), str(stack.resource_name("IdempotencyTable"))
    )
    claims.claim(file["object_id"], file["execution"])
    rows = staged_rows(valid, source=source)
    for number, key in enumerate(keys):
        _put_rows(stack, key, rows[number * size : (number + 1) * size])
        task = {
            "chunk_key": key,
            "source_file": file["source_file"],
            "ingested_at": file["ingested_at"],
            "booking_date": file["booking_date"],
            "execution": file["execution"],
        }
        _through(stack, task, ("EnrichFunction", "ScoreFunction", "DeliverFunction"))
    return Seeded(
        copy.deepcopy(event),
        [
            f"wrote the chunk list s3://{stack.lake_bucket}/{file['chunks_key']} "
            f"({len(keys)} chunks)",
            f"claimed {file['object_id']} for {file['execution']}",
            f"staged {valid} row(s) and ran EnrichFunction, ScoreFunction, DeliverFunction on "
            "each chunk (its delivery receipt)",
        ],
    )


def _lake_url(stack: EmulatedStack, url: str) -> tuple[str, str]:
    """A deployed stack's model URL moved to the emulated lake bucket: (URL, key)."""
    match = S3_URL.match(url)
    if match is None:
        raise SeedError(f"{url}: not an s3://bucket/key URL")
    return f"s3://{stack.lake_bucket}/{match['key']}", match["key"]


def _stack_model_archive(stack: EmulatedStack, archive: bytes, notes: list[str]) -> None:
    """The archive the stack's own model reads (SageMakerModelDataUrl), in the user's bucket."""
    url = str(stack.overrides.get("SageMakerModelDataUrl") or "")
    match = S3_URL.match(url)
    if match is None:
        return
    s3 = stack.client("s3")
    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if match["bucket"] not in buckets:
        s3.create_bucket(Bucket=match["bucket"])
        s3.put_bucket_versioning(
            Bucket=match["bucket"], VersioningConfiguration={"Status": "Enabled"}
        )
    s3.put_object(Bucket=match["bucket"], Key=match["key"], Body=archive)
    notes.append(f"put a model trained on the sample data at {url} (SageMakerModelDataUrl)")


def _seed_model_step(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
    seeded = Seeded(copy.deepcopy(event))
    archive = _model_archive()
    url, key = _lake_url(stack, event["modelDataUrl"])
    stack.client("s3").put_object(Bucket=stack.lake_bucket, Key=key, Body=archive)
    seeded.event["modelDataUrl"] = url
    seeded.notes.append(f"put a model trained on the sample data at {url} (the candidate)")
    _stack_model_archive(stack, archive, seeded.notes)
    return seeded


def _nothing(stack: EmulatedStack, event: Any, source: Path | None) -> Seeded:
    return Seeded(copy.deepcopy(event), ["nothing to create: the event refers to no object"])


SEEDS: dict[str, tuple[str, Callable[..., Seeded]]] = {
    "validate": (
        "uploads the data under the event's key in the raw bucket and points the event at it",
        _seed_validate,
    ),
    "quarantine_file": (
        "uploads the data under the event's key in the raw bucket and points the detail at it",
        _seed_quarantine,
    ),
    "enrich": ("stages the data's valid rows at chunk_key", _seed_enrich),
    "score": (
        "stages `records` rows at chunk_key and runs Enrich (writes enriched_key)",
        _seed_chunk_step(("EnrichFunction",), "enriched_key"),
    ),
    "deliver": (
        "stages `records` rows at chunk_key and runs Enrich and Score (writes scored_key)",
        _seed_chunk_step(("EnrichFunction", "ScoreFunction"), "scored_key"),
    ),
    "finalize_file": (
        "writes the file's chunk list, claims the object, stages its valid rows in its "
        "chunks and runs Enrich, Score and Deliver on each (their delivery receipts)",
        _seed_finalize,
    ),
    "evaluate_model": (
        "puts a model trained on the sample data at modelDataUrl (moved to the lake bucket) "
        "and at SageMakerModelDataUrl",
        _seed_model_step,
    ),
    "promote_model": (
        "puts a model trained on the sample data at modelDataUrl (moved to the lake bucket) "
        "and at SageMakerModelDataUrl",
        _seed_model_step,
    ),
    "start_crawler": ("nothing (the crawler is the stack's)", _nothing),
    "check_crawler": ("nothing (the crawler is the stack's)", _nothing),
    "refresh_spice": ("nothing (the data sets are the stack's)", _nothing),
    "ingest_api": ("nothing (the bookings are in the request)", _nothing),
}


def seed_event(
    stack: EmulatedStack, function_dir: str, event: Any, *, source: Path | None = None
) -> Seeded:
    """Create what ``event`` refers to for the function of ``functions/<function_dir>``."""
    if function_dir not in SEEDS:
        raise SeedError(f"no seed for {function_dir}")
    if not isinstance(event, dict):
        raise SeedError("the event is not a JSON object")
    try:
        return SEEDS[function_dir][1](stack, event, source)
    except KeyError as exc:
        raise SeedError(f"the event has no {exc.args[0]!r}, which the seed reads") from None


def seed_help() -> Iterator[str]:
    for name, (what, _) in SEEDS.items():
        yield f"{name}: {what}"

"""The workflows' contract (booking_core.workflow) against the sample events and the ASL: every
event parses into its step's model, every field a state machine passes or reads is a field of
the model at that place, and a malformed event is refused in one line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    KinesisFirehoseModel,
)
from booking_core.workflow import (
    ChunkTask,
    CrawlerChecked,
    CrawlerCounts,
    CrawlerPoll,
    DuplicateFile,
    EnrichedChunk,
    EvaluationRequest,
    ExecutionStep,
    FileState,
    FinalizeRequest,
    InvalidEvent,
    ModelEvaluation,
    ModelSummary,
    ObjectCreated,
    Promotion,
    PromotionRequest,
    QuarantineRequest,
    ScoredChunk,
    StepState,
    ValidatedFile,
    parse_event,
)
from pydantic import BaseModel, TypeAdapter
from support.paths import EVENTS, ROOT

# Each sample event (events/<function>.json) and the model its handler parses it into.
EVENT_MODELS: dict[str, type[BaseModel]] = {
    "validate": ObjectCreated,
    "enrich": ChunkTask,
    "score": EnrichedChunk,
    "deliver": ScoredChunk,
    "start_crawler": CrawlerCounts,
    "check_crawler": CrawlerPoll,
    "refresh_spice": ExecutionStep,
    "finalize_file": FinalizeRequest,
    "quarantine_file": QuarantineRequest,
    "ingest_api": APIGatewayProxyEventV2Model,
    "transform_stream": KinesisFirehoseModel,
    "evaluate_model": EvaluationRequest,
    "promote_model": PromotionRequest,
}


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def definition(name: str) -> dict[str, Any]:
    """A state machine's definition, every ${Substitution} replaced by a number."""
    text = (ROOT / "statemachines" / f"{name}.asl.json").read_text(encoding="utf-8")
    parsed: dict[str, Any] = json.loads(re.sub(r"\$\{\w+\}", "1", text))
    return parsed


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                yield from states(state[nested])


def paths_in(value: Any) -> Iterator[str]:
    """Every JSONPath (``$.x.y``) written anywhere in a piece of ASL."""
    if isinstance(value, str):
        yield from re.findall(r"\$\.[A-Za-z_][\w.]*", value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from paths_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from paths_in(item)


def parameter_names(parameters: dict[str, Any]) -> set[str]:
    return {key.removesuffix(".$") for key in parameters}


def fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_every_sample_event_has_its_model() -> None:
    assert {path.stem for path in EVENTS.glob("*.json")} == set(EVENT_MODELS)


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_every_sample_event_parses_into_its_model(name: str) -> None:
    parsed = parse_event(sample_event(name), EVENT_MODELS[name])
    # The model names exactly what the event holds, and writes it back the same way (Powertools'
    # S3 event models, inside ObjectCreated and QuarantineRequest, write Python names instead).
    if isinstance(parsed, StepState) and name not in {"validate", "quarantine_file"}:
        assert parsed.model_dump(mode="json") == sample_event(name)


def test_validate_takes_the_event_bare_or_wrapped_by_the_state_machine() -> None:
    event = sample_event("validate")
    bare = parse_event(event, ObjectCreated)
    wrapped = parse_event({"event": event, "execution": "run-1"}, ObjectCreated)
    assert bare.event == wrapped.event
    assert bare.execution_name == event["id"]
    assert wrapped.execution_name == "run-1"
    # QuarantineFile reads the same detail with the model Validate's event carries.
    quarantine = parse_event(sample_event("quarantine_file"), QuarantineRequest)
    assert quarantine.detail == bare.detail
    assert type(quarantine.detail) is type(bare.event.detail)


def test_the_file_state_is_one_model_written_by_validate_and_read_by_finalize() -> None:
    file = sample_event("finalize_file")["file"]
    adapter: TypeAdapter[ValidatedFile | DuplicateFile] = TypeAdapter(FileState)
    validated = adapter.validate_python(file)
    assert isinstance(validated, ValidatedFile)
    assert validated.model_dump(mode="json") == file
    assert validated.ingested_at.utcoffset() is not None
    duplicate = adapter.validate_python(
        {
            **{key: file[key] for key in fields(DuplicateFile) if key in file},
            "duplicate": True,
            "status": "COMPLETED",
            "claimed_by": "another-run",
        }
    )
    assert isinstance(duplicate, DuplicateFile)
    # The list of chunks stays in S3: the file's state has the same size whatever its length.
    assert "chunk_keys" not in ValidatedFile.model_fields
    with pytest.raises(ValueError, match="chunk_keys"):
        ValidatedFile.model_validate({**file, "chunk_keys": ["staging/x/chunk-00001.jsonl"]})


def test_the_ingest_state_machine_passes_exactly_what_each_step_parses() -> None:
    asl = dict(states(definition("ingest_file")))
    assert parameter_names(asl["Validate"]["Parameters"]) == fields(ObjectCreated)
    assert parameter_names(asl["ProcessChunks"]["ItemSelector"]) == fields(ChunkTask)
    assert parameter_names(asl["PrepareCrawl"]["Result"]) | {"execution"} == fields(CrawlerCounts)
    assert parameter_names(asl["StartCrawler"]["Parameters"]) == fields(CrawlerCounts)
    assert parameter_names(asl["CheckCrawler"]["Parameters"]) == fields(CrawlerPoll)
    assert parameter_names(asl["RefreshSpice"]["Parameters"]) == fields(ExecutionStep)
    assert parameter_names(asl["FinalizeFile"]["Parameters"]) == fields(FinalizeRequest)
    assert parameter_names(asl["QuarantineFile"]["Parameters"]) == fields(QuarantineRequest)
    # Enrich, Score and Deliver take the previous step's whole answer.
    assert fields(ChunkTask) < fields(EnrichedChunk) < fields(ScoredChunk)


# Where the ingest state machine keeps each step's answer, and the models found there.
INGEST_STATE: dict[str, tuple[type[BaseModel], ...]] = {
    "file": (ValidatedFile, DuplicateFile),
    "crawler": (CrawlerChecked,),
    "error": (),  # a Catch's {"Error", "Cause"}
    "quarantine": (),
}


def test_every_path_the_ingest_state_machine_reads_is_a_model_field() -> None:
    read = {path for _, state in states(definition("ingest_file")) for path in paths_in(state)}
    assert read, "no path found: the walk is broken"
    for path in sorted(read):
        parts = path.split(".")[1:]
        if len(parts) < 2 or parts[0] not in INGEST_STATE or not INGEST_STATE[parts[0]]:
            continue
        owners = INGEST_STATE[parts[0]]
        assert any(parts[1] in model.model_fields for model in owners), path
    assert "$.file.chunks_key" in read
    assert "$.crawler.gave_up" in read


def test_the_training_state_machine_passes_and_reads_the_evaluation_models() -> None:
    asl = dict(states(definition("train_model")))
    evaluate, promote = asl["Evaluate"], asl["Promote"]
    assert parameter_names(evaluate["Parameters"]["Payload"]) == fields(EvaluationRequest)
    assert parameter_names(evaluate["ResultSelector"]) == fields(ModelEvaluation)
    assert parameter_names(promote["Parameters"]["Payload"]) == fields(PromotionRequest)
    for path in paths_in(promote["Parameters"]["Payload"]):
        _, place, model_part, field = path.split(".")
        assert (place, model_part) == ("evaluation", "candidate")
        assert field in ModelSummary.model_fields
    assert parameter_names(promote["ResultSelector"]) == fields(Promotion)
    assert {path.split(".")[-1] for path in paths_in(promote["ResultSelector"])} == fields(
        Promotion
    )


@pytest.mark.parametrize(
    ("name", "change", "named"),
    [
        ("enrich", {"chunk_key": None}, "chunk_key"),
        ("score", {"records": -1}, "records"),
        ("deliver", {"surprise": 1}, "surprise"),
        ("start_crawler", {"polls": "many"}, "polls"),
        ("check_crawler", {"start_status": "MAYBE"}, "start_status"),
        ("evaluate_model", {"modelDataUrl": "https://example.com/model.tar.gz"}, "modelDataUrl"),
        ("promote_model", {"endpointName": ""}, "endpointName"),
    ],
)
def test_a_malformed_event_is_one_line_naming_the_field(
    name: str, change: dict[str, Any], named: str
) -> None:
    event = {**sample_event(name), **change}
    model = EVENT_MODELS[name]
    with pytest.raises(InvalidEvent) as raised:
        parse_event(event, model)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"not a {model.__name__}: ")
    assert named in message


def test_an_event_that_is_not_an_object_is_refused_in_one_line() -> None:
    for event in (None, [], "not json", 42):
        with pytest.raises(InvalidEvent) as raised:
            parse_event(event, FinalizeRequest)
        assert "\n" not in str(raised.value)
    with pytest.raises(InvalidEvent, match=r"\(and \d+ more\)"):
        parse_event({}, FinalizeRequest)

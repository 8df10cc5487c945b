"""The workflows' contract: the state each step of the state machines receives and passes on.

Every handler parses its input into one of these models at the door (``parse_event``, Powertools'
parser) and returns ``model_dump(mode="json")`` of its output model. The field names are the JSON
names the ASL's paths read and write, so a model and its state agree by construction.

``statemachines/ingest_file.asl.json``::

    Validate        ObjectCreated       -> ValidatedFile | DuplicateFile  at $.file
    ProcessChunks   ChunkTask (the Distributed Map's ItemSelector, one child execution each)
      Enrich        ChunkTask           -> EnrichedChunk
      Score         EnrichedChunk       -> ScoredChunk
      Deliver       ScoredChunk         -> DeliveredChunk
    StartCrawler    CrawlerCounts       -> CrawlerStarted                 at $.crawler
    CheckCrawler    CrawlerPoll         -> CrawlerChecked                 at $.crawler
    RefreshSpice    ExecutionStep       -> SpiceRefresh                   at $.spice
    FinalizeFile    FinalizeRequest     -> FileProcessed                  (the execution's output)
    QuarantineFile  QuarantineRequest   -> Quarantined                    at $.quarantine

``statemachines/train_model.asl.json`` (camelCase, as its Lambda payloads are)::

    Evaluate        EvaluationRequest   -> ModelEvaluation                at $.evaluation
    Promote         PromotionRequest    -> Promotion                      at $.promotion
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import (
    S3EventNotificationEventBridgeDetailModel,
    S3EventNotificationEventBridgeModel,
)
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PlainSerializer,
    PositiveInt,
    model_validator,
)

from booking_core.errors import BookingError

# How many of a malformed event's problems the one-line error lists.
PROBLEMS_SHOWN = 3
S3_URL_PATTERN = r"^s3://[^/]+/.+"


class InvalidEvent(BookingError):
    """A handler's input does not match its step's model (named as the other Lambda errors are:
    the class name is the error Step Functions and callers see)."""


def parse_event[ModelT: BaseModel](event: Any, model: type[ModelT]) -> ModelT:
    """``event`` parsed into ``model`` with Powertools' parser, or an ``InvalidEvent`` whose
    message is one line naming the model and the fields at fault."""
    try:
        return parse(event=event, model=model)
    except ValidationError as exc:
        raise InvalidEvent(f"not a {model.__name__}: {describe_problems(exc)}") from None


def describe_problems(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}"
        for error in errors[:PROBLEMS_SHOWN]
    ]
    more = len(errors) - PROBLEMS_SHOWN
    text = "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
    return " ".join(text.split())


def _isoformat(value: datetime) -> str:
    return value.isoformat()


# Written as ``datetime.isoformat()`` gives it (``+00:00``), as the state has always carried it.
IsoDatetime = Annotated[
    AwareDatetime, PlainSerializer(_isoformat, return_type=str, when_used="json")
]


class StepState(BaseModel):
    """Base of the workflow models: immutable, and no field the contract does not name."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# -- the file ------------------------------------------------------------------------------------


class ObjectCreated(StepState):
    """Validate's input: the EventBridge "Object Created" event S3 sends, as the state machine
    wraps it (``{"event": <it>, "execution": <name>}``) or bare (a direct invocation)."""

    event: S3EventNotificationEventBridgeModel
    execution: str | None = None
    started_at: AwareDatetime | None = Field(
        default=None, description="the execution's start ($$.Execution.StartTime)"
    )

    @model_validator(mode="before")
    @classmethod
    def _wrap_a_bare_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and "event" not in data:
            return {"event": data}
        return data

    @property
    def detail(self) -> S3EventNotificationEventBridgeDetailModel:
        return self.event.detail

    @property
    def execution_name(self) -> str:
        """The execution's name; a direct invocation goes by the event's id."""
        return self.execution or self.event.id


class FileIdentity(StepState):
    """The object being ingested and the execution that holds it."""

    object_id: str
    file_id: str
    bucket: str
    key: str
    etag: str
    version_id: str | None
    source_file: str
    execution: str


class DuplicateFile(FileIdentity):
    """Validate's answer when another execution holds or finished the object, or when the
    object's bytes are another file's (the same bytes under another key)."""

    duplicate: Literal[True] = True
    status: str = Field(description="the claim's status: IN_PROGRESS or COMPLETED")
    claimed_by: str | None
    duplicate_of: str | None = Field(
        default=None, description="the source file that holds these bytes or this object"
    )
    checksum_sha256: str | None = None


class ValidatedFile(FileIdentity):
    """Validate's answer for a file it staged: written by Validate into ``$.file``, read by the
    Map's ItemSelector and by FinalizeFile."""

    duplicate: Literal[False] = False
    status: Literal["validated"] = "validated"
    ingested_at: IsoDatetime
    booking_date: date
    rows: NonNegativeInt
    valid: NonNegativeInt
    rejected: NonNegativeInt
    duplicates: NonNegativeInt
    encoding: str | None
    reasons: dict[str, NonNegativeInt]
    chunk_size: PositiveInt
    chunk_count: NonNegativeInt
    chunks_key: str = Field(
        description="the JSON array of the chunk keys in the lake bucket: the ProcessChunks "
        "Map's ItemReader reads it, FinalizeFile reconciles against it"
    )
    manifest_key: str
    rejected_key: str | None
    checksum_sha256: str | None = Field(default=None, description="of the object's bytes")
    sequencer: str | None = Field(
        default=None, description="the S3 event's sequencer, padded (orders versions of a key)"
    )


FileState = Annotated[ValidatedFile | DuplicateFile, Field(discriminator="duplicate")]


# -- one chunk (the ProcessChunks Map) -----------------------------------------------------------


class ChunkTask(StepState):
    """One item of the ProcessChunks Map, as its ItemSelector builds it from a chunk key of the
    file's chunk list: a staged chunk and the context its file gives every record."""

    chunk_key: str
    source_file: str
    ingested_at: IsoDatetime
    booking_date: date | None = None
    execution: str


class EnrichedChunk(ChunkTask):
    """Enrich's answer: the task and its enriched chunk."""

    enriched_key: str
    records: NonNegativeInt


class ScoredChunk(EnrichedChunk):
    """Score's answer: the enriched chunk and its scored copy."""

    scored_key: str
    scored: NonNegativeInt
    unscored: NonNegativeInt
    scoring_failures: NonNegativeInt = 0


class DeliveredChunk(StepState):
    """Deliver's answer (its receipt in the lake is what FinalizeFile counts)."""

    chunk_key: str
    records: NonNegativeInt
    scored: NonNegativeInt
    unscored: NonNegativeInt
    delivered: NonNegativeInt
    retried: NonNegativeInt


# -- the crawler loop ($.crawler) -----------------------------------------------------------------

StartStatus = Literal["STARTED", "ALREADY_RUNNING"]


class ExecutionStep(StepState):
    """A step that needs only the execution's name (RefreshSpice)."""

    execution: str


class CrawlerCounts(ExecutionStep):
    """StartCrawler's input: the loop's counters (PrepareCrawl sets both to 0)."""

    polls: NonNegativeInt
    starts: NonNegativeInt


class CrawlerPoll(CrawlerCounts):
    """CheckCrawler's input: the counters and how the last start went."""

    start_status: StartStatus


class CrawlerStarted(StepState):
    """StartCrawler's answer."""

    crawler: str
    start_status: StartStatus
    starts: NonNegativeInt
    polls: NonNegativeInt


class CrawlerChecked(CrawlerStarted):
    """CheckCrawler's answer; the CrawlerGaveUp state sets ``gave_up`` when the poll bound is
    reached before the crawler is READY."""

    state: str
    last_crawl_status: str | None
    last_crawl_error: str | None
    gave_up: bool = False


class SpiceRefresh(StepState):
    """RefreshSpice's answer."""

    status: Literal["disabled", "refreshed"]
    started: list[dict[str, str]] = Field(default_factory=list)
    skipped: list[dict[str, str]] = Field(default_factory=list)


# -- the end of a file ---------------------------------------------------------------------------


class FinalizeRequest(StepState):
    """FinalizeFile's input (its Parameters)."""

    file: ValidatedFile
    crawler: CrawlerChecked
    spice: SpiceRefresh
    execution: str
    started_at: AwareDatetime | None = None


class FileProcessed(StepState):
    """FinalizeFile's answer: the execution's output, the claim's summary and the detail of the
    "File Processed" event."""

    status: Literal["completed"] = "completed"
    object_id: str
    source_file: str
    execution: str
    rows: NonNegativeInt
    valid: NonNegativeInt
    rejected: NonNegativeInt
    duplicates: NonNegativeInt
    delivered: NonNegativeInt
    scored: NonNegativeInt
    unscored: NonNegativeInt
    chunks: NonNegativeInt
    reasons: dict[str, NonNegativeInt]
    rejected_key: str | None
    crawler_state: str
    crawler_gave_up: bool
    spice: str
    checksum_sha256: str | None = None
    crawler_status: str = Field(
        default="", description="how the partition crawl went, as the audit row records it"
    )
    supersedes: str | None = Field(
        default=None, description="the previous version of the key, whose rows this replaces"
    )
    superseded_by: str | None = Field(
        default=None, description="a newer version of the key that committed first"
    )
    warnings: list[str] = Field(default_factory=list)


class CaughtError(StepState):
    """What a Catch puts at its ResultPath (Step Functions' own field names)."""

    Error: str
    Cause: str = ""


class QuarantineRequest(StepState):
    """QuarantineFile's input: the S3 event's detail (the model Validate's event carries), the
    caught error and the execution."""

    detail: S3EventNotificationEventBridgeDetailModel
    error: CaughtError
    execution: str
    started_at: AwareDatetime | None = None


class Quarantined(StepState):
    """QuarantineFile's answer; the FileFailed state reads ``reason``."""

    error: str
    reason: str
    quarantine_key: str | None = Field(description="None when the raw object could not be copied")
    report_key: str
    alert_message_id: str | None


# -- the model (train_model.asl.json) ------------------------------------------------------------


class EvaluationRequest(StepState):
    """EvaluateModel's payload."""

    modelDataUrl: str = Field(pattern=S3_URL_PATTERN)
    endpointName: str = ""
    minRocAuc: float = Field(default=0.0, ge=0.0, le=1.0)


class ModelSummary(StepState):
    """A model archive's version and held-out ROC AUC."""

    modelVersion: str
    rocAuc: float
    modelDataUrl: str


class ModelEvaluation(StepState):
    """EvaluateModel's answer: the candidate, the live model (None when the endpoint serves
    none) and the decision."""

    candidate: ModelSummary
    live: ModelSummary | None
    promote: bool
    reason: str


class PromotionRequest(StepState):
    """PromoteModel's payload."""

    modelDataUrl: str = Field(pattern=S3_URL_PATTERN)
    modelVersion: str = Field(min_length=1)
    endpointName: str = Field(min_length=1)


class Promotion(StepState):
    """PromoteModel's answer: the endpoint, the model it serves now, and where that model's
    archive was recorded for the stack (None when the endpoint is not the stack's)."""

    endpointName: str
    modelName: str
    action: Literal["created", "updated"]
    liveModelDataUrl: str | None = None

"""Every sample event of events/ through `bookings invoke --seed` on a fresh emulated account,
as `sam local invoke -e events/<fn>.json` runs it against a deployed stack: each answer is
checked against what the event and the seeded data say it must be."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from support.paths import EVENTS

from bookings.cli import main

pytestmark = pytest.mark.slow

WITH_MODEL = ["--parameter", "SageMakerModelDataUrl=s3://user-models/bookings/model.tar.gz"]
SAMPLE_ROWS = 1000  # data/sample_bookings.csv


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def check_validate(answer: dict[str, Any]) -> None:
    assert answer["duplicate"] is False
    assert answer["rows"] == SAMPLE_ROWS == answer["valid"] + answer["rejected"]
    assert answer["chunk_count"] == -(-answer["valid"] // 5000)
    assert answer["key"] == event("validate")["detail"]["object"]["key"]


def check_enrich(answer: dict[str, Any]) -> None:
    assert answer["records"] == SAMPLE_ROWS
    assert answer["enriched_key"] == answer["chunk_key"].replace("/chunk-", "/enriched/chunk-")


def check_score(answer: dict[str, Any]) -> None:
    sent = event("score")
    assert answer["records"] == sent["records"] == answer["scored"] + answer["unscored"]
    assert answer["unscored"] == sent["records"]  # no endpoint in the emulated stack


def check_deliver(answer: dict[str, Any]) -> None:
    sent = event("deliver")
    assert answer["delivered"] == answer["records"] == sent["records"]
    assert answer["chunk_key"] == sent["chunk_key"]


def check_finalize(answer: dict[str, Any]) -> None:
    file = event("finalize_file")["file"]
    assert answer["status"] == "completed"
    assert answer["delivered"] == answer["valid"] == file["valid"]
    assert answer["rows"] == file["rows"] == answer["valid"] + answer["rejected"]
    assert answer["chunks"] == file["chunk_count"]


def check_quarantine(answer: dict[str, Any]) -> None:
    sent = event("quarantine_file")
    assert answer["error"] == sent["error"]["Error"]
    assert answer["quarantine_key"] == f"quarantine/files/{sent['detail']['object']['key']}"
    assert answer["alert_message_id"]


def check_evaluate(answer: dict[str, Any]) -> None:
    assert answer["candidate"]["modelDataUrl"].endswith(
        event("evaluate_model")["modelDataUrl"].split("/", 3)[3]
    )
    assert 0.5 < answer["candidate"]["rocAuc"] <= 1.0
    # The event names an endpoint the fresh account does not have: no live model, promote.
    assert answer["live"] is None
    assert (answer["promote"], answer["reason"]) == (True, "no live model")


def check_promote(answer: dict[str, Any]) -> None:
    sent = event("promote_model")
    assert answer["endpointName"] == sent["endpointName"]
    assert answer["action"] == "created"
    assert answer["modelName"].endswith(sent["modelVersion"])
    assert answer["liveModelDataUrl"] is None  # not the stack's endpoint: nothing recorded


def check_ingest_api(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert (len(body["accepted"]), body["rejected"]) == (2, [])


def expecting(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def check(answer: dict[str, Any]) -> None:
        assert {key: answer[key] for key in fields} == fields

    return check


CHECKS: dict[str, tuple[list[str], Callable[[dict[str, Any]], None]]] = {
    "validate": ([], check_validate),
    "enrich": ([], check_enrich),
    "score": ([], check_score),
    "deliver": ([], check_deliver),
    "start_crawler": ([], expecting(start_status="STARTED", starts=1)),
    "check_crawler": ([], expecting(state="READY", start_status="STARTED", gave_up=False)),
    "refresh_spice": ([], expecting(status="disabled", started=[], skipped=[])),
    "quarantine_file": ([], check_quarantine),
    "finalize_file": ([], check_finalize),
    "ingest_api": ([], check_ingest_api),
    "evaluate_model": (WITH_MODEL, check_evaluate),
    "promote_model": (WITH_MODEL, check_promote),
}


def test_every_event_has_its_check() -> None:
    assert {path.stem for path in EVENTS.glob("*.json")} == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_event_runs_on_a_fresh_account_once_seeded(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options, check = CHECKS[name]
    code = main(["invoke", name, "--event", str(EVENTS / f"{name}.json"), "--seed", *options])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    answer = json.loads(captured.out)
    assert "errorType" not in answer
    assert "seed: " in captured.err
    check(answer)


def test_a_model_function_without_an_endpoint_is_named_with_its_condition(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["invoke", "evaluate_model", "--event", str(EVENTS / "evaluate_model.json")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: EvaluateModelFunction exists only when the template's condition")
    assert "HasEndpoint" in err

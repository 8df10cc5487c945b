"""LightGBM keeps one thread count for the whole process, and every call that takes parameters
sets it: calls that overlap with different counts crash the process (a segmentation fault, which
took down a test worker). Cross-validation folds run side by side, so all their calls name the
same count; predictions of a served model take turns."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
from support.ml_helpers import enriched_bookings, train_small_model

from bookings.ml.crossval import THREADS, cross_validate
from bookings.ml.design import EncodedTraining
from bookings.ml.frame import records_to_frame
from bookings.ml.inference import SMALL_BATCH_ROWS, load_model
from bookings.ml.search import FORMER_DEFAULTS
from bookings.ml.training import labels_of

pytestmark = pytest.mark.slow


def test_every_lightgbm_call_of_side_by_side_folds_names_one_thread_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    named: list[tuple[str, Any]] = []
    predict, construct = lightgbm.Booster.predict, lightgbm.Dataset.construct

    def recording_predict(self: lightgbm.Booster, data: Any, *args: Any, **kwargs: Any) -> Any:
        named.append(("predict", kwargs.get("num_threads")))
        return predict(self, data, *args, **kwargs)

    def recording_construct(self: lightgbm.Dataset) -> lightgbm.Dataset:
        if self._handle is None:  # the call that builds it in LightGBM, with these parameters
            named.append(("dataset", (self.params or {}).get("num_threads")))
        return construct(self)

    monkeypatch.setattr(lightgbm.Booster, "predict", recording_predict)
    monkeypatch.setattr(lightgbm.Dataset, "construct", recording_construct)
    frame = records_to_frame(enriched_bookings(1500, seed=8))
    data = EncodedTraining(frame, labels_of(frame))
    features = data.features(FORMER_DEFAULTS)
    cross_validate(data, FORMER_DEFAULTS, features, folds=3, seed=8, workers=3)
    assert {call for call, _ in named} == {"predict", "dataset"}
    assert {threads for _, threads in named} == {THREADS}, named


def test_predictions_of_a_served_model_take_turns(tmp_path: Path) -> None:
    _, written = train_small_model(tmp_path, n=2000, seed=6)
    model = load_model(written.archive)
    booster_predict = model.booster.predict
    running = 0
    most_at_once = 0
    counting = threading.Lock()

    def counted_predict(data: Any, **kwargs: Any) -> Any:
        nonlocal running, most_at_once
        with counting:
            running += 1
            most_at_once = max(most_at_once, running)
        time.sleep(0.005)  # long enough for a request on another thread to arrive meanwhile
        try:
            return booster_predict(data, **kwargs)
        finally:
            with counting:
                running -= 1

    model.booster.predict = counted_predict  # type: ignore[method-assign]
    records = enriched_bookings(SMALL_BATCH_ROWS + 88, seed=9)
    # Small requests (one thread) and large ones (every core) arrive together, as at an endpoint.
    sizes = [1, SMALL_BATCH_ROWS + 88, 3, SMALL_BATCH_ROWS + 1] * 10
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda size: model.predict_records(records[:size]), sizes))
    assert most_at_once == 1
    full = model.predict_records(records)
    for size, answer in zip(sizes, answers, strict=True):
        np.testing.assert_allclose(answer, full[:size], rtol=0, atol=1e-12)
    explained = ThreadPoolExecutor(max_workers=2).map(
        lambda _: model.contributions(model.encode(records[:50])), range(4)
    )
    assert [len(rows) for rows in explained] == [50] * 4
    assert most_at_once == 1

"""The generated outcome carries a realistic signal: about what the public file gives a model.

Completion depends on non-linear shapes and interactions, so gradient boosting clearly beats a
logistic regression on one-hot categories and standardised numbers, as on the public file."""

from __future__ import annotations

import pytest

from bookings.generator import generate_rows

pytestmark = pytest.mark.slow

CATEGORICAL = ["sales_channel", "trip_type", "flight_day", "route", "booking_origin"]


def test_gradient_boosting_auc_is_realistic_and_clearly_beats_a_linear_model() -> None:
    import lightgbm as lgb
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.DataFrame(generate_rows(50_000, seed=31))
    completion = frame["booking_complete"].mean()
    assert 0.13 <= completion <= 0.17

    features = frame.drop(columns="booking_complete")
    for name in CATEGORICAL:
        features[name] = features[name].astype("category")
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        frame["booking_complete"],
        test_size=0.2,
        stratify=frame["booking_complete"],
        random_state=0,
    )
    booster = lgb.LGBMClassifier(
        n_estimators=400,
        learning_rate=0.03,
        num_leaves=31,
        min_child_samples=40,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=1,
        verbose=-1,
    )
    booster.fit(x_train, y_train)
    boosted_auc = roc_auc_score(y_test, booster.predict_proba(x_test)[:, 1])
    assert 0.805 <= boosted_auc <= 0.84

    numeric = [name for name in features.columns if name not in CATEGORICAL]
    linear = make_pipeline(
        ColumnTransformer(
            [
                ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                ("numbers", StandardScaler(), numeric),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    linear.fit(x_train, y_train)
    linear_auc = roc_auc_score(y_test, linear.predict_proba(x_test)[:, 1])
    assert linear_auc <= boosted_auc - 0.03

"""Honest evaluation: metrics on probabilities, calibration and lift tables, baselines."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
)

DECILES = 10


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Ranking and probability quality: computed on probabilities, never on hard labels."""
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
    }


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = p >= threshold
    positives = y == 1
    true_positives = float(np.sum(predicted & positives))
    precision = true_positives / max(float(np.sum(predicted)), 1.0)
    recall = true_positives / max(float(np.sum(positives)), 1.0)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {
        "threshold": float(threshold),
        "accuracy": float(np.mean(predicted == positives)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "always_no_accuracy": float(1.0 - np.mean(y)),
    }


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability threshold with the highest F1 (chosen on out-of-fold predictions)."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall + 1e-12), 0)
    # precision/recall have one more entry than thresholds (the end point with no threshold).
    best = int(np.argmax(f1[:-1]))
    return float(thresholds[best])


def _decile_index(p: np.ndarray) -> np.ndarray:
    """Decile of each prediction, 0 = lowest scores, by rank so ties split evenly."""
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p), dtype=np.int64)
    ranks[order] = np.arange(len(p))
    return (ranks * DECILES) // max(len(p), 1)


def calibration_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Mean predicted probability against the observed completion rate, by decile of score."""
    deciles = _decile_index(p)
    table = []
    for decile in range(DECILES):
        mask = deciles == decile
        if not mask.any():
            continue
        table.append(
            {
                "decile": decile + 1,
                "n": int(mask.sum()),
                "min_probability": float(p[mask].min()),
                "max_probability": float(p[mask].max()),
                "mean_predicted": float(p[mask].mean()),
                "observed_rate": float(y[mask].mean()),
            }
        )
    return table


def lift_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Deciles from the highest scores down: completion rate, lift over the base rate, and the
    share of all completions captured so far (what a campaign targeting the top deciles gets)."""
    deciles = DECILES - 1 - _decile_index(p)
    base_rate = float(np.mean(y)) if len(y) else 0.0
    total = max(float(np.sum(y)), 1.0)
    captured = 0.0
    table = []
    for decile in range(DECILES):
        mask = deciles == decile
        if not mask.any():
            continue
        completions = float(np.sum(y[mask]))
        captured += completions
        rate = completions / float(mask.sum())
        table.append(
            {
                "decile": decile + 1,
                "n": int(mask.sum()),
                "completions": int(completions),
                "completion_rate": rate,
                "lift": rate / base_rate if base_rate else 0.0,
                "cumulative_capture": captured / total,
            }
        )
    return table

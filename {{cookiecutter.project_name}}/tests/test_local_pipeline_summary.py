"""The local pipeline's summary says on which side of its threshold each metric passes."""

from __future__ import annotations

import pytest

import local_pipeline
import model_spec.metrics


@pytest.mark.parametrize(
    ("directions", "side"),
    [
        ({"rmse": False, "mae": False}, "value <= threshold"),
        ({"accuracy": True}, "value >= threshold"),
        ({"accuracy": True, "missed": False}, "value <= threshold for an error, >= for a score (as each line shows)"),
    ],
)
def test_the_summary_header_follows_each_metrics_direction(monkeypatch, directions, side) -> None:
    monkeypatch.setattr(model_spec.metrics, "GREATER_IS_BETTER", directions)
    assert local_pipeline.passing_side() == side

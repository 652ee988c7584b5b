"""Train step: the estimator fitted on the transformed features."""

from __future__ import annotations

from sklearn.linear_model import SGDRegressor


def estimator_fn() -> SGDRegressor:
    """The recipe's ``estimator_method``: an unfitted linear regressor, seeded for repeatable runs."""
    return SGDRegressor(random_state=42)

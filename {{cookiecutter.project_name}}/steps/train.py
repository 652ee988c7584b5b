"""Train step: the estimator fitted on the transformed features.

The training code fits it, after ``steps.transform.transformer_fn``, on a pandas frame in
the driver's memory, so it reads a bounded number of trips.
"""

from __future__ import annotations

from sklearn.linear_model import SGDRegressor


def estimator_fn() -> SGDRegressor:
    """An unfitted linear regressor, seeded for repeatable runs."""
    return SGDRegressor(random_state=42)

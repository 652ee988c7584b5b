"""Train step: the estimator fitted on the transformed features.

MLflow Recipes fits it on a pandas frame in the driver's memory. The bound on that frame is
the ``LIMIT`` of the ingest query in the Databricks profiles (profiles/databricks-*.yaml):
the most recent trips, at most 2,000,000 of them.
"""

from __future__ import annotations

from sklearn.linear_model import SGDRegressor


def estimator_fn() -> SGDRegressor:
    """The recipe's ``estimator_method``: an unfitted linear regressor, seeded for repeatable runs."""
    return SGDRegressor(random_state=42)

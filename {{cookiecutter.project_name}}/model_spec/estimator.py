"""The estimator of the example model, fitted on the output of ``model_spec.features.transformer_fn``.

The training code fits it on a pandas frame in the driver's memory, so it reads a bounded
number of rows. Its kind must match ``model_spec.data.TASK`` (a regressor for "regression").
"""

from __future__ import annotations

from sklearn.linear_model import SGDRegressor


def estimator_fn() -> SGDRegressor:
    """An unfitted linear regressor, seeded for repeatable runs."""
    return SGDRegressor(random_state=42)

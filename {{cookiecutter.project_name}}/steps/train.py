{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
"""Train step: the estimator fitted on the transformed features.

{% if recipes -%}
MLflow Recipes fits it on a pandas frame in the driver's memory. The bound on that frame is
the ``LIMIT`` of the ingest query in the Databricks profiles (profiles/databricks-*.yaml):
the most recent trips, at most 2,000,000 of them.
{%- else -%}
``fare_model.training`` fits it, after ``steps.transform.transformer_fn``, on a pandas frame
in the driver's memory, collected with a bound (``fare_model.data``).
{%- endif %}
"""

from __future__ import annotations

from sklearn.linear_model import SGDRegressor


def estimator_fn() -> SGDRegressor:
    """{% if recipes %}The recipe's ``estimator_method``: an unfitted{% else %}An unfitted{% endif %} linear regressor, seeded for repeatable runs."""
    return SGDRegressor(random_state=42)

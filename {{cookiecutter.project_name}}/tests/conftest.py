{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
"""Fixtures of the {% if recipes %}recipe {% endif %}step tests: the committed test slice of the sample and a model fitted on it.

The Spark session and the MLflow store come from the conftest.py in the project root.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.pipeline import Pipeline

from steps.train import estimator_fn
from steps.transform import transformer_fn

TEST_SAMPLE = Path(__file__).with_name("test_sample.parquet")


@pytest.fixture
def trips() -> pd.DataFrame:
    """200 raw trips with the sample's six columns and dtypes."""
    return pd.read_parquet(TEST_SAMPLE)


@pytest.fixture
def registered_model(trips: pd.DataFrame, mlflow_store: str) -> str:
    """URI of a registered version of {% if recipes %}the recipe's{% else %}the steps'{% endif %} model (transformer + estimator) fitted on ``trips``."""
    features, target = trips.drop(columns=["fare_amount"]), trips["fare_amount"]
    model = Pipeline([("transformer", transformer_fn()), ("estimator", estimator_fn())]).fit(features, target)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            "model",
            signature=infer_signature(features, model.predict(features)),
            registered_model_name="fares",
        )
    return f"models:/fares/{info.registered_model_version}"

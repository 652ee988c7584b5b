"""Fixtures of the tests of ``steps/``: the committed test slice of the sample and a model fitted on it.

The Spark session and the MLflow store come from the conftest.py in the project root.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.pipeline import Pipeline

from model_spec.estimator import estimator_fn
from model_spec.features import transformer_fn

TEST_SAMPLE = Path(__file__).with_name("test_sample.parquet")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def trips() -> pd.DataFrame:
    """200 raw trips with the sample's six columns and dtypes."""
    return pd.read_parquet(TEST_SAMPLE)


@pytest.fixture
def registered_model(trips: pd.DataFrame, mlflow_store: str) -> str:
    """URI of a registered version of the model of ``model_spec`` (features + estimator)
    (transformer + estimator) fitted on ``trips``."""
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


@pytest.fixture
def changed_repository(tmp_path: Path) -> Path:
    """A copy of the project's ``steps`` and ``model_spec`` packages whose feature code has changed since a model was
    fitted (the trip duration in thirds of a minute), as a later commit may change it: code that
    imports it first must not change what an earlier model computes."""
    repository = tmp_path / "changed-repository"
    shutil.copytree(PROJECT_ROOT / "steps", repository / "steps")
    shutil.copytree(PROJECT_ROOT / "model_spec", repository / "model_spec")
    transform = repository / "model_spec" / "features.py"
    source = transform.read_text()
    changed = source.replace(
        "(dropoff - pickup).dt.total_seconds() / 60.0", "(dropoff - pickup).dt.total_seconds() / 20.0"
    )
    assert changed != source, "the feature code to change was not found"
    transform.write_text(changed)
    return repository

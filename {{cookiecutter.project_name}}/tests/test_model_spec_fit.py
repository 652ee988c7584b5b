"""The contract of ``model_spec``'s features and estimator: they fit on the sample, and the
prediction and metrics work on the fitted model (see tests/test_model_spec.py for the rest).

The feature-store track has no such modules: it fits ``features.training.build_model`` on the
feature tables (tests/features/test_training_and_scoring.py checks it against the package).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline

from model_spec.data import LABEL, SAMPLE_PATH, TASK
from model_spec.estimator import estimator_fn
from model_spec.features import transformer_fn
from model_spec.metrics import THRESHOLDS, compute_metrics
from model_spec.prediction import PREDICTION_COLUMN, prediction_column
from steps.trips import clean_trips

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The project's own packages: the feature code a model carries may import none of them.
PROJECT_PACKAGES = {"model_spec", "steps", "fare_model", "features", "local_pipeline", "tests"}


def test_the_package_provides_features_and_an_estimator() -> None:
    assert callable(transformer_fn), (
        "model_spec.features must define transformer_fn: an unfitted scikit-learn transformer"
    )
    assert callable(estimator_fn), "model_spec.estimator must define estimator_fn: an unfitted scikit-learn estimator"


@pytest.fixture(scope="module")
def training_rows() -> pd.DataFrame:
    """The sample's rows that meet TRAINING_CONTRACT (tests/test_model_spec.py checks that most do)."""
    return clean_trips(pd.read_parquet(PROJECT_ROOT / SAMPLE_PATH))


def test_the_estimator_is_of_the_task() -> None:
    estimator = estimator_fn()
    if TASK == "regression":
        assert is_regressor(estimator), f"TASK is 'regression' but estimator_fn returns {type(estimator).__name__}"
    else:
        assert is_classifier(estimator), f"TASK is 'classification' but estimator_fn returns {type(estimator).__name__}"


@pytest.fixture(scope="module")
def fitted(training_rows: pd.DataFrame) -> Pipeline:
    features, label = training_rows.drop(columns=[LABEL]), training_rows[LABEL]
    return Pipeline([("features", transformer_fn()), ("estimator", estimator_fn())]).fit(features, label)


def test_the_features_never_see_the_label(training_rows: pd.DataFrame) -> None:
    features = transformer_fn().fit_transform(training_rows.drop(columns=[LABEL]))
    assert len(features) == len(training_rows), "transformer_fn must return one row of features per input row"
    assert LABEL not in getattr(features, "columns", []), f"the features must not include the label {LABEL!r}"


def test_the_prediction_is_one_value_of_the_labels_kind_per_row(fitted: Pipeline, training_rows: pd.DataFrame) -> None:
    rows = training_rows.drop(columns=[LABEL])
    predicted = prediction_column(fitted, rows)
    assert isinstance(predicted, pd.Series), "prediction_column must return a pandas Series"
    assert predicted.name == PREDICTION_COLUMN, f"prediction_column must name its Series {PREDICTION_COLUMN!r}"
    assert len(predicted) == len(rows) and predicted.index.equals(rows.index), (
        "one prediction per row, with the rows' index"
    )
    if TASK == "regression":
        assert pd.api.types.is_numeric_dtype(predicted), "a regressor's prediction must be a number per row"
        assert np.isfinite(predicted.astype(float)).all(), "a regressor's predictions must be finite"
    else:
        unknown = set(predicted.unique()) - set(training_rows[LABEL].unique())
        assert not unknown, (
            f"a classifier's prediction must be the predicted class (one of the label's values), not "
            f"{sorted(unknown)[:3]}...: take model.predict, never the probabilities"
        )


def test_the_metrics_compute_on_the_prediction(fitted: Pipeline, training_rows: pd.DataFrame) -> None:
    predicted = prediction_column(fitted, training_rows.drop(columns=[LABEL]))
    metrics = compute_metrics(predicted, training_rows[LABEL])
    assert set(metrics) == set(THRESHOLDS), (
        f"compute_metrics must return a value for every metric in THRESHOLDS: got {sorted(metrics)}, "
        f"THRESHOLDS has {sorted(THRESHOLDS)}"
    )
    assert all(isinstance(v, float) and math.isfinite(v) for v in metrics.values()), (
        f"metrics must be finite floats: {metrics}"
    )


def test_the_feature_code_imports_no_project_module() -> None:
    """A logged model carries model_spec/features.py alone, so it may import third-party packages only."""
    tree = ast.parse((PROJECT_ROOT / "model_spec" / "features.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    ours = sorted(name for name in imported if name.split(".")[0] in PROJECT_PACKAGES)
    assert not ours, f"model_spec/features.py imports {ours}: a logged model carries this file alone"

"""The contract of ``model_spec``: what a package must provide to be this project's model.

Swapping the example model means replacing ``model_spec/`` and ``data/sample.parquet``; run
this file first (``pytest tests/test_model_spec.py``): each failure names what is missing or
wrong, before any pipeline runs.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import math
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline

from model_spec.contract import INPUT_CONTRACT, TRAINING_CONTRACT
from model_spec.data import DATABRICKS_INPUT_PATH, LABEL, SAMPLE_PATH, TASK, TIME_COLUMN
from model_spec.metrics import THRESHOLDS, compute_metrics
from model_spec.prediction import PREDICTION_COLUMN, prediction_column
from steps.trips import clean_trips

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The feature-store track fits its own inputs and estimator on the feature tables
# (features/training.py ``build_model``, checked in tests/features/); the other tracks fit the
# package's ``transformer_fn`` and ``estimator_fn`` on raw rows.
OWN_ESTIMATOR = importlib.util.find_spec("model_spec.estimator") is not None
needs_own_estimator = pytest.mark.skipif(
    not OWN_ESTIMATOR, reason="feature-store track: features/training.py build_model is the estimator"
)
# The project's own packages: the feature code a model carries may import none of them.
PROJECT_PACKAGES = {"model_spec", "steps", "fare_model", "features", "local_pipeline", "tests"}

# (module, name, what it must be): every name the tracks import from the package.
REQUIRED: list[tuple[str, str, Callable[[Any], bool], str]] = [
    (
        "model_spec.data",
        "SAMPLE_PATH",
        lambda v: isinstance(v, Path) and not v.is_absolute(),
        "a Path relative to the project root",
    ),
    (
        "model_spec.data",
        "DATABRICKS_INPUT_PATH",
        lambda v: isinstance(v, str) and bool(v),
        "a non-empty str (a Delta path)",
    ),
    ("model_spec.data", "LABEL", lambda v: isinstance(v, str) and bool(v), "a column name (str)"),
    ("model_spec.data", "TIME_COLUMN", lambda v: isinstance(v, str) and bool(v), "a column name (str)"),
    ("model_spec.data", "TASK", lambda v: v in ("regression", "classification"), '"regression" or "classification"'),
    ("model_spec.contract", "INPUT_CONTRACT", lambda v: isinstance(v, pa.DataFrameSchema), "a pandera DataFrameSchema"),
    (
        "model_spec.contract",
        "TRAINING_CONTRACT",
        lambda v: isinstance(v, pa.DataFrameSchema),
        "a pandera DataFrameSchema",
    ),
    ("model_spec.features", "transformer_fn", callable, "a function returning an unfitted scikit-learn transformer"),
    ("model_spec.estimator", "estimator_fn", callable, "a function returning an unfitted scikit-learn estimator"),
    (
        "model_spec.metrics",
        "THRESHOLDS",
        lambda v: isinstance(v, dict) and bool(v),
        "a dict of metric name to its worst passing value",
    ),
    ("model_spec.metrics", "compute_metrics", callable, "a function (predictions, targets) -> dict of metric values"),
    ("model_spec.prediction", "PREDICTION_COLUMN", lambda v: isinstance(v, str) and bool(v), "a column name (str)"),
    ("model_spec.prediction", "prediction_column", callable, "a function (fitted model, rows) -> one value per row"),
]


REQUIRED = [row for row in REQUIRED if OWN_ESTIMATOR or row[0] not in ("model_spec.features", "model_spec.estimator")]


@pytest.mark.parametrize(("module", "name", "check", "expected"), REQUIRED, ids=[f"{m}.{n}" for m, n, _, _ in REQUIRED])
def test_the_package_provides(module: str, name: str, check: Callable[[Any], bool], expected: str) -> None:
    imported = importlib.import_module(module)
    assert hasattr(imported, name), f"{module} must define {name}: {expected}"
    value = getattr(imported, name)
    assert check(value), f"{module}.{name} must be {expected}, not {value!r}"


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    path = PROJECT_ROOT / SAMPLE_PATH
    assert path.is_file(), f"model_spec.data.SAMPLE_PATH names {SAMPLE_PATH}, which does not exist in the project"
    frame = pd.read_parquet(path)
    for column, name in ((LABEL, "LABEL"), (TIME_COLUMN, "TIME_COLUMN")):
        assert column in frame.columns, f"The sample {SAMPLE_PATH} has no column {column!r} (model_spec.data.{name})"
    return frame


@pytest.fixture(scope="module")
def training_rows(sample: pd.DataFrame) -> pd.DataFrame:
    rows = clean_trips(sample)
    assert len(rows) >= 0.5 * len(sample), (
        f"TRAINING_CONTRACT keeps {len(rows)} of the sample's {len(sample)} rows: the cleaning rules "
        "(model_spec.contract) do not fit the sample data"
    )
    return rows


def test_the_contracts_agree(training_rows: pd.DataFrame) -> None:
    assert LABEL in TRAINING_CONTRACT.columns, "TRAINING_CONTRACT must have a rule for the label column"
    assert LABEL not in INPUT_CONTRACT.columns, "INPUT_CONTRACT (rows to score) must not require the label"
    assert set(INPUT_CONTRACT.columns) <= set(TRAINING_CONTRACT.columns), (
        "TRAINING_CONTRACT must include INPUT_CONTRACT"
    )
    INPUT_CONTRACT.validate(training_rows.drop(columns=[LABEL]), lazy=True)


@needs_own_estimator
def test_the_estimator_is_of_the_task() -> None:
    from model_spec.estimator import estimator_fn

    estimator = estimator_fn()
    if TASK == "regression":
        assert is_regressor(estimator), f"TASK is 'regression' but estimator_fn returns {type(estimator).__name__}"
    else:
        assert is_classifier(estimator), f"TASK is 'classification' but estimator_fn returns {type(estimator).__name__}"


@pytest.fixture(scope="module")
def fitted(training_rows: pd.DataFrame) -> Pipeline:
    from model_spec.estimator import estimator_fn
    from model_spec.features import transformer_fn

    features, label = training_rows.drop(columns=[LABEL]), training_rows[LABEL]
    return Pipeline([("features", transformer_fn()), ("estimator", estimator_fn())]).fit(features, label)


@needs_own_estimator
def test_the_features_never_see_the_label(training_rows: pd.DataFrame) -> None:
    from model_spec.features import transformer_fn

    features = transformer_fn().fit_transform(training_rows.drop(columns=[LABEL]))
    assert len(features) == len(training_rows), "transformer_fn must return one row of features per input row"
    assert LABEL not in getattr(features, "columns", []), f"the features must not include the label {LABEL!r}"


@needs_own_estimator
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


def test_a_probability_output_is_refused() -> None:
    class Probabilities:
        def predict(self, rows: pd.DataFrame) -> np.ndarray:
            return np.full((len(rows), 2), 0.5)

    with pytest.raises(ValueError, match="one value per row"):
        prediction_column(Probabilities(), pd.DataFrame({"x": [1, 2]}))


@needs_own_estimator
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


@needs_own_estimator
def test_the_feature_code_imports_no_project_module() -> None:
    """A logged model carries model_spec/features.py alone, so it may import third-party packages only."""
    tree = ast.parse((PROJECT_ROOT / "model_spec" / "features.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    ours = sorted(name for name in imported if name.split(".")[0] in PROJECT_PACKAGES)
    assert not ours, f"model_spec/features.py imports {ours}: a logged model carries this file alone"


# Where the Databricks jobs and notebooks name the input (they cannot import Python).
_INPUT_SETTINGS = re.compile(
    r'(?:^[ \t]*|")(training_data_path|input_table_path|input_table_name)"?[ \t]*[=,][ \t]*"((?:[^"\\]|\\.)*)"',
    re.MULTILINE,
)


def test_the_jobs_and_notebooks_read_the_packages_input() -> None:
    files = [*PROJECT_ROOT.glob("databricks-config/**/*.tf"), *PROJECT_ROOT.glob("notebooks/*.py")]
    settings = [(path, m.group(1), m.group(2)) for path in files for m in _INPUT_SETTINGS.finditer(path.read_text())]
    defaults = [(path, key, value) for path, key, value in settings if value]
    assert defaults, "no job or notebook names its input: the pattern above is out of date"
    stale = [
        f"{path.relative_to(PROJECT_ROOT)}: {key} = {value}"
        for path, key, value in defaults
        if DATABRICKS_INPUT_PATH not in value
    ]
    assert not stale, (
        f"these jobs or notebooks do not read model_spec.data.DATABRICKS_INPUT_PATH ({DATABRICKS_INPUT_PATH}); update them: {stale}"
    )


# A Databricks sample dataset path, as jobs, notebooks, profiles and CI scripts name their input.
_DATASET_PATH = re.compile(r"/databricks-datasets/[\w./-]*[\w-]")
# Where the project's own code and docs live (the package itself, tests and data excluded).
_TEXT_SUFFIXES = {".py", ".tf", ".yaml", ".yml", ".sh", ".md"}


def test_nothing_reads_another_sample_dataset() -> None:
    """After DATABRICKS_INPUT_PATH changes, any file still naming the old dataset is listed."""
    skipped = {"model_spec", "tests", "data", "mlruns", ".git"}
    files = [
        path
        for path in PROJECT_ROOT.rglob("*")
        if path.suffix in _TEXT_SUFFIXES and path.is_file() and not skipped & set(path.relative_to(PROJECT_ROOT).parts)
    ]
    stale = sorted(
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in files
        for match in _DATASET_PATH.finditer(path.read_text(errors="ignore"))
        if match.group(0) != DATABRICKS_INPUT_PATH
    )
    assert not stale, f"these files name another input than model_spec.data.DATABRICKS_INPUT_PATH: {stale}"

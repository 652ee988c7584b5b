"""The contract of ``model_spec``: what a package must provide to be this project's model.

Swapping the example model means replacing ``model_spec/`` and ``data/sample.parquet``; run
it first (``pytest tests/test_model_spec*.py``): each failure names what is missing or
wrong, before any pipeline runs. Where the package also brings the features and the estimator
(every track but the feature store's, which fits its own on the feature tables),
``tests/test_model_spec_fit.py`` fits them on the sample.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from model_spec.contract import INPUT_CONTRACT, TRAINING_CONTRACT
from model_spec.data import DATABRICKS_INPUT_PATH, LABEL, SAMPLE_PATH, TIME_COLUMN
from model_spec.prediction import prediction_column
from steps.trips import clean_trips

PROJECT_ROOT = Path(__file__).resolve().parents[1]

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
    (
        "model_spec.metrics",
        "THRESHOLDS",
        lambda v: isinstance(v, dict) and bool(v),
        "a dict of metric name to its worst passing value",
    ),
    (
        "model_spec.metrics",
        "GREATER_IS_BETTER",
        lambda v: isinstance(v, dict) and all(isinstance(better, bool) for better in v.values()),
        "a dict of metric name to whether a higher value is better (True for accuracy, False for an error)",
    ),
    ("model_spec.metrics", "compute_metrics", callable, "a function (predictions, targets) -> dict of metric values"),
    ("model_spec.prediction", "PREDICTION_COLUMN", lambda v: isinstance(v, str) and bool(v), "a column name (str)"),
    ("model_spec.prediction", "prediction_column", callable, "a function (fitted model, rows) -> one value per row"),
]


@pytest.mark.parametrize(("module", "name", "check", "expected"), REQUIRED, ids=[f"{m}.{n}" for m, n, _, _ in REQUIRED])
def test_the_package_provides(module: str, name: str, check: Callable[[Any], bool], expected: str) -> None:
    imported = importlib.import_module(module)
    assert hasattr(imported, name), f"{module} must define {name}: {expected}"
    value = getattr(imported, name)
    assert check(value), f"{module}.{name} must be {expected}, not {value!r}"


def test_every_metric_says_which_way_is_better() -> None:
    from model_spec.metrics import GREATER_IS_BETTER, THRESHOLDS

    assert set(GREATER_IS_BETTER) == set(THRESHOLDS), (
        f"model_spec.metrics.GREATER_IS_BETTER must name every metric of THRESHOLDS, no other: "
        f"GREATER_IS_BETTER has {sorted(GREATER_IS_BETTER)}, THRESHOLDS {sorted(THRESHOLDS)}"
    )


# Metrics of MLflow's default evaluator (mlflow.models.evaluate) and scikit-learn, by name, and
# whether higher is better: a package that reuses one of these names must go the same way, or
# validation would pass the worse model.
KNOWN_DIRECTIONS = {
    **dict.fromkeys(
        (
            "accuracy_score",
            "balanced_accuracy_score",
            "f1_score",
            "precision_score",
            "recall_score",
            "roc_auc",
            "precision_recall_auc",
            "r2_score",
        ),
        True,
    ),
    **dict.fromkeys(
        (
            "log_loss",
            "mean_squared_error",
            "root_mean_squared_error",
            "mean_absolute_error",
            "mean_absolute_percentage_error",
            "max_error",
        ),
        False,
    ),
}


def test_a_well_known_metric_goes_its_known_way() -> None:
    from model_spec.metrics import GREATER_IS_BETTER

    wrong = {name: better for name, better in GREATER_IS_BETTER.items() if KNOWN_DIRECTIONS.get(name, better) != better}
    assert wrong == {}, (
        f"model_spec.metrics.GREATER_IS_BETTER says the opposite of what these metrics mean: {wrong} "
        f"(higher is better for {sorted(n for n in wrong if KNOWN_DIRECTIONS[n])}, lower for the others)"
    )


def _imports_from_the_package(root: Path) -> list[tuple[Path, str, str]]:
    """(file, module, name) of every ``from model_spec... import name`` in the project's own code
    (the package, tests and virtual environments left out)."""
    skipped = {"model_spec", "tests", "data", "mlruns", "build", "node_modules"}
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in skipped and not name.startswith(".")]
        for path in (Path(folder) / name for name in files if name.endswith(".py")):
            imports = [node for node in ast.walk(ast.parse(path.read_text(), str(path))) if _from_the_package(node)]
            found += [(path, node.module, alias.name) for node in imports for alias in node.names]
    return found


def _from_the_package(node: ast.AST) -> bool:
    """True for an absolute ``from model_spec[.module] import ...``."""
    return isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "model_spec"


def test_the_package_provides_every_name_the_tracks_import() -> None:
    """The tracks also import names beyond ``REQUIRED`` (the example's pick-up column, its custom
    metric): a swapped package provides them too, or the importing code changes with it."""
    found = _imports_from_the_package(PROJECT_ROOT)
    assert found, "no module imports model_spec: the scan above is out of date"
    missing = []
    for path, module, name in found:
        try:
            provided = hasattr(importlib.import_module(module), name)
        except ImportError:
            provided = False
        if not provided:
            missing.append(f"{path.relative_to(PROJECT_ROOT)} imports {name} from {module}")
    assert not missing, f"the package lacks names the project's code imports: {sorted(set(missing))}"


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


def test_a_probability_output_is_refused() -> None:
    class Probabilities:
        def predict(self, rows: pd.DataFrame) -> np.ndarray:
            return np.full((len(rows), 2), 0.5)

    with pytest.raises(ValueError, match="one value per row"):
        prediction_column(Probabilities(), pd.DataFrame({"x": [1, 2]}))


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

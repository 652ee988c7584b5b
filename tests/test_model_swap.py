"""Task C of stack-customization.md, tried: a generated project's model swapped for a churn classifier.

The guide's step 3 (generate, then run the contract test) on the example passes; with the
package replaced by a classifier on synthetic data, the contract test passes the package and
lists the jobs that still read the taxi data; a package whose prediction is the positive class's
probability (the mistake the issue-23 trial only found by running the pipeline) fails it, naming
the predicted class. The Recipes and MLflow 3 tracks then train, validate and score the churn
classifier; the feature-store track, whose feature tables are the taxi trips', does the same with a
classifier of the taxi trips.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.generation import TEMPLATE_DIR
from tests.support.project_python import mlflow3_python, project_python  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.large

CHURN_PACKAGE = {
    "data.py": '''
        """Churn of subscribers: synthetic data."""

        from __future__ import annotations

        from pathlib import Path
        from typing import Literal

        SAMPLE_PATH = Path("data") / "sample.parquet"
        DATABRICKS_INPUT_PATH = "/databricks-datasets/churn/subscribers"
        LABEL = "churned"
        TIME_COLUMN = "signed_up_at"
        TASK: Literal["regression", "classification"] = "classification"
    ''',
    "contract.py": '''
        """Rows to score and to learn from."""

        import pandera.pandas as pa

        from model_spec.data import LABEL, TIME_COLUMN

        INPUT_CONTRACT = pa.DataFrameSchema(
            {
                TIME_COLUMN: pa.Column(nullable=False),
                "tenure_months": pa.Column(nullable=False, checks=pa.Check.ge(0, name="tenure", error="tenure")),
                "monthly_charges": pa.Column(nullable=False),
            }
        )
        TRAINING_CONTRACT = INPUT_CONTRACT.add_columns({LABEL: pa.Column(nullable=False, checks=pa.Check.isin([0, 1]))})
    ''',
    "features.py": '''
        """Features: tenure and charges, scaled."""

        from sklearn.compose import ColumnTransformer
        from sklearn.preprocessing import StandardScaler


        def transformer_fn() -> ColumnTransformer:
            return ColumnTransformer([("scaled", StandardScaler(), ["tenure_months", "monthly_charges"])]).set_output(
                transform="pandas"
            )
    ''',
    "estimator.py": '''
        """A logistic regression."""

        from sklearn.linear_model import LogisticRegression


        def estimator_fn() -> LogisticRegression:
            return LogisticRegression()
    ''',
    "metrics.py": '''
        """Accuracy (higher is better) and the share of churners missed (lower is better)."""

        import numpy as np

        THRESHOLDS = {"accuracy": 0.7, "missed_churners": 0.5}
        GREATER_IS_BETTER = {"accuracy": True, "missed_churners": False}


        def compute_metrics(predictions, targets) -> dict[str, float]:
            predicted, actual = np.asarray(predictions), np.asarray(targets)
            if actual.size == 0:
                raise ValueError("No rows to validate the model on")
            churners = actual == 1
            return {
                "accuracy": float(np.mean(predicted == actual)),
                "missed_churners": float(np.mean(predicted[churners] != 1)) if churners.any() else 0.0,
            }
    ''',
}
# The mistake: the positive class's probability taken for the prediction.
PROBABILITY_AS_PREDICTION = """
    import pandas as pd

    PREDICTION_COLUMN = "prediction"


    def prediction_column(model, rows: pd.DataFrame) -> pd.Series:
        return pd.Series(model.predict_proba(rows)[:, 1], index=rows.index, name=PREDICTION_COLUMN)
"""


def _contract_test(project: Path, python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *sorted(map(str, project.glob("tests/test_model_spec*.py")))],
        cwd=project, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


# Synthetic subscribers: churn rises with the charges and falls with tenure (run by the project's Python).
CHURN_SAMPLE = """
import sys
import numpy as np
import pandas as pd

rng = np.random.default_rng(7)
tenure = rng.integers(0, 72, 400)
charges = rng.uniform(20, 120, 400)
churned = ((charges / 120 - tenure / 72 + rng.normal(0, 0.2, 400)) > 0).astype("int64")
# Microseconds, as Spark reads timestamps from parquet (it refuses pandas' default nanoseconds).
signed_up = (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, 400), unit="D")).astype("datetime64[us]")
frame = pd.DataFrame({"signed_up_at": signed_up, "tenure_months": tenure, "monthly_charges": charges, "churned": churned})
frame.to_parquet(sys.argv[1])
"""


def test_a_churn_classifier_swapped_in_passes_the_contract_and_a_probability_prediction_fails(
    tmp_path: Path, project_python: Path
) -> None:
    # Step 3 of the guide, as it is written: generate, then run the contract test.
    subprocess.run([sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input", "-o", str(tmp_path)],
                   check=True, capture_output=True, text=True)  # fmt: skip
    project = tmp_path / "my-mlops-project"
    python = project_python
    example = _contract_test(project, python)
    assert example.returncode == 0, example.stdout[-3000:]

    # Steps 1 and 2: the package and the sample replaced.
    package = project / "model_spec"
    for name, source in CHURN_PACKAGE.items():
        (package / name).write_text(textwrap.dedent(source).lstrip())
    subprocess.run([str(python), "-c", CHURN_SAMPLE, str(project / "data" / "sample.parquet")], check=True)
    swapped = _contract_test(project, python)
    failed = sorted(line.split("::")[1].split(" ")[0] for line in swapped.stdout.splitlines() if line.startswith("FAILED"))
    # The package itself passes; what is left is the track's settings (step 4), each named.
    track_settings = [
        "test_nothing_reads_another_sample_dataset",
        "test_the_jobs_and_notebooks_read_the_packages_input",
        "test_the_package_provides_every_name_the_tracks_import",
    ]
    assert failed == track_settings, swapped.stdout[-4000:]
    assert "databricks-config/modules/ml-resources/batch-inference-job.tf" in swapped.stdout

    # The issue-23 trial's mistake is caught before any pipeline runs.
    (package / "prediction.py").write_text(textwrap.dedent(PROBABILITY_AS_PREDICTION).lstrip())
    broken = _contract_test(project, python)
    assert "test_the_prediction_is_one_value_of_the_labels_kind_per_row" in broken.stdout, broken.stdout[-4000:]
    assert "a classifier's prediction must be the predicted class" in broken.stdout


# The Recipes track with the churn package: the model registered as the recipe's train step
# registers it (MLflow Recipes' own wrapper, configured by recipe.yaml's train step), then
# ModelValidation and batch inference as the jobs run them, on local Spark.
RECIPES_SCORING = """
import json
import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.recipes.utils import get_recipe_config
from mlflow.recipes.utils.wrapped_recipe_model import WrappedRecipeModel
from sklearn.pipeline import Pipeline

from local_pipeline import local_spark
from model_spec.data import LABEL, SAMPLE_PATH, TIME_COLUMN
from model_spec.estimator import estimator_fn
from model_spec.features import transformer_fn
from steps.model_validation import run_model_validation
from steps.predict import score_trips
from steps.trips import clean_trips
from steps.validation import RunMode, record_training_cutoff

mlflow.set_tracking_uri("sqlite:///swap.db")
mlflow.set_experiment("swap")
rows = clean_trips(pd.read_parquet(SAMPLE_PATH))
cutoff = rows[TIME_COLUMN].sort_values().iloc[int(len(rows) * 0.8)]
train = rows[rows[TIME_COLUMN] < cutoff]
features = train.drop(columns=[LABEL])
mlflow.sklearn.save_model(Pipeline([("t", transformer_fn()), ("e", estimator_fn())]).fit(features, train[LABEL]), "fitted")
step = get_recipe_config(".", "local")["steps"]["train"]
wrapped = WrappedRecipeModel(step.get("predict_scores_for_all_classes", True), step.get("predict_prefix", "predicted_"))
mlflow.pyfunc.save_model("probe", python_model=wrapped, artifacts={"model_path": "fitted"})
signature = infer_signature(features, mlflow.pyfunc.load_model("probe").predict(features))
with mlflow.start_run():
    info = mlflow.pyfunc.log_model(
        "model", python_model=wrapped, artifacts={"model_path": "fitted"}, signature=signature,
        registered_model_name="churn",
    )
uri = f"models:/churn/{info.registered_model_version}"
record_training_cutoff("churn", str(info.registered_model_version), cutoff.strftime("%Y-%m-%d %H:%M:%S"))
with local_spark("swap") as spark:
    sample = spark.read.parquet(str(SAMPLE_PATH))
    sample.createOrReplaceTempView("sample")
    result = run_model_validation(
        spark, score_trips, uri, "churn", str(info.registered_model_version), "SELECT * FROM sample", RunMode.ENABLED
    )
    scored = score_trips(spark, uri, sample)
    predictions = scored.toPandas()
print(json.dumps({
    "type": dict(scored.dtypes)["prediction"],
    "values": sorted(int(v) for v in predictions["prediction"].dropna().unique()),
    "scored": int(predictions["prediction"].notna().sum()),
    "metrics": result.metrics,
    "passed": result.passed,
    "report": result.report(),
}))
"""

# The MLflow 3 track with the churn package: its own training, validation and Spark batch inference.
MLFLOW3_SCORING = """
import json
import mlflow
import pandas as pd

from fare_model.batch_inference import score_pandas, score_trips
from fare_model.data import held_out_trips
from fare_model.training import train_and_register
from fare_model.validation import validate_model_version
from local_pipeline import local_spark
from model_spec.data import SAMPLE_PATH
from steps.validation import RunMode

mlflow.set_tracking_uri("sqlite:///swap.db")
mlflow.set_experiment("swap")
trips = pd.read_parquet(SAMPLE_PATH)
model = train_and_register(trips, "churn", source=str(SAMPLE_PATH))
outcome = validate_model_version(
    model.model_name, model.model_version, held_out_trips(trips, model.training_cutoff), RunMode.ENABLED
)
with local_spark("swap") as spark:
    scored = score_trips(spark, model.model_uri, spark.read.parquet(str(SAMPLE_PATH)))
    predictions = scored.toPandas()
in_memory = score_pandas(model.model_uri, trips)
print(json.dumps({
    "type": dict(scored.dtypes)["prediction"],
    "values": sorted(int(v) for v in predictions["prediction"].dropna().unique()),
    "scored": int(predictions["prediction"].notna().sum()),
    "in_memory": sorted(int(v) for v in in_memory["prediction"].dropna().unique()),
    "metrics": outcome.metrics,
    "passed": outcome.passed,
    "report": outcome.report(),
}))
"""


@pytest.mark.parametrize(
    ("answers", "script"),
    [({}, RECIPES_SCORING), ({"include_mlflow_recipes": "no"}, MLFLOW3_SCORING)],
    ids=["recipes", "mlflow3"],
)
def test_the_swapped_classifier_scores_its_class_and_is_validated_by_its_own_metrics(
    tmp_path: Path, answers: dict[str, str], script: str, request: pytest.FixtureRequest
) -> None:
    """Batch inference writes the predicted class (LONG, as the 0/1 label) through the package's
    ``prediction_column``; ModelValidation judges by the package's ``compute_metrics``, each metric
    in its ``GREATER_IS_BETTER`` direction (accuracy passes above its threshold, so a track that
    assumed lower-is-better would fail the model)."""
    context = [f"{key}={value}" for key, value in answers.items()]
    subprocess.run([sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input", "-o", str(tmp_path), *context],
                   check=True, capture_output=True, text=True)  # fmt: skip
    project = tmp_path / "my-mlops-project"
    # The track's own venv, on the jobs' Python (tests/support/project_python.py).
    python = request.getfixturevalue("mlflow3_python" if answers else "project_python")
    for name, source in CHURN_PACKAGE.items():
        (project / "model_spec" / name).write_text(textwrap.dedent(source).lstrip())
    subprocess.run([str(python), "-c", CHURN_SAMPLE, str(project / "data" / "sample.parquet")], check=True)
    run = subprocess.run([str(python), "-c", script], cwd=project, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["type"] == "bigint", outcome  # the label's type, not a DOUBLE probability
    assert outcome["values"] == [0, 1] and outcome["scored"] == 400, outcome
    assert outcome.get("in_memory", [0, 1]) == [0, 1], outcome
    assert set(outcome["metrics"]) >= {"accuracy", "missed_churners"}, outcome
    assert outcome["metrics"]["accuracy"] > 0.7 and outcome["passed"], outcome["report"]
    assert "accuracy" in outcome["report"] and ">=" in outcome["report"], outcome["report"]


# The feature-store track's feature tables are the taxi trips' windows per zip code (features/),
# so the churn data, without zips or trip times, cannot look anything up in them: the guide's
# task C says what to replace there. What the package still decides on this track is proven with
# a classifier of the taxi trips themselves: the label is whether the fare was above the median
# (a BIGINT 0/1, set on the sample), judged by the churn package's metrics (accuracy, higher is
# better; missed positives, lower is better).
HIGH_FARE_SAMPLE = """
import sys
import pandas as pd

trips = pd.read_parquet(sys.argv[1])
trips["high_fare"] = (trips["fare_amount"] > trips["fare_amount"].median()).astype("int64")
trips.to_parquet(sys.argv[1])
"""


def _high_fare_package(package: Path) -> None:
    """The example package turned into a classifier of ``high_fare`` with the churn package's metrics."""
    data = (package / "data.py").read_text()
    data = data.replace('LABEL = "fare_amount"', 'LABEL = "high_fare"').replace(' = "regression"', ' = "classification"')
    (package / "data.py").write_text(data)
    contract = (package / "contract.py").read_text()
    fare_rule = "{LABEL: pa.Column(nullable=False, checks=outside(LABEL, FARE_RANGE, open_interval=True))}"
    assert fare_rule in contract
    class_rule = '{LABEL: pa.Column(nullable=False, checks=pa.Check.isin([0, 1], name="class", error="class"))}'
    (package / "contract.py").write_text(contract.replace(fare_rule, class_rule))
    (package / "metrics.py").write_text(textwrap.dedent(CHURN_PACKAGE["metrics.py"]).lstrip())


# The feature-store track as the local pipeline runs it: feature tables into the project's local
# feature store, training set by point-in-time lookups, ModelValidation and batch inference
# scoring through the store.
FEATURE_STORE_SCORING = """
import json
import mlflow

from features.local_store import LocalFeatureStore
from features.scoring import score_trips
from features.training import train_and_register
from features.validation import validate_with_feature_store
from local_pipeline import local_spark
from local_pipeline.feature_store import ENV, write_feature_tables
from model_spec.data import SAMPLE_PATH
from steps.validation import RunMode

mlflow.set_tracking_uri("sqlite:///swap.db")
mlflow.set_experiment("swap")
with local_spark("swap") as spark:
    store = LocalFeatureStore(spark)
    trips = spark.read.parquet(str(SAMPLE_PATH)).cache()
    write_feature_tables(store, trips)
    model = train_and_register(store, trips, ENV, "high_fare")
    trips.createOrReplaceTempView("sample")
    outcome = validate_with_feature_store(
        spark, model.model_name, model.model_version, "SELECT * FROM sample", RunMode.ENABLED, ENV
    )
    scored = score_trips(spark, model.model_uri, trips)
    predictions = scored.toPandas()
print(json.dumps({
    "type": dict(scored.dtypes)["prediction"],
    "label_type": dict(trips.dtypes)["high_fare"],
    "values": sorted(int(v) for v in predictions["prediction"].dropna().unique()),
    "scored": int(predictions["prediction"].notna().sum()),
    "rows": len(predictions),
    "training_metrics": model.metrics,
    "metrics": outcome.metrics,
    "passed": outcome.passed,
    "report": outcome.report(),
}))
"""


def test_a_classifier_on_the_feature_store_track_scores_its_class_and_is_validated_by_its_own_metrics(
    tmp_path: Path, mlflow3_python: Path
) -> None:
    """The feature-store track takes the task, label, contract, metrics and prediction from the
    package: it fits a classifier for ``TASK = "classification"``, writes its predicted class typed
    like the label (BIGINT, not a DOUBLE), and validates it by the package's metrics, accuracy at
    or above its threshold."""
    subprocess.run([sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input", "-o", str(tmp_path),
                    "include_feature_store=yes"], check=True, capture_output=True, text=True)  # fmt: skip
    project = tmp_path / "my-mlops-project"
    python = mlflow3_python
    _high_fare_package(project / "model_spec")
    subprocess.run([str(python), "-c", HIGH_FARE_SAMPLE, str(project / "data" / "sample.parquet")], check=True)
    run = subprocess.run([str(python), "-c", FEATURE_STORE_SCORING], cwd=project, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["type"] == outcome["label_type"] == "bigint", outcome  # the label's type, not a DOUBLE
    assert outcome["values"] == [0, 1] and outcome["scored"] > 0.9 * outcome["rows"], outcome
    assert set(outcome["training_metrics"]) == set(outcome["metrics"]) - {"held_out_trips_beyond_feature_freshness"}
    assert set(outcome["metrics"]) >= {"accuracy", "missed_churners"}, outcome
    assert outcome["metrics"]["accuracy"] > 0.7 and outcome["passed"], outcome["report"]
    assert "accuracy" in outcome["report"] and ">=" in outcome["report"], outcome["report"]

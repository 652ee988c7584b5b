"""The whole MLflow Recipes pipeline on this machine: ``make local-pipeline``.

1. train: the recipe on the ``local`` profile (ingest, split, transform, train, evaluate,
   register) against the MLflow store in the project root;
2. validate: the ModelValidation logic on the registered version, scoring the recipe's
   held-out test split with Spark (``enabled`` mode: failing thresholds stop the run);
3. batch inference: the BatchInference logic on the whole sample, written to
   ``data/predictions.parquet``.

It ends with a summary (run id, metrics against thresholds, model version, predictions,
the ``mlflow ui`` command). A failing step exits non-zero with the step's name and cause.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass

import pandas as pd

from local_pipeline import (
    LOCAL_STORE,
    PREDICTIONS_PATH,
    PROJECT_ROOT,
    SAMPLE_PATH,
    local_spark,
    mlflow_ui_command,
    print_summary,
    run_as_command,
    step,
    use_local_mlflow_store,
)

PROFILE = "local"
VALIDATION_VIEW = "local_validation_trips"


@dataclass(frozen=True)
class TrainedModel:
    run_id: str
    experiment_id: str
    model_name: str
    model_version: str
    test_data: pd.DataFrame

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}/{self.model_version}"


def train() -> TrainedModel:
    """Run the recipe up to ``register`` and collect what the next steps need."""
    from mlflow.recipes import Recipe

    recipe = Recipe(profile=PROFILE)
    if not LOCAL_STORE.exists():  # cached step outputs would refer to runs of a deleted store
        recipe.clean()
    recipe.run("register")
    version = recipe.get_artifact("registered_model_version")
    if version is None:
        raise RuntimeError("the recipe registered no model version (see the evaluate step's validation criteria)")
    run = recipe.get_artifact("run")
    return TrainedModel(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_name=version.name,
        model_version=str(version.version),
        test_data=recipe.get_artifact("test_data"),
    )


def validate(spark: "pyspark.sql.SparkSession", model: TrainedModel) -> "steps.validation.ValidationResult":  # noqa: F821
    """ModelValidation in ``enabled`` mode on the recipe's held-out test split."""
    import mlflow

    from steps.model_validation import run_model_validation
    from steps.scoring import score_trips
    from steps.validation import RunMode

    spark.createDataFrame(model.test_data).createOrReplaceTempView(VALIDATION_VIEW)
    mlflow.set_experiment(experiment_id=model.experiment_id)
    return run_model_validation(
        spark,
        score_trips,
        model_uri=model.model_uri,
        model_name=model.model_name,
        model_version=model.model_version,
        validation_input=f"SELECT * FROM {VALIDATION_VIEW}",
        run_mode=RunMode.ENABLED,
    )


def batch_inference(spark: "pyspark.sql.SparkSession", model_uri: str) -> int:  # noqa: F821
    """Score every sample trip into ``data/predictions.parquet``; returns the row count."""
    from steps.scoring import score_trips

    predictions = score_trips(spark, model_uri, spark.read.parquet(str(SAMPLE_PATH))).toPandas()
    if PREDICTIONS_PATH.is_dir():  # left by the recipe's own predict step, which writes with Spark
        shutil.rmtree(PREDICTIONS_PATH)
    predictions.to_parquet(PREDICTIONS_PATH, index=False)
    return len(predictions)


def run() -> None:
    # MLflow Recipes finds recipe.yaml and resolves the local profile's relative paths
    # from the working directory.
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    # MLflow Recipes runs each step as `python ...` through make: use this interpreter.
    os.environ["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"
    # Logging a model normally re-imports it in a subprocess to infer its pip requirements,
    # which takes most of the recipe's time on a laptop. Locally the model is only served
    # from this venv, so let MLflow fall back to its default requirements quickly.
    os.environ.setdefault("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "1")
    use_local_mlflow_store()
    with step("train: MLflow Recipe on the local profile"):
        model = train()
    with local_spark() as spark:
        with step("validate: ModelValidation on the registered version"):
            result = validate(spark, model)
        with step("batch inference: BatchInference on the sample"):
            rows = batch_inference(spark, model.model_uri)
    metrics = "\n".join("  " + line for line in result.report().splitlines())
    print_summary(
        {
            "Training run id": model.run_id,
            "Registered model": f"{model.model_uri} (name {model.model_name}, version {model.model_version})",
            "Validation metrics (held-out test split, value <= threshold)": "\n" + metrics,
            "Predictions": f"{PREDICTIONS_PATH} ({rows} rows)",
            "Browse the runs": mlflow_ui_command(),
        }
    )


if __name__ == "__main__":
    run_as_command(run)

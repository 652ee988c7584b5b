"""The whole feature-store pipeline on this machine: ``make local-pipeline``.

1. features: both feature tables computed from ``data/sample.parquet`` into the local
   feature store (``local_feature_store/``, the dev tables), as GenerateAndWriteFeatures
   does on Databricks;
2. train: the training set by point-in-time lookups, then fit, log and register against
   the MLflow store in the project root, as TrainWithFeatureStore does (on 90% of trips);
3. validate: the ModelValidation logic on the registered version, scoring the 10% of
   trips held out from training (``enabled`` mode: failing thresholds stop the run);
4. batch inference: the BatchInference logic on the whole sample, written to
   ``data/predictions.parquet``.

It ends with a summary (run id, metrics against thresholds, model version, predictions,
the ``mlflow ui`` command). A failing step exits non-zero with the step's name and cause.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import TYPE_CHECKING

from local_pipeline import (
    ARTIFACT_ROOT,
    PREDICTIONS_PATH,
    PROJECT_ROOT,
    SAMPLE_PATH,
    local_spark,
    mlflow_ui_command,
    print_summary,
    quiet_library_output,
    run_as_command,
    shown_path,
    step,
    use_local_mlflow_store,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from features.stores import FeatureStore
    from features.training import TrainingResult
    from steps.validation import ValidationResult

ENV = "dev"  # local runs read and write the dev feature tables
EXPERIMENT_NAME = "{{ cookiecutter | derived("experiment_base_name") }}-local"
MODEL_NAME = "{{ cookiecutter | derived("model_name") }}-local"
HELD_OUT_FRACTION = 0.1
VALIDATION_VIEW = "local_validation_trips"
_SEED = 42


def write_feature_tables(store: FeatureStore, trips: DataFrame) -> list[str]:
    """Both feature tables over the whole sample; returns their names."""
    from features.feature_tables import FEATURE_TABLES, PRIMARY_KEY
    from features.generate import generate_and_write_features

    return [
        generate_and_write_features(store, trips, table.module, ENV, table.source_timestamp, [PRIMARY_KEY])
        for table in FEATURE_TABLES
    ]


def use_local_experiment() -> None:
    """The local experiment, with its artifacts in ``<project root>/mlruns``."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is None:
        mlflow.create_experiment(EXPERIMENT_NAME, artifact_location=ARTIFACT_ROOT.as_uri())
    mlflow.set_experiment(EXPERIMENT_NAME)


def validate(spark: SparkSession, result: TrainingResult, held_out: DataFrame) -> ValidationResult:
    """ModelValidation in ``enabled`` mode on the trips held out from training.

    Its report (which ModelValidation prints in a notebook) goes into the summary instead.
    """
    from features.scoring import score_trips
    from features.training import plausible_trips
    from steps.model_validation import run_model_validation
    from steps.validation import RunMode

    plausible_trips(held_out).createOrReplaceTempView(VALIDATION_VIEW)
    with contextlib.redirect_stdout(io.StringIO()):
        return run_model_validation(
            spark,
            score_trips,
            model_uri=result.model_uri,
            model_name=result.model_name,
            model_version=result.model_version,
            validation_input=f"SELECT * FROM {VALIDATION_VIEW}",
            run_mode=RunMode.ENABLED,
        )


def batch_inference(spark: SparkSession, model_uri: str, trips: DataFrame) -> int:
    """Score every sample trip into ``data/predictions.parquet``; returns the row count."""
    from features.scoring import score_trips

    predictions = score_trips(spark, model_uri, trips).toPandas()
    predictions.to_parquet(PREDICTIONS_PATH, index=False)
    return len(predictions)


def run() -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    quiet_library_output()
    use_local_mlflow_store()
    with local_spark() as spark:
        from features.local_store import LocalFeatureStore
        from features.training import train_and_register

        store = LocalFeatureStore(spark)
        with step("features: compute and write the pickup and dropoff feature tables"):
            trips = spark.read.parquet(str(SAMPLE_PATH)).cache()
            tables = write_feature_tables(store, trips)
        with step("train: point-in-time training set, fit, log and register"):
            use_local_experiment()
            training_trips, held_out = trips.randomSplit([1 - HELD_OUT_FRACTION, HELD_OUT_FRACTION], seed=_SEED)
            result = train_and_register(store, training_trips, ENV, MODEL_NAME)
        with step("validate: ModelValidation on the registered version"):
            validation = validate(spark, result, held_out)
        with step("batch inference: score the sample through the feature store"):
            rows = batch_inference(spark, result.model_uri, trips)
    metrics = result.metrics.items()
    print_summary(
        {
            "Feature tables": f"{', '.join(tables)} (in {shown_path(store.root)})",
            "Training run id": result.run_id,
            "Training metrics": "20% of training trips: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics),
            "Registered model": result.model_uri,
            "Validation metrics": "held-out trips, value <= threshold\n" + validation.report(),
            "Predictions": f"{shown_path(PREDICTIONS_PATH)} ({rows} rows)",
            "Browse the runs": mlflow_ui_command(),
        }
    )


if __name__ == "__main__":
    run_as_command(run)

"""The whole feature-store pipeline on this machine: ``make local-pipeline``.

1. features: both feature tables computed from ``data/sample.parquet`` into the local
   feature store (``local_feature_store/``, the dev tables), as GenerateAndWriteFeatures
   does on Databricks;
2. train: the training set by point-in-time lookups, then fit, log and register against
   the MLflow store in the project root, as TrainWithFeatureStore does (without the most
   recent trips, which are held out; see ``steps/trips.py``);
3. validate: the ModelValidation logic on the registered version, scoring the held-out
   trips (``enabled`` mode: failing thresholds stop the run);
4. batch inference: the BatchInference logic on the whole sample, written to
   ``data/predictions.parquet``.

It ends with a summary (run id, metrics against thresholds, model version, predictions,
the ``mlflow ui`` command). A failing step exits non-zero with the step's name and cause.
"""

from __future__ import annotations

import sys

from local_pipeline import (
    ARTIFACT_ROOT,
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

ENV = "dev"  # local runs read and write the dev feature tables
EXPERIMENT_NAME = "{{ cookiecutter | derived("experiment_base_name") }}-local"
MODEL_NAME = "{{ cookiecutter | derived("model_name") }}-local"
VALIDATION_VIEW = "local_validation_trips"


def write_feature_tables(store: "features.stores.FeatureStore", trips: "pyspark.sql.DataFrame") -> list[str]:  # noqa: F821
    """Both feature tables over the whole sample; returns their names."""
    from features.feature_tables import FEATURE_TABLES
    from features.generate import generate_and_write_features

    return [generate_and_write_features(store, trips, table.module, ENV) for table in FEATURE_TABLES]


def use_local_experiment() -> None:
    """The local experiment, with its artifacts in ``<project root>/mlruns``."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is None:
        mlflow.create_experiment(EXPERIMENT_NAME, artifact_location=ARTIFACT_ROOT.as_uri())
    mlflow.set_experiment(EXPERIMENT_NAME)


def validate(
    spark: "pyspark.sql.SparkSession", result: "features.training.TrainingResult", trips: "pyspark.sql.DataFrame"  # noqa: F821
) -> "steps.validation.ValidationResult":  # noqa: F821
    """ModelValidation in ``enabled`` mode on the sample, of which it scores the held-out period."""
    from features.scoring import score_trips
    from steps.model_validation import run_model_validation
    from steps.validation import RunMode

    trips.createOrReplaceTempView(VALIDATION_VIEW)
    return run_model_validation(
        spark,
        score_trips,
        model_uri=result.model_uri,
        model_name=result.model_name,
        model_version=result.model_version,
        validation_input=f"SELECT * FROM {VALIDATION_VIEW}",
        run_mode=RunMode.ENABLED,
    )


def batch_inference(spark: "pyspark.sql.SparkSession", model_uri: str, trips: "pyspark.sql.DataFrame") -> int:  # noqa: F821
    """Score every sample trip into ``data/predictions.parquet``; returns the row count."""
    from features.scoring import score_trips
    from steps.batch_inference import score_with_version

    predictions = score_with_version(spark, score_trips, model_uri, trips).toPandas()
    predictions.to_parquet(PREDICTIONS_PATH, index=False)
    return len(predictions)


def run() -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
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
            result = train_and_register(store, trips, ENV, MODEL_NAME)
        with step("validate: ModelValidation on the registered version"):
            validation = validate(spark, result, trips)
        with step("batch inference: score the sample through the feature store"):
            rows = batch_inference(spark, result.model_uri, trips)
    metrics = "\n".join("  " + line for line in validation.report().splitlines())
    print_summary(
        {
            "Feature tables": f"{', '.join(tables)} (in {store.root})",
            "Training run id": result.run_id,
            "Training metrics (20% of training trips)": ", ".join(f"{k} {v:.3f}" for k, v in result.metrics.items()),
            "Registered model": f"{result.model_uri} (name {result.model_name}, version {result.model_version})",
            "Validation metrics (held-out trips, value <= threshold)": "\n" + metrics,
            "Predictions": f"{PREDICTIONS_PATH} ({rows} rows)",
            "Browse the runs": mlflow_ui_command(),
        }
    )


if __name__ == "__main__":
    run_as_command(run)

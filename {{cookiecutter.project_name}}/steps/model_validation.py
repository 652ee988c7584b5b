"""Validate a registered model version on fresh data: the body of notebooks/ModelValidation.

Kept out of the notebook so that the local pipeline runs exactly the same code. The
scoring function is passed in, because it differs between the plain and the feature
store variants of the project.
"""

from __future__ import annotations

import traceback
from typing import Callable, Optional

import mlflow
from pyspark.sql import DataFrame, SparkSession

from steps.validation import (
    ModelValidationFailed,
    RunMode,
    ValidationResult,
    enforce,
    record_in_model_version,
    validate,
)

ScoreTrips = Callable[[SparkSession, str, DataFrame], DataFrame]
TARGET_COLUMN = "fare_amount"


def _score(spark: SparkSession, score_trips: ScoreTrips, model_uri: str, validation_input: str) -> ValidationResult:
    trips = spark.sql(validation_input)
    if TARGET_COLUMN not in trips.columns:
        raise ValueError(f"The validation input query must return the true {TARGET_COLUMN} column")
    scored = score_trips(spark, model_uri, trips).select(TARGET_COLUMN, "prediction").toPandas()
    return validate(scored["prediction"], scored[TARGET_COLUMN])


def run_model_validation(
    spark: SparkSession,
    score_trips: ScoreTrips,
    model_uri: str,
    model_name: str,
    model_version: str,
    validation_input: str,
    run_mode: RunMode,
) -> Optional[ValidationResult]:
    """Score ``validation_input`` (a Spark SQL query) with the model and judge it by the thresholds.

    Metrics and thresholds are logged to a run in the active MLflow experiment and the
    outcome is appended to the model version's description. ``disabled`` does nothing and
    returns None; ``dry_run`` reports failures (even errors while scoring) without raising;
    ``enabled`` raises ``ModelValidationFailed`` so that the job does not deploy the model.
    """
    if run_mode is RunMode.DISABLED:
        return None
    with mlflow.start_run(run_name=f"validate {model_name} version {model_version}") as run:
        mlflow.log_params({"model_uri": model_uri, "run_mode": run_mode.value, "validation_input": validation_input})
        details = f"MLflow run {run.info.run_id} in experiment {run.info.experiment_id}"
        try:
            result = _score(spark, score_trips, model_uri, validation_input)
        except Exception as error:
            record_in_model_version(model_name, model_version, passed=False, details=f"{details}: error {error}")
            mlflow.log_text(traceback.format_exc(), "validation_error.txt")
            if run_mode is RunMode.ENABLED:
                raise ModelValidationFailed(f"Model validation could not score the model: {error}") from error
            traceback.print_exc()
            return None
        mlflow.log_metrics(result.metrics)
        mlflow.log_params({f"threshold_{name}": value for name, value in result.thresholds.items()})
        mlflow.log_text(result.report(), "validation_report.txt")
    record_in_model_version(model_name, model_version, passed=result.passed, details=details)
    print(result.report())
    enforce(result, run_mode)
    return result

"""Validate a registered model version on held-out trips: the body of notebooks/ModelValidation.

Kept out of the notebook so that the local pipeline runs exactly the same code. The
scoring function is passed in, because it differs between the plain and the feature
store variants of the project.

The candidate is scored on the held-out period of the validation input (its most recent
trips, cleaned like training data; see ``steps.trips``), and so is the deployed model, if
any: the candidate must meet the thresholds and must not be worse than the deployed model
by more than the allowed margin. Metrics are computed by Spark on the cluster; nothing
but the metric values reaches the driver.
"""

from __future__ import annotations

import traceback
from typing import Callable, Optional

import mlflow
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from steps.trips import LABEL, plausible_trips, split_by_time
from steps.validation import (
    MIN_WEIGHT_FARE,
    ModelValidationFailed,
    RunMode,
    ValidationResult,
    ValidationStatus,
    enforce,
    record_in_model_version,
)

ScoreTrips = Callable[[SparkSession, str, DataFrame], DataFrame]


def spark_metrics(scored: DataFrame, prediction: str = "prediction", target: str = LABEL) -> dict[str, float]:
    """``steps.validation.compute_metrics`` as one Spark aggregation: the same three metrics."""
    error: Column = F.col(prediction).cast("double") - F.col(target).cast("double")
    weight = 1.0 / F.greatest(F.abs(F.col(target).cast("double")), F.lit(MIN_WEIGHT_FARE))
    row = scored.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sqrt(F.avg(error * error)).alias("root_mean_squared_error"),
        F.avg(F.abs(error)).alias("mean_absolute_error"),
        (F.sum(weight * error * error) / F.sum(weight)).alias("weighted_mean_squared_error"),
    ).first()
    if not row["rows"]:
        raise ValueError("No rows to validate the model on")
    return {
        name: float(row[name])
        for name in ("root_mean_squared_error", "mean_absolute_error", "weighted_mean_squared_error")
    }


def held_out_trips(spark: SparkSession, validation_input: str) -> DataFrame:
    """The plausible trips of the query's most recent period, the one training holds out."""
    trips = spark.sql(validation_input)
    if LABEL not in trips.columns:
        raise ValueError(f"The validation input query must return the true {LABEL} column")
    _, held_out = split_by_time(plausible_trips(trips))
    return held_out


def _baseline_metrics(
    spark: SparkSession, score_trips: ScoreTrips, baseline_model_uri: str, trips: DataFrame
) -> dict[str, float]:
    """The deployed model's metrics on ``trips``; empty (reported) if it cannot score them."""
    try:
        return spark_metrics(score_trips(spark, baseline_model_uri, trips))
    except Exception as error:  # noqa: BLE001 - e.g. the deployed model expects other input columns
        print(
            f"The deployed model {baseline_model_uri} could not score the validation trips, so the "
            f"candidate is judged by the thresholds only: {error}"
        )
        return {}


def run_model_validation(
    spark: SparkSession,
    score_trips: ScoreTrips,
    model_uri: str,
    model_name: str,
    model_version: str,
    validation_input: str,
    run_mode: RunMode,
    baseline_model_uri: Optional[str] = None,
) -> Optional[ValidationResult]:
    """Score the held-out trips of ``validation_input`` (Spark SQL) and judge the model.

    Metrics, thresholds and the baseline's metrics go to a run in the active MLflow
    experiment; the verdict becomes the version's ``model_validation_status`` tag, which
    deployment checks. ``disabled`` records DISABLED and returns None; ``dry_run`` records
    the verdict without raising (deployment still refuses a FAILED version); ``enabled``
    raises ``ModelValidationFailed`` on failure. A model that cannot be scored is FAILED
    and raises in every mode.
    """
    if run_mode is RunMode.DISABLED:
        record_in_model_version(model_name, model_version, ValidationStatus.DISABLED, "validation disabled by run_mode")
        return None
    with mlflow.start_run(run_name=f"validate {model_name} version {model_version}") as run:
        mlflow.log_params(
            {
                "model_uri": model_uri,
                "run_mode": run_mode.value,
                "validation_input": validation_input,
                "baseline_model_uri": baseline_model_uri or "none",
            }
        )
        details = f"MLflow run {run.info.run_id} in experiment {run.info.experiment_id}"
        try:
            # Not cached (serverless compute may refuse DataFrame.cache()): the baseline's
            # scoring recomputes the held-out period, the newest HOLDOUT_FRACTION of the input.
            trips = held_out_trips(spark, validation_input)
            metrics = spark_metrics(score_trips(spark, model_uri, trips))
        except Exception as error:
            record_in_model_version(model_name, model_version, ValidationStatus.FAILED, f"{details}: error {error}")
            mlflow.log_text(traceback.format_exc(), "validation_error.txt")
            raise ModelValidationFailed(f"Model validation could not score the model: {error}") from error
        baseline = _baseline_metrics(spark, score_trips, baseline_model_uri, trips) if baseline_model_uri else {}
        result = ValidationResult(metrics=metrics, baseline=baseline)
        mlflow.log_metrics(result.metrics)
        mlflow.log_metrics({f"baseline_{name}": value for name, value in baseline.items()})
        mlflow.log_params({f"limit_{name}": result.limit(name) for name in result.thresholds})
        mlflow.log_text(result.report(), "validation_report.txt")
    record_in_model_version(model_name, model_version, result.status, details)
    print(result.report())
    enforce(result, run_mode)
    return result

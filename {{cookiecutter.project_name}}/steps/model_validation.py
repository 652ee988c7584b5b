"""Validate a registered model version on held-out trips: the body of notebooks/ModelValidation.

Kept out of the notebook so that the local pipeline runs exactly the same code. The
scoring function is passed in, because it differs between the plain and the feature
store variants of the project.

The candidate is scored on the held-out period of the validation input (its trips from the
version's training cutoff to at most ``HELD_OUT_DAYS`` days after it, cleaned like training
data; see ``steps.trips``), and so is the deployed model, if any: the candidate must meet the thresholds and must not be worse than the deployed model
by more than the allowed margin. The metrics are the model's own (``model_spec.metrics``
``compute_metrics``, the function the recipe's evaluate step and the tests use), computed on
the driver from the scored trips' label and prediction, at most ``MAX_VALIDATION_ROWS`` of them.
"""

from __future__ import annotations

import traceback
from typing import Callable, NoReturn, Optional

import mlflow
from pyspark.sql import DataFrame, SparkSession

from model_spec.data import LABEL
from model_spec.metrics import compute_metrics
from model_spec.prediction import PREDICTION_COLUMN
from steps.trips import MAX_HELD_OUT_ROWS, collect_at_most, held_out_period, plausible_trips
from steps.validation import (
    ModelValidationFailed,
    RunMode,
    ValidationResult,
    ValidationStatus,
    enforce,
    record_in_model_version,
    training_cutoff,
)

ScoreTrips = Callable[[SparkSession, str, DataFrame], DataFrame]
# Scored trips collected to the driver for the model's metrics (two values per trip): the
# held-out period's bound that every track's validation uses (``steps.trips.MAX_HELD_OUT_ROWS``).
MAX_VALIDATION_ROWS = MAX_HELD_OUT_ROWS


def held_out_metrics(scored: DataFrame) -> dict[str, float]:
    """The model's ``compute_metrics`` (``model_spec.metrics``) of the scored rows' prediction against their label.

    Only the two columns of at most ``MAX_VALIDATION_ROWS`` rows reach the driver; more raise
    ``ValueError`` (``steps.trips.collect_at_most``), as do no rows (``compute_metrics``).
    One definition of every metric, whatever the model: no Spark copy to keep in step.
    """
    rows = collect_at_most(scored.select(PREDICTION_COLUMN, LABEL), MAX_VALIDATION_ROWS, "MAX_VALIDATION_ROWS")
    return compute_metrics(rows[PREDICTION_COLUMN], rows[LABEL])


def held_out_trips(spark: SparkSession, validation_input: str, cutoff: str) -> DataFrame:
    """The plausible trips of the query in the held-out period from ``cutoff``, which training did not see.

    ``cutoff`` is the version's training cutoff (``steps.validation.training_cutoff``), not a
    period re-derived from the query: the recipe splits only the trips it ingested (the newest
    2,000,000 on Databricks), so a re-derived period of a larger table would start earlier and
    include trips the model was trained on. The period lasts at most ``HELD_OUT_DAYS`` days
    (``steps.trips.held_out_period``), so it stays bounded when the table has grown since
    training. Raises ``ValueError`` when the query lacks the true fare.
    """
    trips = spark.sql(validation_input)
    if LABEL not in trips.columns:
        raise ValueError(f"The validation input query must return the true {LABEL} column")
    # The period first: Spark cannot push a filter below the contract's UDF, which would
    # otherwise check the whole table.
    return plausible_trips(held_out_period(trips, cutoff))


def _fail(model_name: str, model_version: str, details: str, error: Exception, what: str) -> NoReturn:
    """Record the version as FAILED, log the traceback to the active run, raise ``ModelValidationFailed``."""
    record_in_model_version(model_name, model_version, ValidationStatus.FAILED, f"{details}: {what}: {error}")
    mlflow.log_text(traceback.format_exc(), "validation_error.txt")
    raise ModelValidationFailed(f"Model validation {what}: {error}") from error


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

    The held-out trips are those from the version's ``training_cutoff`` tag to at most
    ``HELD_OUT_DAYS`` days after it (``held_out_trips``); a version without the tag is FAILED
    (``ModelValidationFailed``), as is a model that cannot be scored.

    Metrics, thresholds and the baseline's metrics go to a run in the active MLflow
    experiment; the verdict becomes the version's ``model_validation_status`` tag, which
    deployment checks. ``disabled`` records DISABLED and returns None; ``dry_run`` records
    the verdict without raising (deployment still refuses a FAILED version); ``enabled``
    raises ``ModelValidationFailed`` on failure. A candidate, or a deployed baseline, that
    cannot be scored makes the version FAILED and raises in every mode; with no baseline the
    candidate is judged by the thresholds alone.
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
        # The held-out trips are checked once and kept (steps.trips.plausible_trips): the
        # baseline's scoring reads them again, it does not recompute them.
        try:
            trips = held_out_trips(spark, validation_input, training_cutoff(model_name, model_version))
            metrics = held_out_metrics(score_trips(spark, model_uri, trips))
        except Exception as error:
            _fail(model_name, model_version, details, error, "could not score the model")
        baseline: dict[str, float] = {}
        if baseline_model_uri:
            # A deployed model that cannot be scored leaves nothing to compare with: judging the
            # candidate by the fixed thresholds alone would let it replace a better model unseen.
            try:
                baseline = held_out_metrics(score_trips(spark, baseline_model_uri, trips))
            except Exception as error:
                what = f"could not score the deployed model {baseline_model_uri}"
                _fail(model_name, model_version, details, error, what)
        result = ValidationResult(metrics=metrics, baseline=baseline)
        mlflow.log_metrics(result.metrics)
        mlflow.log_metrics({f"baseline_{name}": value for name, value in baseline.items()})
        mlflow.log_params({f"limit_{name}": result.limit(name) for name in result.thresholds})
        mlflow.log_text(result.report(), "validation_report.txt")
    record_in_model_version(model_name, model_version, result.status, details)
    print(result.report())
    enforce(result, run_mode)
    return result

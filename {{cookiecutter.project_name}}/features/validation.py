"""ModelValidation of the feature-store track: ``fare_model.validation``, scored through the store.

The rules (thresholds, the margin against the ``champion``, the run modes, the tags and the
``challenger`` alias) are those of ``fare_model.validation``, which both MLflow 3 tracks
share. What differs is who scores: a model logged with its feature lookups is scored by the
feature store's ``score_batch`` (``features.scoring.score_trips``), which looks up each
held-out trip's features as of its pickup time, exactly as batch inference does.

The held-out trips are the plausible trips of the validation input picked up in the period
that starts at the version's training cutoff (tag ``training_cutoff``, which
``features.training`` records) and lasts at most ``steps.trips.HELD_OUT_DAYS`` days
(``steps.trips.held_out_period``), so validation scores exactly the period training left out,
and a bounded one even when the input has grown since. The period is selected in Spark; only
the scored fare and prediction of its trips reach the driver.

Of those, it scores only the trips within the feature tables' freshness
(``features.scoring.split_at_feature_freshness``), as training and batch inference do: the
held-out trips are the newest, so they are the first to lack feature rows when the feature
job is behind, and scoring them on "not computed yet" counts would judge the model on inputs
it never meets in serving. How many were left out is logged (metric
``held_out_trips_beyond_feature_freshness``, in the validation run and the champion's) and printed.
"""

from __future__ import annotations

from typing import Optional

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame, SparkSession

from fare_model.registry import training_cutoff
from fare_model.validation import Scorer, ValidationOutcome, validate_model_version
from features.scoring import feature_store, score_trips, split_at_feature_freshness
from model_spec.data import LABEL
from model_spec.prediction import PREDICTION_COLUMN
from steps.trips import MAX_HELD_OUT_ROWS, collect_at_most, held_out_period, plausible_trips
from steps.validation import RunMode

# Scored trips collected to the driver for MLflow's evaluation (two numbers per trip): the
# held-out period's bound that every track's validation uses (``steps.trips.MAX_HELD_OUT_ROWS``).
MAX_VALIDATION_ROWS = MAX_HELD_OUT_ROWS
# Held-out trips not scored because a feature table did not cover their time yet.
BEYOND_FEATURES_METRIC = "held_out_trips_beyond_feature_freshness"


def held_out_trips(trips: DataFrame, cutoff: str) -> DataFrame:
    """The plausible trips of ``trips`` in the held-out period from ``cutoff``, which training did not see.

    ``cutoff`` is the version's training cutoff (``fare_model.registry.training_cutoff``); the
    period lasts at most ``HELD_OUT_DAYS`` days (``steps.trips.held_out_period``). Raises
    ``ValueError`` when ``trips`` lacks the true fare.
    """
    if LABEL not in trips.columns:
        raise ValueError(f"The validation input must include the true {LABEL} column")
    # The period first: Spark cannot push a filter below the contract's UDF, which would
    # otherwise check the whole table.
    return plausible_trips(held_out_period(trips, cutoff))


def feature_store_scorer(
    spark: SparkSession, max_rows: int = MAX_VALIDATION_ROWS, left_out: Optional[int] = None
) -> Scorer:
    """A ``Scorer`` that scores Spark trips through the feature store and collects fare and prediction.

    ``left_out``, when given, is logged as ``BEYOND_FEATURES_METRIC`` in the MLflow run active
    while scoring (each run says which trips its metrics cover). The scorer raises
    ``ValueError`` when more than ``max_rows`` trips would reach the driver.
    """

    def score(model_uri: str, trips: DataFrame) -> pd.DataFrame:
        if left_out is not None and mlflow.active_run() is not None:
            mlflow.log_metric(BEYOND_FEATURES_METRIC, left_out)
        scored = score_trips(spark, model_uri, trips).select(LABEL, PREDICTION_COLUMN)
        return collect_at_most(scored, max_rows, "features.validation.MAX_VALIDATION_ROWS")

    return score


def validate_with_feature_store(
    spark: SparkSession,
    model_name: str,
    model_version: str,
    validation_input: str,
    run_mode: RunMode,
    env: str,
    ci_run_id: str = "",
) -> ValidationOutcome:
    """``fare_model.validation.validate_model_version`` on the held-out trips of a Spark SQL query.

    ``validation_input`` returns raw trips with the true fare; it is not even run in
    ``disabled`` mode. Only the held-out trips within the freshness of ``env``'s feature
    tables (those of CI run ``ci_run_id``, if given) are scored (see the module docstring).
    Raises ``ValueError`` when the version has no ``training_cutoff`` tag (not registered by
    ``features.training``) or when no held-out trip is within the features' freshness, else as
    ``validate_model_version`` does (``ModelValidationFailed`` in ``enabled`` mode, any scoring
    error in every mode).
    """
    if run_mode is RunMode.DISABLED:
        return validate_model_version(model_name, model_version, None, run_mode, score=feature_store_scorer(spark))
    cutoff = training_cutoff(MlflowClient(), model_name, model_version)
    # Checked once and kept (steps.trips.plausible_trips): the counts below and the champion's
    # scoring read the held-out trips again, they do not recompute them.
    held_out = held_out_trips(spark.sql(validation_input), cutoff.isoformat(sep=" "))
    ready, beyond = split_at_feature_freshness(feature_store(spark), held_out, env, ci_run_id)
    left_out = beyond.count()
    print(f"Held-out trips newer than the {env} feature tables' freshness, not scored: {left_out}")
    if left_out and ready.isEmpty():
        raise ValueError(
            f"none of the {left_out} held-out trips (picked up from {cutoff}) is within the freshness of the "
            f"{env} feature tables: run the feature job (write-feature-table-job) before validating"
        )
    score = feature_store_scorer(spark, left_out=left_out)
    return validate_model_version(model_name, model_version, ready, run_mode, score=score)

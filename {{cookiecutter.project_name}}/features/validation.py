"""ModelValidation of the feature-store track: ``fare_model.validation``, scored through the store.

The rules (thresholds, the margin against the ``champion``, the run modes, the tags and the
``challenger`` alias) are those of ``fare_model.validation``, which both MLflow 3 tracks
share. What differs is who scores: a model logged with its feature lookups is scored by the
feature store's ``score_batch`` (``features.scoring.score_trips``), which looks up each
held-out trip's features as of its pickup time, exactly as batch inference does.

The held-out trips are the plausible trips of the validation input picked up at or after the
version's training cutoff (tag ``training_cutoff``, which ``features.training`` records), so
validation scores exactly the period training left out, even when the input has grown since.
"""

from __future__ import annotations

import pandas as pd
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame, SparkSession

from fare_model.registry import training_cutoff
from fare_model.validation import Scorer, ValidationOutcome, validate_model_version
from features.scoring import score_trips
from model_spec.data import LABEL
from model_spec.prediction import PREDICTION_COLUMN
from steps.trips import collect_at_most, plausible_trips, split_at
from steps.validation import RunMode

# Scored trips collected to the driver for MLflow's evaluation: two numbers per trip, so
# far more than a held-out period of the taxi data; a larger input must be sampled on purpose.
MAX_VALIDATION_ROWS = 5_000_000


def held_out_trips(trips: DataFrame, cutoff: str) -> DataFrame:
    """The plausible trips of ``trips`` picked up at or after ``cutoff``, which training did not see.

    ``cutoff`` is the version's training cutoff (``fare_model.registry.training_cutoff``).
    Raises ``ValueError`` when ``trips`` lacks the true fare.
    """
    if LABEL not in trips.columns:
        raise ValueError(f"The validation input must include the true {LABEL} column")
    _, held_out = split_at(plausible_trips(trips), cutoff)
    return held_out


def feature_store_scorer(spark: SparkSession, max_rows: int = MAX_VALIDATION_ROWS) -> Scorer:
    """A ``Scorer`` that scores Spark trips through the feature store and collects fare and prediction.

    The scorer raises ``ValueError`` when more than ``max_rows`` trips would reach the driver.
    """

    def score(model_uri: str, trips: DataFrame) -> pd.DataFrame:
        scored = score_trips(spark, model_uri, trips).select(LABEL, PREDICTION_COLUMN)
        return collect_at_most(scored, max_rows, "features.validation.MAX_VALIDATION_ROWS")

    return score


def validate_with_feature_store(
    spark: SparkSession, model_name: str, model_version: str, validation_input: str, run_mode: RunMode
) -> ValidationOutcome:
    """``fare_model.validation.validate_model_version`` on the held-out trips of a Spark SQL query.

    ``validation_input`` returns raw trips with the true fare; it is not even run in
    ``disabled`` mode. Raises ``ValueError`` when the version has no ``training_cutoff`` tag
    (not registered by ``features.training``), else as ``validate_model_version`` does
    (``ModelValidationFailed`` in ``enabled`` mode, any scoring error in every mode).
    """
    held_out = None
    if run_mode is not RunMode.DISABLED:
        cutoff = training_cutoff(MlflowClient(), model_name, model_version)
        # Not cached: serverless compute may refuse DataFrame.cache(); the champion's scoring
        # recomputes the held-out trips, a bounded period (MAX_VALIDATION_ROWS).
        held_out = held_out_trips(spark.sql(validation_input), cutoff.isoformat(sep=" "))
    return validate_model_version(model_name, model_version, held_out, run_mode, score=feature_store_scorer(spark))

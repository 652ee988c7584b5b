"""Batch scoring of raw trips with a model logged with its feature lookups.

The feature store is chosen here, by runtime: the Databricks client on Databricks, the
local store anywhere else. Such a model cannot be loaded with ``mlflow.pyfunc`` and fed raw
trips (its inputs are looked up first), so BatchInference and ModelValidation
(``features/validation.py``) both score through ``score_trips``.
"""

from __future__ import annotations

import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fare_model.registry import parse_model_version_uri
from features.stores import FeatureStore
from features.trip_attributes import prepare_trips
from model_spec.prediction import PREDICTION_COLUMN
from steps.row_checks import score_valid_rows

MODEL_VERSION_COLUMN = "model_version"


def running_on_databricks() -> bool:
    """True inside a Databricks runtime (cluster, job or notebook)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def feature_store(spark: SparkSession) -> FeatureStore:
    """The Databricks Feature Store on Databricks, the local one anywhere else."""
    if running_on_databricks():
        from features.databricks_store import DatabricksFeatureStore

        return DatabricksFeatureStore(spark)
    from features.local_store import LocalFeatureStore

    return LocalFeatureStore(spark)


def score_trips(spark: SparkSession, model_uri: str, trips: DataFrame) -> DataFrame:
    """``trips`` plus DOUBLE ``prediction`` and STRING ``model_version``; features are looked up per trip.

    ``model_uri`` names one version, ``models:/<name>/<version>`` (resolve an alias first with
    ``fare_model.registry.resolve_alias``), so every prediction says which version made it.
    ``trips`` needs the raw trip columns (zips, pickup/dropoff times, distance); the lookup
    times and the trip's own attributes (``prepare_trips``, as in training) are added here
    and dropped again with the looked-up features. Rows that break the input contract
    (``steps.row_checks``) are not scored: null ``prediction``, the reason in
    ``quarantine_reason``. Raises ``ValueError`` for another URI.
    """
    _, version = parse_model_version_uri(model_uri)
    store = feature_store(spark)

    def score(valid: DataFrame) -> DataFrame:
        scored = store.score_batch(model_uri, prepare_trips(valid))
        return scored.select(
            *[F.col(c) for c in valid.columns], F.col(PREDICTION_COLUMN).cast("double").alias(PREDICTION_COLUMN)
        )

    return score_valid_rows(trips, score).withColumn(MODEL_VERSION_COLUMN, F.lit(version))

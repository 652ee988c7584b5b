"""Batch scoring of raw trips with a model logged with its feature lookups.

The feature store is chosen here, by runtime: the Databricks client on Databricks, the
local store anywhere else.

``score_trips`` is the scoring interface shared with the no-feature-store variant
(steps/predict.py): BatchInference and ModelValidation call it on both variants.
"""

from __future__ import annotations

import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.stores import FeatureStore
from features.trip_attributes import prepare_trips


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
    """``trips`` plus a DOUBLE ``prediction`` column; features are looked up per trip.

    ``trips`` needs the raw trip columns (zips, pickup/dropoff times, distance); the
    lookup times and the trip's own attributes (``prepare_trips``, as in training) are
    added here and dropped again with the looked-up features.
    """
    scored = feature_store(spark).score_batch(model_uri, prepare_trips(trips))
    return scored.select(*[F.col(c) for c in trips.columns], F.col("prediction").cast("double").alias("prediction"))

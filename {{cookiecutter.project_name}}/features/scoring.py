"""Batch scoring of raw trips with a model logged with its feature lookups.

``score_trips`` is the scoring interface shared with the no-feature-store variant
(steps/predict.py): BatchInference and ModelValidation call it on both variants.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.point_in_time import add_lookup_timestamps
from features.stores import feature_store


def score_trips(spark: SparkSession, model_uri: str, trips: DataFrame) -> DataFrame:
    """``trips`` plus a DOUBLE ``prediction`` column; features are looked up per trip.

    ``trips`` needs the raw trip columns (zips, pickup/dropoff times, distance); the
    lookup times are added here and dropped again with the looked-up features.
    """
    scored = feature_store(spark).score_batch(model_uri, add_lookup_timestamps(trips))
    return scored.select(*[F.col(c) for c in trips.columns], F.col("prediction").cast("double").alias("prediction"))

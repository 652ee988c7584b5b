"""Pickup features: fare level and demand per pickup zip over the past hour.

Windows are one hour long and start every 15 minutes, so every quarter hour has a
fresh row describing the hour that just ended.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.time_windows import DateBound, aggregate_per_zip_window, filter_time_range


def compute_features_fn(
    input_df: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound
) -> DataFrame:
    """Per pickup zip and 1-hour window (sliding by 15 minutes): mean fare and trip count.

    Only trips with ``start_date <= timestamp_column < end_date`` count (empty bounds
    are open). Output columns: ``zip``, ``<timestamp_column>`` (window end),
    ``mean_fare_window_1h_pickup_zip`` (double), ``count_trips_window_1h_pickup_zip`` (int).
    """
    trips = filter_time_range(input_df, timestamp_column, start_date, end_date)
    return aggregate_per_zip_window(
        trips,
        zip_column="pickup_zip",
        timestamp_column=timestamp_column,
        window_duration="1 hour",
        slide_duration="15 minutes",
        features={
            "mean_fare_window_1h_pickup_zip": F.mean("fare_amount").cast("double"),
            # INT, not Spark's LONG count: MLflow passes int32 to a model with double inputs.
            "count_trips_window_1h_pickup_zip": F.count(F.lit(1)).cast("int"),
        },
    )

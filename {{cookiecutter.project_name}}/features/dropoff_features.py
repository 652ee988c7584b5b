"""Dropoff features: demand per dropoff zip per half hour, and whether it is a weekend.

Windows tumble every 30 minutes. The weekend flag is taken in New York time: a
window ending on Monday 02:00 UTC is still Sunday evening in the city.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.time_windows import DateBound, aggregate_per_zip_window, filter_time_range

CITY_TIME_ZONE = "America/New_York"
_SUNDAY, _SATURDAY = 1, 7  # Spark's dayofweek numbering


def compute_features_fn(
    input_df: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound
) -> DataFrame:
    """Per dropoff zip and 30-minute tumbling window: trip count and weekend flag.

    Only trips with ``start_date <= timestamp_column < end_date`` count (empty bounds
    are open). Output columns: ``zip``, ``<timestamp_column>`` (window end, read as
    UTC), ``count_trips_window_30m_dropoff_zip`` (int) and ``dropoff_is_weekend``
    (int, 1 when the window end falls on a Saturday or Sunday in New York).
    """
    trips = filter_time_range(input_df, timestamp_column, start_date, end_date)
    counts = aggregate_per_zip_window(
        trips,
        zip_column="dropoff_zip",
        timestamp_column=timestamp_column,
        window_duration="30 minutes",
        slide_duration="30 minutes",
        features={"count_trips_window_30m_dropoff_zip": F.count(F.lit(1)).cast("int")},
    )
    city_day = F.dayofweek(F.from_utc_timestamp(F.col(timestamp_column), CITY_TIME_ZONE))
    return counts.withColumn("dropoff_is_weekend", city_day.isin(_SUNDAY, _SATURDAY).cast("int"))

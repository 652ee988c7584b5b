"""Dropoff features: demand per dropoff zip per half hour, and whether it is a weekend.

Windows tumble every 30 minutes. The weekend flag reads the window end's clock as stored
(New York time; see features/time_windows.py), so it needs no time-zone conversion.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.time_windows import DateBound, aggregate_per_zip_window, is_weekend


def compute_features_fn(
    input_df: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound
) -> DataFrame:
    """Per dropoff zip and 30-minute tumbling window: trip count and weekend flag.

    Rows for the windows ending in ``(start_date, end_date]`` (bounds: see ``aggregate_per_zip_window``).
    Output columns: ``zip``, ``<timestamp_column>`` (window end),
    ``count_trips_window_30m_dropoff_zip`` (int) and ``dropoff_is_weekend`` (int, 1 when
    the window end's clock time falls on a Saturday or Sunday).
    """
    counts = aggregate_per_zip_window(
        input_df,
        zip_column="dropoff_zip",
        timestamp_column=timestamp_column,
        window_duration="30 minutes",
        slide_duration="30 minutes",
        features={"count_trips_window_30m_dropoff_zip": F.count(F.lit(1)).cast("int")},
        start_date=start_date,
        end_date=end_date,
    )
    return counts.withColumn("dropoff_is_weekend", is_weekend(F.col(timestamp_column)))

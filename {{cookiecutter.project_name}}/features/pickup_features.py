"""Pickup features: fare level and demand per pickup zip over the past hour.

Windows are one hour long and start every 15 minutes, so every quarter hour has a
fresh row describing the hour that just ended.

Point in time: a trip counts in a window from its pickup, but its fare is known only at
drop-off, so the mean fare of a window takes only the trips that had dropped off by the
window's end. A model trained on these rows never sees a fare that was not yet known.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.time_windows import WINDOW_END, DateBound, aggregate_per_zip_window, clock_timestamp

DROPOFF_TIME = "tpep_dropoff_datetime"


def compute_features_fn(
    input_df: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound
) -> DataFrame:
    """Per pickup zip and 1-hour window (sliding by 15 minutes): mean fare and trip count.

    Rows for the windows ending in ``(start_date, end_date]`` (bounds: see ``aggregate_per_zip_window``),
    each from all its trips. Output columns: ``zip``, ``<timestamp_column>`` (window end),
    ``mean_fare_window_1h_pickup_zip`` (double; fares of trips dropped off by the window
    end, null if none had), ``count_trips_window_1h_pickup_zip`` (int; trips picked up).
    """
    return aggregate_per_zip_window(
        input_df,
        zip_column="pickup_zip",
        timestamp_column=timestamp_column,
        window_duration="1 hour",
        slide_duration="15 minutes",
        features={
            "mean_fare_window_1h_pickup_zip": F.mean(
                F.when(clock_timestamp(F.col(DROPOFF_TIME)) <= F.col(WINDOW_END), F.col("fare_amount"))
            ).cast("double"),
            # INT, not Spark's LONG count: MLflow passes int32 to a model with double inputs.
            "count_trips_window_1h_pickup_zip": F.count(F.lit(1)).cast("int"),
        },
        start_date=start_date,
        end_date=end_date,
    )

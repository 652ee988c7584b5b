"""Helpers that both feature pipelines share: time-range filtering and per-zip windows.

A feature row describes one zip code over one time window and is stamped with the
window's END. Training and scoring look up the latest row stamped at or before a
trip's (rounded-down) time, so a row never contains data from after that time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Mapping, Optional, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

DateBound = Optional[Union[str, date, datetime]]


def _bound_literal(bound: DateBound) -> Optional[Column]:
    """A Spark timestamp literal for ``bound``; None (or "") means "no bound".

    Strings are cast by Spark, so they are read in the session time zone exactly
    like the timestamps in the data (a Python datetime would be converted with the
    operating system's zone instead).
    """
    if bound is None or bound == "":
        return None
    text = bound.isoformat(sep=" ") if isinstance(bound, datetime) else str(bound).strip()
    try:
        datetime.fromisoformat(text)
    except ValueError:
        # Spark would turn it into NULL and silently filter out every row.
        raise ValueError(f"date bound {bound!r} is not an ISO date such as 2016-01-31 or 2016-01-31 12:00:00") from None
    return F.lit(text).cast("timestamp")


def filter_time_range(df: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound) -> DataFrame:
    """Rows with ``start_date <= timestamp < end_date``; an empty bound is open."""
    timestamp = F.col(timestamp_column).cast("timestamp")
    start, end = _bound_literal(start_date), _bound_literal(end_date)
    if start is not None:
        df = df.where(timestamp >= start)
    if end is not None:
        df = df.where(timestamp < end)
    return df


def aggregate_per_zip_window(
    df: DataFrame,
    zip_column: str,
    timestamp_column: str,
    window_duration: str,
    slide_duration: str,
    features: Mapping[str, Column],
) -> DataFrame:
    """Aggregate trips per zip code and time window into the named feature columns.

    Returns the columns ``zip``, ``<timestamp_column>`` (the window end, which is the
    feature table's timestamp key) and one column per entry of ``features``. With
    ``slide_duration`` equal to ``window_duration`` the windows tumble; a shorter
    slide makes them overlap, so one trip counts in several windows.
    """
    window = F.window(F.col(timestamp_column).cast("timestamp"), window_duration, slide_duration)
    return (
        df.groupBy(F.col(zip_column).alias("zip"), window.alias("window"))
        .agg(*[aggregation.alias(name) for name, aggregation in features.items()])
        .select("zip", F.col("window.end").alias(timestamp_column), *features)
    )

"""Features read the clock as stored, whatever the Spark session's and the machine's time zone.

The committed sample is parquet without a zone, which Spark reads as TIMESTAMP_NTZ; a Delta
table on Databricks holds TIMESTAMP instants. A plain cast of a TIMESTAMP_NTZ to TIMESTAMP
reads the clock in the session zone, and would shift every hour, weekday, lookup time and
window by the zone's offset (features/time_windows.py: ``clock_seconds``).
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.feature_tables import FEATURE_TABLES
from features.generate import compute_features
from features.trip_attributes import PICKUP_TIME, prepare_trips

TIME_COLUMNS = ("tpep_pickup_datetime", "tpep_dropoff_datetime")
LOOKUP_TIMES = tuple(table.timestamp_lookup_key for table in FEATURE_TABLES)


@contextlib.contextmanager
def time_zone(spark: SparkSession, zone: str) -> Iterator[None]:
    """Spark's session time zone and this process's (``TZ``, which PySpark converts datetimes
    with) both set to ``zone`` for the block."""
    previous = spark.conf.get("spark.sql.session.timeZone"), os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        yield
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous[0])
        if previous[1] is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous[1]
        time.tzset()


def as_seconds(frame: DataFrame, columns: tuple[str, ...]) -> list[tuple]:
    """The rows of ``frame``, its timestamp ``columns`` as epoch seconds (no zone in Python), sorted.

    ``unix_timestamp`` reads no zone: a TIMESTAMP's instant, a TIMESTAMP_NTZ's clock as UTC.
    """
    rows = frame.select(*[F.unix_timestamp(F.col(c)).alias(c) if c in columns else F.col(c) for c in frame.columns])
    return sorted(tuple(row) for row in rows.collect())


def computed(trips: DataFrame) -> dict[str, list[tuple]]:
    """The trip attributes, lookup times and both feature tables (over a bounded range) of ``trips``."""
    results = {"trips": as_seconds(prepare_trips(trips), (*TIME_COLUMNS, *LOOKUP_TIMES))}
    for table in FEATURE_TABLES:
        features = compute_features(table.module, trips, table.source_timestamp, "2022-01-15", "2022-01-16 12:00")
        results[table.module] = as_seconds(features, (table.source_timestamp,))
    return results


@pytest.fixture
def clock_trips(spark, trips):
    """The fixture trips as TIMESTAMP_NTZ clock times, as Spark reads the committed sample."""
    return trips.withColumns({c: F.col(c).cast("timestamp_ntz") for c in TIME_COLUMNS}).cache()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kathmandu"])
def test_features_are_the_same_in_any_session_and_machine_time_zone(spark, clock_trips, zone):
    in_utc = computed(clock_trips)
    with time_zone(spark, zone):
        elsewhere = computed(clock_trips)
    for name, rows in in_utc.items():
        assert rows and elsewhere[name] == rows, f"{name} differ between UTC and {zone}"


def test_hour_and_weekend_of_a_clock_time_in_a_new_york_session(spark, clock_trips):
    with time_zone(spark, "America/New_York"):
        rows = prepare_trips(clock_trips).select(PICKUP_TIME, "pickup_hour", "pickup_is_weekend").collect()
    # A TIMESTAMP_NTZ comes back as the naive clock time, in no zone.
    assert all(row.pickup_hour == row[PICKUP_TIME].hour for row in rows)
    assert all(row.pickup_is_weekend == int(row[PICKUP_TIME].weekday() >= 5) for row in rows)
    # Every hour of the day occurs, so the check above sees any shift.
    assert {row["pickup_hour"] for row in rows} == set(range(24))

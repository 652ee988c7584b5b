"""A trip's own pickup hour and weekend flag: from its own timestamp, as the clock shows it."""

from __future__ import annotations

import calendar
from datetime import datetime

import pytest
from pyspark.sql import functions as F

from features.trip_attributes import PICKUP_TIME, TRIP_ATTRIBUTES, add_trip_attributes, prepare_trips

# New York clock times as stored. DST began 2022-03-13 at 02:00 and ended 2022-11-06 at 02:00.
PICKUPS = {
    "2022-03-12 23:59:00": (23, 1),  # Saturday night
    "2022-03-13 01:59:00": (1, 1),  # the minute before the clocks skip an hour
    "2022-03-13 03:00:00": (3, 1),  # the minute after
    "2022-03-14 00:10:00": (0, 0),  # Monday (read in UTC and converted, it would be Sunday 20:10)
    "2022-11-06 01:30:00": (1, 1),  # the hour that the autumn change repeats
    "2022-11-07 04:30:00": (4, 0),  # Monday
}


def trips_at(spark, clock_times):
    # Built from epoch seconds of the clock as stored: a cast that no session time zone changes.
    rows = [(text, calendar.timegm(datetime.fromisoformat(text).timetuple())) for text in clock_times]
    return spark.createDataFrame(rows, ["clock", "epoch"]).withColumn(PICKUP_TIME, F.col("epoch").cast("timestamp"))


@pytest.mark.parametrize("session_time_zone", ["UTC", "America/New_York"])
def test_hour_and_weekend_are_the_stored_clock_across_dst_changes(spark, session_time_zone):
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", session_time_zone)
    try:
        rows = add_trip_attributes(trips_at(spark, PICKUPS)).collect()
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)
    assert {row["clock"]: (row["pickup_hour"], row["pickup_is_weekend"]) for row in rows} == PICKUPS
    assert {type(row[name]) for row in rows for name in TRIP_ATTRIBUTES} == {int}


def test_prepare_trips_adds_the_attributes_and_the_lookup_times(spark, trips):
    prepared = prepare_trips(trips)
    assert set(prepared.columns) - set(trips.columns) == {
        *TRIP_ATTRIBUTES,
        "rounded_pickup_datetime",
        "rounded_dropoff_datetime",
    }
    row = prepared.first()
    assert row["pickup_hour"] == row[PICKUP_TIME].hour
    assert row["pickup_is_weekend"] == int(row[PICKUP_TIME].weekday() >= 5)

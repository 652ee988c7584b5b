"""Windows the feature job writes when it gets no end date (``features/time_windows.py``)."""

from datetime import datetime

from pyspark.sql import functions as F

from features.time_windows import FEATURE_AVAILABILITY_LAG, aggregate_per_zip_window

COLUMNS = ["pickup_time", "zip"]


def lag_after(time: str) -> str:
    """The time ``FEATURE_AVAILABILITY_LAG`` after ``time``: a trip then shows the windows up to ``time`` complete."""
    return str(datetime.fromisoformat(time) + FEATURE_AVAILABILITY_LAG)


def count_per_window_end(spark, times: list[str], end_date=None) -> dict[str, int]:
    """Trip counts per end of 1-hour windows sliding by 15 minutes, keyed by the end's clock time."""
    trips = spark.createDataFrame([(datetime.fromisoformat(t), 10001) for t in times], COLUMNS)
    rows = aggregate_per_zip_window(
        trips, "zip", "pickup_time", "1 hour", "15 minutes", {"trips": F.count(F.lit(1))}, end_date=end_date
    )
    return {row["pickup_time"].strftime("%H:%M"): row["trips"] for row in rows.collect()}


def test_without_an_end_date_no_window_ending_within_the_lag_before_the_newest_trip_is_written(spark):
    times = ["2022-01-12 00:05:00", "2022-01-12 00:20:00", "2022-01-12 00:50:00"]
    counts = count_per_window_end(spark, [*times, lag_after("2022-01-12 00:50:00")])
    # The windows ending 01:00 and later may still miss trips under way (they land at drop-off).
    assert counts == {"00:15": 1, "00:30": 2, "00:45": 2}


def test_a_later_run_writes_the_deferred_window_complete(spark):
    times = ["2022-01-12 00:05:00", "2022-01-12 00:20:00", "2022-01-12 00:50:00", "2022-01-12 00:58:00"]
    later = count_per_window_end(spark, [*times, lag_after("2022-01-12 01:00:00")])
    # 01:00 is written now that a trip the lag after its end shows the window [00:00, 01:00) complete.
    assert later == {"00:15": 1, "00:30": 2, "00:45": 2, "01:00": 4}


def test_a_trip_dated_in_the_future_does_not_end_the_windows(spark):
    """A glitched clock's trip in 2088 must not make today's partial windows look complete."""
    times = ["2022-01-12 00:05:00", "2022-01-12 00:20:00", "2022-01-12 00:50:00", lag_after("2022-01-12 00:50:00")]
    counts = count_per_window_end(spark, [*times, "2088-01-12 00:00:00"])
    assert counts == {"00:15": 1, "00:30": 2, "00:45": 2}


def test_an_explicit_end_date_is_kept(spark):
    counts = count_per_window_end(spark, ["2022-01-12 00:05:00"], end_date="2022-01-12 01:00:00")
    assert counts == {"00:15": 1, "00:30": 1, "00:45": 1, "01:00": 1}


def test_no_trips_write_no_windows(spark):
    empty = spark.createDataFrame([], "pickup_time timestamp, zip int")
    rows = aggregate_per_zip_window(empty, "zip", "pickup_time", "1 hour", "15 minutes", {"trips": F.count(F.lit(1))})
    assert rows.count() == 0

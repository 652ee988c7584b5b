from datetime import datetime, timedelta

from pyspark.sql import functions as F

from features.feature_tables import FeatureLookup
from features.point_in_time import add_lookup_timestamps, as_of_join, round_down_to_minutes
from features.time_windows import FEATURE_AVAILABILITY_LAG

LOOKUP = FeatureLookup(
    table_name="pickup",
    feature_names=("mean_fare",),
    lookup_key="pickup_zip",
    timestamp_lookup_key="rounded_pickup_datetime",
)


def at(text):
    return datetime.fromisoformat(f"2022-01-12 {text}")


def feature_table(spark):
    rows = [(1, at("00:00:00"), 10.0), (1, at("00:15:00"), 15.0), (1, at("00:30:00"), 30.0), (2, at("00:10:00"), 99.0)]
    return spark.createDataFrame(rows, ["zip", "window_end", "mean_fare"])


def looked_up(spark, trips):
    trips_df = spark.createDataFrame(
        [(trip_id, zip_code, at(time)) for trip_id, zip_code, time in trips],
        ["trip_id", "pickup_zip", "rounded_pickup_datetime"],
    )
    joined = as_of_join(trips_df, feature_table(spark), LOOKUP, "zip", "window_end")
    return {row["trip_id"]: row["mean_fare"] for row in joined.collect()}


def test_takes_the_latest_row_at_or_before_the_trip_and_never_a_later_one(spark):
    assert looked_up(spark, [("between", 1, "00:20:00"), ("exact", 1, "00:30:00"), ("late", 1, "01:00:00")]) == {
        "between": 15.0,
        "exact": 30.0,
        "late": 30.0,
    }


def test_trips_before_any_row_or_for_another_zip_get_nothing(spark):
    assert looked_up(spark, [("early", 1, "00:00:00"), ("too_early", 2, "00:05:00"), ("unknown", 3, "00:20:00")]) == {
        "early": 10.0,
        "too_early": None,
        "unknown": None,
    }


def test_keeps_every_trip_and_its_columns(spark):
    result = looked_up(spark, [(str(i), 1, "00:20:00") for i in range(5)])
    assert result == {str(i): 15.0 for i in range(5)}


def test_rounding_goes_down_to_the_window_slide(spark):
    df = spark.createDataFrame([(at("10:14:59"),), (at("10:15:00"),), (at("10:29:59"),)], ["ts"])
    rounded = [row[0].strftime("%H:%M:%S") for row in df.select(round_down_to_minutes(F.col("ts"), 15)).collect()]
    assert rounded == ["10:00:00", "10:15:00", "10:15:00"]


def test_lookup_times_for_both_tables_are_the_newest_window_ends_available_after_the_lag(spark):
    assert FEATURE_AVAILABILITY_LAG == timedelta(hours=2)  # the times below
    df = spark.createDataFrame([(at("10:44:00"), at("10:59:00"))], ["tpep_pickup_datetime", "tpep_dropoff_datetime"])
    row = add_lookup_timestamps(df).first()
    assert row["rounded_pickup_datetime"] == at("08:30:00")
    assert row["rounded_dropoff_datetime"] == at("08:30:00")


def test_a_row_older_than_the_look_back_is_not_used(spark):
    bounded = FeatureLookup(**{**LOOKUP.__dict__, "lookback_seconds": 15 * 60 - 1})
    trips_df = spark.createDataFrame(
        [("fresh", 1, at("00:30:00")), ("quiet", 1, at("00:45:00")), ("days_later", 1, at("23:00:00"))],
        ["trip_id", "pickup_zip", "rounded_pickup_datetime"],
    )
    joined = as_of_join(trips_df, feature_table(spark), bounded, "zip", "window_end")
    assert {row["trip_id"]: row["mean_fare"] for row in joined.collect()} == {
        "fresh": 30.0,
        "quiet": None,
        "days_later": None,
    }

from datetime import datetime, timedelta

import pytest

from features.pickup_features import compute_features_fn

COLUMNS = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "pickup_zip", "dropoff_zip", "trip_distance", "fare_amount"]


def trip(pickup: str, pickup_zip: int, fare: float, minutes: int = 0) -> tuple:
    start = datetime.fromisoformat(pickup)
    return (start, start + timedelta(minutes=minutes), pickup_zip, 10001, 1.0, fare)


@pytest.fixture
def trips(spark):
    rows = [
        trip("2022-01-12 00:05:00", 10001, 10.0),
        trip("2022-01-12 00:20:00", 10001, 20.0),
        trip("2022-01-12 00:50:00", 10002, 30.0),
    ]
    return spark.createDataFrame(rows, COLUMNS)


def features_by_key(df, timestamp_column="tpep_pickup_datetime"):
    return {
        (row["zip"], row[timestamp_column].strftime("%H:%M")): (
            row["mean_fare_window_1h_pickup_zip"],
            row["count_trips_window_1h_pickup_zip"],
        )
        for row in df.collect()
    }


def test_one_trip_counts_in_the_four_overlapping_hour_windows(spark):
    df = spark.createDataFrame([trip("2022-01-12 00:05:00", 94400, 100.0)], COLUMNS)
    features = features_by_key(compute_features_fn(df, "tpep_pickup_datetime", "2022-01-01", "2022-01-15"))
    assert sorted(end for _, end in features) == ["00:15", "00:30", "00:45", "01:00"]
    assert set(features.values()) == {(100.0, 1)}


def test_mean_fare_and_count_per_zip_and_window_end(spark, trips):
    later = spark.createDataFrame([trip("2022-01-12 02:50:00", 10003, 40.0)], COLUMNS)
    features = features_by_key(compute_features_fn(trips.unionByName(later), "tpep_pickup_datetime", None, None))
    # No end date: only the windows ending by 00:50, the availability lag before the newest trip, are complete.
    assert features == {
        (10001, "00:15"): (10.0, 1),
        (10001, "00:30"): (15.0, 2),
        (10001, "00:45"): (15.0, 2),
    }


def test_time_bounds_select_the_windows_ending_inside_computed_from_all_their_trips(trips):
    features = features_by_key(
        compute_features_fn(trips, "tpep_pickup_datetime", "2022-01-12 00:20:00", "2022-01-12 00:50:00")
    )
    # The 00:05 trip is before the start but inside these windows, so it counts; the 00:50
    # trip is at the end, so no window it falls in is written by this run.
    assert features == {(10001, "00:30"): (15.0, 2), (10001, "00:45"): (15.0, 2)}


def test_consecutive_incremental_runs_write_exactly_what_one_full_run_writes(spark):
    rows = [
        trip(f"2022-01-12 {hour:02d}:{minute:02d}:00", 10001 + minute % 2, float(hour + minute))
        for hour in range(0, 6)
        for minute in (3, 17, 29, 44, 58)
    ]
    df = spark.createDataFrame(rows, COLUMNS)

    def run(start, end):
        return features_by_key(compute_features_fn(df, "tpep_pickup_datetime", start, end))

    full = run("2022-01-12 00:00:00", "2022-01-12 06:00:00")
    first, second = run("2022-01-12 00:00:00", "2022-01-12 02:20:00"), run("2022-01-12 02:20:00", "2022-01-12 06:00:00")
    assert not set(first) & set(second)
    assert {**first, **second} == full


def test_a_fare_counts_only_once_the_trip_has_dropped_off(spark):
    # Picked up 00:05, dropped off 00:50: counted from the 00:15 window on, fare known from 01:00.
    df = spark.createDataFrame([trip("2022-01-12 00:05:00", 10001, 40.0, minutes=45)], COLUMNS)
    features = features_by_key(compute_features_fn(df, "tpep_pickup_datetime", None, "2022-01-12 01:00:00"))
    assert features == {
        (10001, "00:15"): (None, 1),
        (10001, "00:30"): (None, 1),
        (10001, "00:45"): (None, 1),
        (10001, "01:00"): (40.0, 1),
    }


def test_window_end_is_named_after_the_timestamp_column_with_stable_types(trips):
    df = compute_features_fn(trips, "tpep_dropoff_datetime", "", "")
    assert dict(df.dtypes) == {
        "zip": "bigint",
        "tpep_dropoff_datetime": "timestamp",
        "mean_fare_window_1h_pickup_zip": "double",
        "count_trips_window_1h_pickup_zip": "int",
    }


def test_a_malformed_date_bound_is_refused(trips):
    with pytest.raises(ValueError, match="not an ISO date"):
        compute_features_fn(trips, "tpep_pickup_datetime", "2022-31-01", None)

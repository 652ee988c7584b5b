from datetime import datetime

import pytest

from features.pickup_features import compute_features_fn

COLUMNS = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "pickup_zip", "dropoff_zip", "trip_distance", "fare_amount"]


def trip(pickup: str, pickup_zip: int, fare: float) -> tuple:
    start = datetime.fromisoformat(pickup)
    return (start, start, pickup_zip, 10001, 1.0, fare)


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


def test_mean_fare_and_count_per_zip_and_window_end(trips):
    features = features_by_key(compute_features_fn(trips, "tpep_pickup_datetime", None, None))
    assert {key: value for key, value in features.items() if key[0] == 10001} == {
        (10001, "00:15"): (10.0, 1),
        (10001, "00:30"): (15.0, 2),
        (10001, "00:45"): (15.0, 2),
        (10001, "01:00"): (15.0, 2),
        (10001, "01:15"): (20.0, 1),
    }
    assert features[(10002, "01:00")] == (30.0, 1)


def test_time_bounds_keep_start_and_drop_end(trips):
    features = features_by_key(
        compute_features_fn(trips, "tpep_pickup_datetime", "2022-01-12 00:20:00", "2022-01-12 00:50:00")
    )
    assert {zip_code for zip_code, _ in features} == {10001}
    assert set(features.values()) == {(20.0, 1)}


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

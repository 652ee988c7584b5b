from datetime import datetime

import pytest

from features.dropoff_features import compute_features_fn

COLUMNS = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "pickup_zip", "dropoff_zip", "trip_distance", "fare_amount"]


def dropoffs(spark, *times_and_zips):
    rows = [(datetime.fromisoformat(t), datetime.fromisoformat(t), 10001, z, 1.0, 10.0) for t, z in times_and_zips]
    return spark.createDataFrame(rows, COLUMNS)


def features_by_key(df):
    return {
        (row["zip"], row["tpep_dropoff_datetime"].isoformat(sep=" ")): (
            row["count_trips_window_30m_dropoff_zip"],
            row["dropoff_is_weekend"],
        )
        for row in df.collect()
    }


def test_counts_per_thirty_minute_tumbling_window(spark):
    df = dropoffs(
        spark,
        ("2022-01-12 10:05:00", 94400),
        ("2022-01-12 10:25:00", 94400),
        ("2022-01-12 10:30:00", 94400),
        ("2022-01-12 10:35:00", 10002),
        ("2022-01-12 13:10:00", 10003),  # windows ending by 11:10 (the availability lag before) are complete
    )
    assert features_by_key(compute_features_fn(df, "tpep_dropoff_datetime", None, None)) == {
        (94400, "2022-01-12 10:30:00"): (2, 0),
        (94400, "2022-01-12 11:00:00"): (1, 0),
        (10002, "2022-01-12 11:00:00"): (1, 0),
    }


def test_weekend_is_the_clock_time_as_stored_across_a_dst_change(spark):
    # Timestamps are New York clock times already; 2022-03-13 02:00 is when DST began.
    df = dropoffs(
        spark,
        ("2022-03-11 23:50:00", 1),  # window ends Sat 00:00
        ("2022-03-13 01:50:00", 2),  # Sun 02:00, the hour the clocks skip
        ("2022-03-13 23:10:00", 3),  # Sun 23:30
        ("2022-03-14 00:10:00", 4),  # Mon 00:30 (a zone conversion would make it Sunday)
        ("2022-03-14 02:40:00", 5),  # the availability lag after zip 4's window: its own is not written
    )
    weekend = {
        zip_code: flag
        for (zip_code, _), (_, flag) in features_by_key(
            compute_features_fn(df, "tpep_dropoff_datetime", None, None)
        ).items()
    }
    assert weekend == {1: 1, 2: 1, 3: 1, 4: 0}


@pytest.mark.parametrize("start, end", [("20220101", "20220115"), ("2022-01-01T00:00", "2022-01-15T00:00")])
def test_a_bound_in_another_iso_form_selects_what_the_dashed_one_does(spark, start, end):
    # A widget value such as 20220101 must not become NULL (or the year 20220101) in Spark.
    df = dropoffs(spark, ("2022-01-10 12:00:00", 94400), ("2022-01-20 12:00:00", 94400))
    assert compute_features_fn(df, "tpep_dropoff_datetime", start, end).count() == 1


def test_one_trip_in_range_gives_one_row(spark):
    df = dropoffs(spark, ("2022-01-10 12:00:00", 94400), ("2022-01-20 12:00:00", 94400))
    result = compute_features_fn(df, "tpep_dropoff_datetime", "2022-01-01", "2022-01-15")
    assert result.count() == 1

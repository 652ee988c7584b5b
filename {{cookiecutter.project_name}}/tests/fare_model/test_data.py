import inspect

import pandas as pd
import pytest

from fare_model.data import (
    HELD_OUT_DAYS,
    HOLDOUT_FRACTION,
    MAX_HELD_OUT_ROWS,
    TARGET,
    TIME_COLUMN,
    clean_trips,
    held_out_trips,
    in_canonical_order,
    newest_trips,
    newest_window,
    split_by_time,
    to_pandas_bounded,
)
from model_spec.contract import DROPOFF


def test_held_out_trips_are_the_most_recent_tenth(trips: pd.DataFrame) -> None:
    split = split_by_time(trips)
    assert len(split.train) + len(split.held_out) == len(trips)
    assert len(split.held_out) == pytest.approx(HOLDOUT_FRACTION * len(trips), abs=1)
    assert split.train[TIME_COLUMN].max() < split.cutoff <= split.held_out[TIME_COLUMN].min()


def test_a_long_history_holds_out_its_newest_week_and_trains_on_everything_before_it() -> None:
    """A share of a year of trips would be weeks the model neither learns from nor is judged on."""
    hourly = pd.date_range("2023-01-01", periods=365 * 24, freq="h")
    year = pd.DataFrame({TIME_COLUMN: hourly, TARGET: 10.0}).sample(frac=1.0, random_state=5)
    split = split_by_time(year)
    newest = year[TIME_COLUMN].max()
    assert newest - split.cutoff <= pd.Timedelta(days=HELD_OUT_DAYS)
    assert len(split.held_out) == HELD_OUT_DAYS * 24 + 1
    # No trip falls between the two parts: training ends where the held-out period starts.
    assert len(split.train) + len(split.held_out) == len(year)
    assert split.train[TIME_COLUMN].max() == split.held_out[TIME_COLUMN].min() - pd.Timedelta(hours=1)
    assert split.held_out[TIME_COLUMN].min() == split.cutoff


def test_split_does_not_depend_on_row_order(trips: pd.DataFrame) -> None:
    first = split_by_time(trips)
    shuffled = split_by_time(trips.sample(frac=1.0, random_state=7))
    assert shuffled.cutoff == first.cutoff
    assert sorted(shuffled.held_out.index) == sorted(first.held_out.index)


def test_trips_picked_up_at_the_same_time_land_on_the_same_side(trips: pd.DataFrame) -> None:
    trips = trips.copy()
    first = split_by_time(trips)
    # Three more trips share the last training pickup time, three the first held-out one.
    trips.loc[trips.index[:3], TIME_COLUMN] = first.train[TIME_COLUMN].max()
    trips.loc[trips.index[3:6], TIME_COLUMN] = first.held_out[TIME_COLUMN].min()
    split = split_by_time(trips)
    assert not set(split.train[TIME_COLUMN]) & set(split.held_out[TIME_COLUMN])
    assert len(split.train) + len(split.held_out) == len(trips)


def test_one_pickup_time_cannot_be_split(trips: pd.DataFrame) -> None:
    same_time = trips.assign(**{TIME_COLUMN: trips[TIME_COLUMN].iloc[0]})
    with pytest.raises(ValueError, match="two or more distinct"):
        split_by_time(same_time)


def test_cleaning_drops_refunds_and_zero_distances(trips: pd.DataFrame) -> None:
    dirty = trips.copy()
    dirty.loc[dirty.index[0], TARGET] = -5.0
    dirty.loc[dirty.index[1], "trip_distance"] = 0.0
    assert len(clean_trips(dirty)) == len(trips) - 2


def test_validation_collects_a_held_out_week_at_new_yorks_busiest() -> None:
    """About 450,000 trips a day (``steps.trips``): validation collects up to the bound every track's
    validation uses, not the training window's 2,000,000, which a busy week exceeds."""
    assert inspect.signature(held_out_trips).parameters["max_rows"].default == MAX_HELD_OUT_ROWS
    assert MAX_HELD_OUT_ROWS >= HELD_OUT_DAYS * 450_000


def test_collecting_refuses_more_rows_than_the_bound(spark, trips: pd.DataFrame) -> None:
    frame = spark.createDataFrame(trips)
    assert len(to_pandas_bounded(frame, max_rows=len(trips))) == len(trips)
    with pytest.raises(ValueError, match="more than 199 rows"):
        to_pandas_bounded(frame, max_rows=199)


def test_held_out_trips_start_at_the_cutoff_and_are_cleaned(spark, trips: pd.DataFrame) -> None:
    cutoff = split_by_time(trips).cutoff
    dirty = trips.copy()
    late = dirty.index[dirty[TIME_COLUMN] >= cutoff][0]
    dirty.loc[late, TARGET] = -5.0  # a refund after the cutoff
    held_out = held_out_trips(spark.createDataFrame(dirty), cutoff)
    assert held_out[TIME_COLUMN].min() >= cutoff
    assert len(held_out) == (trips[TIME_COLUMN] >= cutoff).sum() - 1


@pytest.mark.parametrize("as_spark", [False, True], ids=["pandas", "spark"])
def test_held_out_trips_end_the_held_out_days_after_the_cutoff(spark, trips: pd.DataFrame, as_spark: bool) -> None:
    # The validation table has grown since training: trips more than HELD_OUT_DAYS after the
    # cutoff are beyond the period validation scores.
    cutoff = split_by_time(trips).cutoff
    newest = trips.loc[[trips[TIME_COLUMN].idxmax()]]
    shift = cutoff + pd.Timedelta(days=HELD_OUT_DAYS, minutes=1) - newest[TIME_COLUMN].iloc[0]
    later = newest.assign(**{TIME_COLUMN: newest[TIME_COLUMN] + shift, DROPOFF: newest[DROPOFF] + shift})
    grown = pd.concat([trips, later], ignore_index=True)
    held_out = held_out_trips(spark.createDataFrame(grown) if as_spark else grown, cutoff)
    assert len(held_out) == len(held_out_trips(trips, cutoff))
    assert held_out[TIME_COLUMN].max() <= cutoff + pd.Timedelta(days=HELD_OUT_DAYS)


def test_held_out_trips_are_the_same_from_pandas_as_from_spark(spark, trips: pd.DataFrame) -> None:
    cutoff = split_by_time(trips).cutoff
    from_spark = held_out_trips(spark.createDataFrame(trips), cutoff)
    from_pandas = held_out_trips(trips, cutoff)
    pd.testing.assert_frame_equal(
        from_pandas.reset_index(drop=True), from_spark.reset_index(drop=True), check_dtype=False
    )


def test_held_out_trips_need_the_true_fare(spark, trips: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="fare_amount"):
        held_out_trips(spark.createDataFrame(trips.drop(columns=[TARGET])), split_by_time(trips).cutoff)


def test_training_window_is_the_newest_trips_in_one_order_whatever_spark_returns(spark, trips: pd.DataFrame) -> None:
    newest = newest_trips(spark.createDataFrame(trips), max_rows=150)  # a table larger than the bound: no error
    assert len(newest) == 150
    assert newest[TIME_COLUMN].min() >= trips[TIME_COLUMN].nlargest(150).min()
    permuted = newest_trips(spark.createDataFrame(trips.sample(frac=1.0, random_state=3)).repartition(4), 150)
    pd.testing.assert_frame_equal(newest, permuted)


def test_the_training_window_is_a_top_n_not_a_sort_of_the_table(spark, trips: pd.DataFrame) -> None:
    window = newest_window(spark.createDataFrame(trips).repartition(4), max_rows=150)
    plan = window._jdf.queryExecution().executedPlan().toString()
    assert "TakeOrderedAndProject" in plan and "rangepartitioning" not in plan, plan


def test_ties_at_the_window_start_do_not_depend_on_columns_the_model_does_not_read(spark, trips: pd.DataFrame) -> None:
    """Many trips share a pickup time at the window's start: the record id breaks the tie, so a
    column added to the table later (sorting first by name) leaves the window what it was."""
    daily = trips.assign(**{TIME_COLUMN: pd.to_datetime(trips[TIME_COLUMN]).dt.floor("D")})
    window = newest_trips(spark.createDataFrame(daily), max_rows=150)
    widened = daily.assign(a_new_column=range(len(daily), 0, -1))
    widened_window = newest_trips(spark.createDataFrame(widened), max_rows=150).drop(columns="a_new_column")
    pd.testing.assert_frame_equal(in_canonical_order(widened_window), window)


def test_held_out_trips_do_not_depend_on_the_spark_session_time_zone(spark, trips: pd.DataFrame) -> None:
    cutoff = split_by_time(trips).cutoff
    expected = len(held_out_trips(trips, cutoff))
    zone = spark.conf.get("spark.sql.session.timeZone")
    try:
        spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
        assert len(held_out_trips(spark.createDataFrame(trips), cutoff)) == expected
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)

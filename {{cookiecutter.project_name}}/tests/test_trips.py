{%- set plain_mlflow3 = cookiecutter | derived("ml_code") == "mlflow3" -%}
"""The trip rules every track shares: cleaning{% if not plain_mlflow3 %}, and the held-out period by time{% endif %}."""

{% if not plain_mlflow3 -%}
import contextlib
{% endif -%}
from datetime import datetime{% if not plain_mlflow3 %}, timedelta{% endif %}
{%- if not plain_mlflow3 %}
from typing import Iterator
{%- endif %}

import pandas as pd
{%- if not plain_mlflow3 %}
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
{%- endif %}

{% if plain_mlflow3 -%}
from steps.trips import clean_trips, plausible_trips
{%- else -%}
from steps.trips import (
    HELD_OUT_DAYS,
    clean_trips,
    held_out_period,
    holdout_cutoff,
    holdout_cutoff_of,
    plausible_trips,
    split_at,
    time_split_labels,
)
{%- endif %}
{%- if not plain_mlflow3 %}


def minutes(count: int) -> pd.DataFrame:
    """``count`` trips one minute apart, shuffled so that row order says nothing about time."""
    start = datetime(2024, 3, 9)
    frame = pd.DataFrame(
        {
            "tpep_pickup_datetime": [start + timedelta(minutes=i) for i in range(count)],
            "trip_distance": 1.0,
            "fare_amount": 10.0,
        }
    )
    return frame.sample(frac=1.0, random_state=3)


def test_the_most_recent_trips_are_the_test_split_and_the_oldest_train() -> None:
    trips = minutes(100)
    labels = time_split_labels(trips)
    assert labels.value_counts().to_dict() == {"TRAINING": 80, "VALIDATION": 10, "TEST": 10}
    times = trips["tpep_pickup_datetime"]
    assert times[labels == "TRAINING"].max() < times[labels == "VALIDATION"].min()
    assert times[labels == "VALIDATION"].max() < times[labels == "TEST"].min()


def test_spark_holds_out_exactly_the_pandas_test_split(spark) -> None:
    trips = minutes(97)
    expected = set(trips.loc[time_split_labels(trips) == "TEST", "tpep_pickup_datetime"])
    frame = spark.createDataFrame(trips)
    training, held_out = split_at(frame, holdout_cutoff(frame))
    assert {row[0] for row in held_out.select("tpep_pickup_datetime").collect()} == expected
    assert training.count() + held_out.count() == len(trips)


def test_the_pandas_cutoff_is_the_first_test_pickup_and_the_spark_one(spark) -> None:
    trips = minutes(97)
    trips["tpep_pickup_datetime"] += timedelta(seconds=17)  # a quantile between whole minutes
    cutoff = holdout_cutoff_of(trips)
    assert cutoff == holdout_cutoff(spark.createDataFrame(trips))
    expected = set(trips.loc[time_split_labels(trips) == "TEST", "tpep_pickup_datetime"])
    _, held_out = split_at(spark.createDataFrame(trips), cutoff)
    assert {row[0] for row in held_out.select("tpep_pickup_datetime").collect()} == expected


def hourly(days: int) -> pd.DataFrame:
    """One trip an hour for ``days`` days from 2024-01-01."""
    start = datetime(2024, 1, 1)
    times = [start + timedelta(hours=i) for i in range(days * 24)]
    return pd.DataFrame({"tpep_pickup_datetime": times, "trip_distance": 1.0, "fare_amount": 10.0})


def test_a_long_history_holds_out_its_newest_week_not_a_tenth_of_it(spark) -> None:
    """A tenth of 100 days would be 10 days the model never learns from: the period is bounded."""
    trips = hourly(100)
    first_held_out = trips["tpep_pickup_datetime"].max() - timedelta(days=HELD_OUT_DAYS)
    assert holdout_cutoff_of(trips) == holdout_cutoff(spark.createDataFrame(trips)) == str(first_held_out)
    labels = time_split_labels(trips)
    assert (labels == "TEST").sum() == HELD_OUT_DAYS * 24 + 1
    # The validation split before it is bounded too: the recipe fits on the training split only.
    assert (labels == "VALIDATION").sum() == HELD_OUT_DAYS * 24


def test_validation_scores_the_held_out_period_only_however_much_the_input_grew(spark) -> None:
    cutoff = holdout_cutoff(spark.createDataFrame(hourly(100)))
    grown = spark.createDataFrame(hourly(130))  # a month of trips arrived since training
    period = held_out_period(grown, cutoff).toPandas()["tpep_pickup_datetime"]
    assert len(period) == HELD_OUT_DAYS * 24 + 1
    assert str(period.min()) == cutoff and period.max() - period.min() == timedelta(days=HELD_OUT_DAYS)


@contextlib.contextmanager
def session_time_zone(spark: SparkSession, zone: str) -> Iterator[None]:
    """Spark's session time zone set to ``zone`` for the block."""
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        yield
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)


@pytest.mark.parametrize("stored_as", ["timestamp", "timestamp_ntz"])
def test_a_cutoff_splits_the_same_trips_in_any_session_time_zone(spark, stored_as: str) -> None:
    """Training in one session time zone tags a cutoff that validation reads in another: a Delta
    table's TIMESTAMP instants and the sample's TIMESTAMP_NTZ clock times split the same."""
    trips = spark.createDataFrame(hourly(100).assign(trip=range(100 * 24)))
    trips = trips.withColumn("tpep_pickup_datetime", F.col("tpep_pickup_datetime").cast(stored_as)).cache()

    def split(cutoff: str) -> list[list[int]]:
        parts = (*split_at(trips, cutoff), held_out_period(trips, cutoff))
        return [sorted(row.trip for row in part.select("trip").collect()) for part in parts]

    tagged = holdout_cutoff(trips)  # in the tests' UTC session
    assert tagged == holdout_cutoff_of(hourly(100))
    expected = split(tagged)
    assert len(expected[1]) == len(expected[2]) == HELD_OUT_DAYS * 24 + 1
    for zone in ("America/New_York", "Asia/Kathmandu"):
        with session_time_zone(spark, zone):
            assert holdout_cutoff(trips) == tagged, zone
            assert split(tagged) == expected, zone


def test_a_cutoff_that_is_not_a_clock_time_is_refused(spark) -> None:
    with pytest.raises(ValueError, match="'2016-02-30 13:45:00' is not a clock time such as 2016-02-20 13:45:00"):
        split_at(spark.createDataFrame(hourly(1)), "2016-02-30 13:45:00")
{%- endif %}


def test_spark_and_pandas_clean_the_same_trips(spark) -> None:
    trips = pd.DataFrame(
        {
            "tpep_pickup_datetime": [datetime(2024, 3, 9)] * 5,
            "tpep_dropoff_datetime": [datetime(2024, 3, 9, 0, 10)] * 5,
            "trip_distance": [1.0, 0.0, 500.0, 2.0, None],
            "pickup_zip": [10001] * 5,
            "dropoff_zip": [10002] * 5,
            "fare_amount": [10.0, 10.0, 10.0, -3.0, 10.0],
        }
    )
    assert len(clean_trips(trips)) == plausible_trips(spark.createDataFrame(trips)).count() == 1

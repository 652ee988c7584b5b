"""The input contract: one pandera schema that training applies by dropping rows and scoring by quarantining them."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import steps.row_checks
import steps.trips
from model_spec.contract import INPUT_CONTRACT, TRAINING_CONTRACT
from steps.row_checks import (
    REASON_COLUMN,
    quarantine_report,
    row_problems,
    score_valid_rows,
    with_problems,
)
from steps.trips import clean_trips, plausible_trips
from tests.contract_counting import counting

GOOD = {
    "tpep_pickup_datetime": datetime(2024, 3, 8, 17, 50),
    "tpep_dropoff_datetime": datetime(2024, 3, 8, 18, 5),
    "trip_distance": 2.0,
    "pickup_zip": 10001,
    "dropoff_zip": 10002,
    "fare_amount": 12.0,
}
# One crafted row per rule (and a few that break two), with the reason scoring gives it.
CRAFTED = [
    ({}, None),
    ({"trip_distance": np.nan}, "missing trip_distance"),
    ({"tpep_dropoff_datetime": None}, "missing tpep_dropoff_datetime"),
    ({"tpep_pickup_datetime": None, "pickup_zip": None}, "missing tpep_pickup_datetime; missing pickup_zip"),
    ({"trip_distance": 0.0}, "trip_distance outside (0.0, 400.0)"),
    ({"trip_distance": 500.0}, "trip_distance outside (0.0, 400.0)"),
    ({"pickup_zip": 99999}, "pickup_zip outside [501, 99950]"),
    ({"dropoff_zip": 0}, "dropoff_zip outside [501, 99950]"),
    ({"tpep_dropoff_datetime": datetime(2024, 3, 8, 17, 40)}, "drop-off before pick-up"),
    (
        {"tpep_pickup_datetime": datetime(2088, 3, 8, 17, 50), "tpep_dropoff_datetime": datetime(2088, 3, 8, 18, 5)},
        "tpep_pickup_datetime in the future",
    ),
    (
        {"trip_distance": -1.0, "dropoff_zip": 100},
        "trip_distance outside (0.0, 400.0); dropoff_zip outside [501, 99950]",
    ),
    # The label's rules are training's alone: scoring has no fare, so these rows are scored.
    ({"fare_amount": -3.0}, None),
    ({"fare_amount": np.nan}, None),
]


def crafted() -> pd.DataFrame:
    """The ``CRAFTED`` rows, numbered in ``case`` (a column the contract ignores)."""
    frame = pd.DataFrame([{**GOOD, **change} for change, _ in CRAFTED])
    frame = frame.astype({"pickup_zip": "float64", "dropoff_zip": "float64"})  # a missing zip makes them float
    return frame.assign(case=range(len(frame)))


EXPECTED = [reason for _, reason in CRAFTED]


def test_each_broken_rule_is_named() -> None:
    assert row_problems(crafted()).tolist() == EXPECTED


def test_a_missing_column_flags_every_row() -> None:
    reasons = row_problems(crafted().drop(columns=["pickup_zip"]))
    assert all("missing pickup_zip" in reason.split("; ") for reason in reasons)


def _rules(column) -> tuple:
    """What a pandera column enforces: whether it may be missing, and its checks by name and error."""
    return column.nullable, [(check.name, check.error) for check in column.checks]


def test_training_keeps_exactly_the_rows_scoring_would_score_that_have_a_learnable_fare() -> None:
    frame = crafted()
    scored = frame.index[row_problems(frame).isna()]
    fare_ok = frame["fare_amount"].gt(0) & frame["fare_amount"].lt(1000)
    assert clean_trips(frame).index.tolist() == scored[fare_ok[scored]].tolist() == [0]
    # Training's contract is scoring's plus the label: one schema, extended, not a second copy.
    assert set(TRAINING_CONTRACT.columns) - set(INPUT_CONTRACT.columns) == {"fare_amount"}
    # Compared by rule (pandera's validation caches state on a check object, which `==` sees).
    assert all(_rules(TRAINING_CONTRACT.columns[n]) == _rules(column) for n, column in INPUT_CONTRACT.columns.items())


def test_the_contract_reads_no_clock_a_run_passes_its_own_time(spark) -> None:
    """A pick-up in 2088 is in the future for a run in 2024 and fine for one in 2088: the schemas
    themselves give the same answer at any time, the run's timestamp decides the one clock rule."""
    trip = {
        **GOOD,
        "tpep_pickup_datetime": datetime(2088, 3, 8, 17, 50),
        "tpep_dropoff_datetime": datetime(2088, 3, 8, 18, 5),
    }
    frame = pd.DataFrame([trip])
    INPUT_CONTRACT.validate(frame)
    TRAINING_CONTRACT.validate(frame)
    in_the_future = ["tpep_pickup_datetime in the future"]
    assert row_problems(frame, now=datetime(2088, 3, 8)).isna().all()  # within the day's tolerance
    assert row_problems(frame, now=datetime(2088, 3, 7)).tolist() == in_the_future
    assert len(clean_trips(frame, now=datetime(2088, 3, 8))) == 1 and clean_trips(frame, now=datetime(2024, 3, 9)).empty
    trips = spark.createDataFrame(frame)
    assert with_problems(trips, now=datetime(2088, 3, 7)).first()[REASON_COLUMN] == in_the_future[0]
    assert plausible_trips(trips, now=datetime(2088, 3, 8)).count() == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_row_is_judged_alone_whatever_its_batch(seed: int) -> None:
    # Spark's batches hold any mix of rows; labels need not be positions.
    frame = crafted().sample(frac=0.7, random_state=seed)
    frame.index = [f"trip-{i}" for i in range(len(frame))]
    assert row_problems(frame).tolist() == [EXPECTED[case] for case in frame["case"]]
    assert clean_trips(frame)["case"].tolist() == [0] * (0 in set(frame["case"]))


def test_spark_applies_the_same_schema(spark) -> None:
    trips = spark.createDataFrame(crafted()).repartition(3)
    checked = with_problems(trips).select("case", REASON_COLUMN).toPandas()
    assert dict(zip(checked["case"], checked[REASON_COLUMN])) == dict(enumerate(EXPECTED))
    assert [row["case"] for row in plausible_trips(trips).collect()] == [0]


def test_scoring_quarantines_bad_rows_and_scores_the_rest(spark) -> None:
    def score(trips):
        from pyspark.sql import functions as F

        return trips.withColumn("prediction", F.lit(1.0))

    scored = score_valid_rows(spark.createDataFrame(crafted()), score).toPandas().set_index("case").sort_index()
    assert scored.index.tolist() == list(range(len(CRAFTED)))  # nothing vanishes
    assert scored[REASON_COLUMN].tolist() == EXPECTED
    assert (scored["prediction"].isna() == scored[REASON_COLUMN].notna()).all()


def test_scoring_runs_each_row_through_the_contract_once(spark, monkeypatch) -> None:
    # Scored and quarantined rows come from one evaluation of the contract, not one per branch.
    rows = spark.sparkContext.accumulator(0)
    counted = counting(INPUT_CONTRACT, rows)
    check = steps.row_checks.with_problems
    monkeypatch.setattr(
        steps.row_checks, "with_problems", lambda trips, contract=None, now=None: check(trips, counted, now)
    )
    trips = spark.createDataFrame(crafted()).repartition(2)
    scored = score_valid_rows(trips, lambda valid: valid.withColumn("prediction", valid["trip_distance"] * 2))
    assert scored.count() == len(CRAFTED)
    assert sorted(scored.select("case").toPandas()["case"]) == list(range(len(CRAFTED)))
    assert rows.value == len(CRAFTED)


def test_plausible_trips_are_checked_once_whatever_is_computed_from_them(spark, monkeypatch) -> None:
    # Training counts, splits and collects the plausible trips: the contract runs once for all of it.
    rows = spark.sparkContext.accumulator(0)
    monkeypatch.setattr(steps.trips, "TRAINING_CONTRACT", counting(TRAINING_CONTRACT, rows))
    plausible = plausible_trips(spark.createDataFrame(crafted()).repartition(2))
    assert plausible.count() == 1
    assert [row["case"] for row in plausible.collect()] == [0]
    assert rows.value == len(CRAFTED)


def test_the_report_counts_rows_per_rule() -> None:
    report = quarantine_report(row_problems(crafted()))
    assert report.splitlines()[0].startswith("10 of 13 rows quarantined")
    assert "       2  trip_distance outside (0.0, 400.0)" in report

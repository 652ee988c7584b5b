"""Batch inference appends each run's predictions under a key; the table name is checked first."""

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from steps.predictions import PREDICTION_KEY, append_predictions, table_name_problem, unscored_trips


@pytest.fixture
def scored(spark):
    return spark.createDataFrame(
        [(2.0, 10001, 12.5, "3"), (5.5, 11430, 30.0, "3")],
        ["trip_distance", "pickup_zip", "prediction", "model_version"],
    )


def test_a_rerun_keeps_the_earlier_runs_predictions(spark, scored, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS history LOCATION '{tmp_path}'")
    first = append_predictions(scored, "history.predictions", table_format="parquet")
    second = append_predictions(scored, "history.predictions", table_format="parquet")

    table = spark.table("history.predictions").toPandas()
    assert first != second
    assert sorted(table["scoring_run_id"].value_counts().to_dict().items()) == sorted({first: 2, second: 2}.items())
    assert not table.duplicated(list(PREDICTION_KEY)).any()
    # The same trip gets the same record id in every run: its predictions can be compared over time.
    assert table.groupby("record_id")["scoring_run_id"].nunique().tolist() == [2, 2]


def test_a_run_scores_only_trips_its_model_version_has_not_scored(spark, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS incremental LOCATION '{tmp_path}'")
    table = "incremental.predictions"
    first_day = spark.createDataFrame([(2.0, 10001), (5.5, 11430)], ["trip_distance", "pickup_zip"])
    both_days = first_day.union(spark.createDataFrame([(1.5, 10002)], ["trip_distance", "pickup_zip"]))

    def run(trips, model_uri: str) -> int:
        new = unscored_trips(spark, trips, table, model_uri).cache()
        count = new.count()
        version = model_uri.rsplit("/", 1)[-1]
        scored = new.withColumn("prediction", new.trip_distance * 3).withColumn("model_version", F.lit(version))
        append_predictions(scored, table, table_format="parquet")
        return count

    assert run(first_day, "models:/fares/3") == 2  # no table yet: everything is new
    assert run(both_days, "models:/fares/3") == 1  # only the trip added since
    assert run(both_days, "models:/fares/3") == 0
    assert run(both_days, "models:/fares/4") == 3  # a new version scores every trip once
    history = spark.table(table).toPandas()
    assert len(history) == 6 and not history.duplicated(["record_id", "model_version"]).any()


@pytest.mark.parametrize("name", ["predictions", "my_schema.predictions", "staging.my_schema.predictions"])
def test_table_names_of_one_to_three_parts_are_accepted(name: str) -> None:
    assert table_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "delta.`/tmp/x`", "a.b.c.d", "prod.team a.predictions", "predictions;DROP"])
def test_other_table_names_are_refused_with_an_example(name: str) -> None:
    problem = table_name_problem(name)
    assert problem is not None and repr(name) in problem and "staging.my_schema.predictions" in problem


def test_a_refused_name_writes_nothing(scored) -> None:
    with pytest.raises(ValueError, match="output_table_name 'delta.`/tmp/x`'"):
        append_predictions(scored, "delta.`/tmp/x`", table_format="parquet")

"""Batch inference appends each run's predictions under a key; the table name is checked first."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

import steps.predictions
from model_spec.contract import INPUT_CONTRACT, PICKUP
from steps.predictions import (
    LATE_ARRIVALS_TASK_VALUE,
    PREDICTION_KEY,
    NothingScored,
    ScoringWindow,
    TooManyQuarantined,
    append_predictions,
    ci_table_problem,
    drop_table,
    late_arrivals,
    merge_condition,
    merge_statement,
    publish_late_arrivals,
    quarantined_share_problem,
    run_report,
    scoring_window,
    table_name_problem,
    unscored_trips,
    with_prediction_keys,
)


@pytest.fixture
def scored(spark):
    return spark.createDataFrame(
        [(2.0, 10001, 12.5, "3"), (5.5, 11430, 30.0, "3")],
        ["trip_distance", "pickup_zip", "prediction", "model_version"],
    )


def test_a_rerun_keeps_the_earlier_runs_predictions(spark, scored, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS history LOCATION '{tmp_path}'")
    first = append_predictions(scored, "history.predictions", table_format="parquet")
    rescored = scored.withColumn("model_version", F.lit("4"))
    second = append_predictions(rescored, "history.predictions", table_format="parquet")

    table = spark.table("history.predictions").toPandas()
    assert first != second
    assert sorted(table["scoring_run_id"].value_counts().to_dict().items()) == sorted({first: 2, second: 2}.items())
    assert not table.duplicated(list(PREDICTION_KEY)).any()
    # The same trip gets the same record id in every run: its predictions can be compared over time.
    assert table.groupby("record_id")["scoring_run_id"].nunique().tolist() == [2, 2]


def test_writing_a_records_prediction_by_a_version_again_adds_nothing(spark, scored, tmp_path: Path) -> None:
    """A retried run (same run id) or another run writing the same records and version adds no row."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS retried LOCATION '{tmp_path}'")
    append_predictions(scored, "retried.predictions", run_id="job-run-7", table_format="parquet")
    append_predictions(scored, "retried.predictions", run_id="job-run-7", table_format="parquet")
    append_predictions(scored, "retried.predictions", table_format="parquet")
    table = spark.table("retried.predictions").toPandas()
    assert len(table) == 2 and set(table["scoring_run_id"]) == {"job-run-7"}


def test_two_runs_started_together_store_each_prediction_once(spark, tmp_path: Path) -> None:
    """Both runs find the same trips unscored before either writes; the table keeps one prediction each."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS concurrent LOCATION '{tmp_path}'")
    table = "concurrent.predictions"
    _run(spark, _trips(spark, ("2024-03-01 08:00:00", 2.0)), table, "3")
    trips = _trips(spark, ("2024-03-01 08:00:00", 2.0), ("2024-03-01 09:00:00", 5.5))
    first, second = (unscored_trips(spark, trips, table).toPandas() for _ in range(2))
    for new in (first, second):
        scored = spark.createDataFrame(new).withColumn("prediction", F.lit(1.0)).withColumn("model_version", F.lit("3"))
        append_predictions(scored, table, table_format="parquet")
    history = spark.table(table).toPandas()
    assert len(history) == 2 and not history.duplicated(["record_id", "model_version"]).any()


def test_a_records_id_does_not_change_when_its_label_arrives(spark, tmp_path: Path) -> None:
    """The id is over the model's inputs only: the true fare (or any column the model does not read)
    added to the input later leaves the record what it was, so it is not scored again."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS labelled LOCATION '{tmp_path}'")
    table = "labelled.predictions"
    trips = _trips(spark, ("2024-03-01 08:00:00", 2.0), ("2024-03-01 09:00:00", 5.5))
    assert _run(spark, trips, table, "3") == 2
    with_label = trips.withColumn("fare_amount", F.lit(9.5)).withColumn("payment_type", F.lit(1))
    assert unscored_trips(spark, with_label, table).count() == 0
    keyed = with_prediction_keys(
        with_label.withColumn("prediction", F.lit(1.0)).withColumn("model_version", F.lit("3"))
    )
    assert {row.record_id for row in keyed.collect()} == {row.record_id for row in spark.table(table).collect()}


def test_a_records_id_does_not_depend_on_the_session_time_zone(spark) -> None:
    """A cluster set to another time zone must not see every scored trip as new (and score it again)."""
    trips = spark.createDataFrame(
        [(datetime(2016, 2, 14, 16, 52, 13), 2.0, 10001)], ["tpep_pickup_datetime", "trip_distance", "pickup_zip"]
    )
    ids = {}
    zone = spark.conf.get("spark.sql.session.timeZone")
    try:
        for name in ("UTC", "America/New_York"):
            spark.conf.set("spark.sql.session.timeZone", name)
            ids[name] = with_prediction_keys(
                trips.withColumn("prediction", F.lit(12.5)).withColumn("model_version", F.lit("3"))
            ).first()["record_id"]
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    assert ids["UTC"] == ids["America/New_York"]


def test_a_record_id_needs_an_input_column(spark) -> None:
    with pytest.raises(ValueError, match="no input column of the model"):
        unscored_trips(spark, spark.createDataFrame([(9.5,)], ["fare_amount"]), "nowhere.predictions")


def test_trips_that_arrive_after_the_grace_window_are_counted_and_reported(spark, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS counted LOCATION '{tmp_path}'")
    table = "counted.predictions"
    scored_early = ("2024-03-10 08:00:00", 1.0)
    _run(spark, _trips(spark, scored_early, ("2024-03-20 08:00:00", 2.0)), table, "3")
    late = ("2024-03-12 08:00:00", 4.0)  # 8 days before the newest scored trip, never scored
    trips = _trips(spark, scored_early, late, ("2024-03-20 08:00:00", 2.0), ("2024-03-21 08:00:00", 3.0))
    assert _run(spark, trips, table, "3") == 1
    arrivals = late_arrivals(spark, trips, table)
    assert [row.trip_distance for row in arrivals.collect()] == [4.0]
    assert late_arrivals(spark, trips, "counted.no_table_yet").count() == 0


def test_late_arrivals_reach_the_operator_as_a_task_value_and_in_the_run_report(
    spark, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS reported LOCATION '{tmp_path}'")
    table = "reported.predictions"
    _run(spark, _trips(spark, ("2024-03-20 08:00:00", 2.0)), table, "3")
    trips = _trips(spark, ("2024-03-20 08:00:00", 2.0), ("2024-03-12 08:00:00", 4.0), ("2024-03-21 08:00:00", 3.0))
    task_values = _TaskValues()
    late = publish_late_arrivals(late_arrivals(spark, trips, table), task_values)
    assert late == 1 and task_values.values == {LATE_ARRIVALS_TASK_VALUE: 1}
    assert "Late arrivals: 1 trips picked up more than 7 days" in capsys.readouterr().out
    rows = spark.createDataFrame(
        [(2.0, 6.0, "3", None)],
        "trip_distance double, prediction double, model_version string, quarantine_reason string",
    )
    run_id = append_predictions(rows, "reported.run", table_format="parquet")
    report = run_report(spark.table("reported.run"), run_id, late=late)
    assert report.splitlines()[0] == "0 of 1 rows quarantined (not scored, kept with quarantine_reason)"
    assert report.splitlines()[-1].startswith("Late arrivals: 1 trips")
    # None late: the task value says 0 and the report has no late-arrival line.
    assert publish_late_arrivals(late_arrivals(spark, trips, "reported.no_table_yet"), task_values) == 0
    assert task_values.values == {LATE_ARRIVALS_TASK_VALUE: 0}
    assert "Late arrivals: none" in capsys.readouterr().out
    assert "Late arrivals" not in run_report(spark.table("reported.run"), run_id)


class _TaskValues:
    """``dbutils.jobs.taskValues``' ``set``, recording what a job task would publish."""

    def __init__(self) -> None:
        self.values: dict = {}

    def set(self, key: str, value) -> None:
        self.values[key] = value


def test_late_arrivals_are_looked_for_in_the_lookback_before_the_window_only(spark, tmp_path: Path) -> None:
    """Counting reads a bounded period of the table, not its history: the cost stays the same as it grows."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS lookback LOCATION '{tmp_path}'")
    table = "lookback.predictions"
    _run(spark, _trips(spark, ("2024-01-01 08:00:00", 1.0), ("2024-03-20 08:00:00", 2.0)), table, "3")
    # The window starts on 2024-03-13 08:00; the lookback 30 days before it, on 2024-02-12 08:00.
    never_scored = _trips(spark, ("2024-03-01 08:00:00", 4.0), ("2024-02-01 08:00:00", 5.0))
    window = scoring_window(spark, never_scored, table)
    assert window.start == datetime(2024, 3, 13, 8, tzinfo=timezone.utc)
    late = late_arrivals(spark, never_scored, table, window=window)
    assert [row.trip_distance for row in late.collect()] == [4.0]
    # Both sides of the comparison read the lookback only: the filter reaches the table's scan.
    assert re.search(r"PushedFilters: \[[^]]*GreaterThanOrEqual\(tpep_pickup_datetime", _plan(late))


def _plan(frame) -> str:
    return frame._jdf.queryExecution().executedPlan().toString()


def test_the_merge_compares_the_runs_window_of_the_table_and_rows_without_a_pickup_time(spark) -> None:
    """Delta is not installed here: the MERGE's ON clause is checked as written and run as the
    anti join that decides what a MERGE's ``WHEN NOT MATCHED`` inserts."""
    window = ScoringWindow(datetime(2024, 3, 13, 8, tzinfo=timezone.utc))
    statement = merge_statement("staging.fares.predictions", "new_rows", window)
    on = re.fullmatch(
        r"MERGE WITH SCHEMA EVOLUTION INTO staging\.fares\.predictions AS target USING new_rows AS source "
        r"ON (.*) WHEN NOT MATCHED THEN INSERT \*",
        statement,
    ).group(1)
    assert on == (
        "target.record_id = source.record_id AND target.model_version = source.model_version AND "
        "(target.tpep_pickup_datetime IS NULL OR CAST(target.tpep_pickup_datetime AS TIMESTAMP) >= "
        "timestamp_seconds(1710316800))"
    )
    stored = spark.createDataFrame(
        [("old", "2024-03-01 08:00:00"), ("recent", "2024-03-20 08:00:00"), ("no pickup", None)],
        "record_id string, tpep_pickup_datetime string",
    ).select("record_id", F.lit("3").alias("model_version"), F.col("tpep_pickup_datetime").cast("timestamp"))
    stored.createOrReplaceTempView("stored_predictions")
    # A retried run writes its rows again: the window's and the one without a pickup time match.
    stored.where("record_id != 'old'").union(
        spark.createDataFrame([("new", "3", datetime(2024, 3, 21, 8))], stored.schema)
    ).createOrReplaceTempView("new_rows")
    inserted = spark.sql(f"SELECT source.* FROM new_rows AS source LEFT ANTI JOIN stored_predictions AS target ON {on}")
    assert [row.record_id for row in inserted.collect()] == ["new"]
    assert merge_statement("staging.fares.predictions", "new_rows").endswith(
        "ON target.record_id = source.record_id AND target.model_version = source.model_version "
        "WHEN NOT MATCHED THEN INSERT *"
    )


def test_a_model_that_does_not_read_the_pickup_time_compares_the_whole_table(
    spark, tmp_path: Path, monkeypatch
) -> None:
    """A record's id is then over its other inputs: the same record picked up again may match a row
    stored before any window, so neither the selection nor the MERGE may leave the table's past out."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS no_pickup LOCATION '{tmp_path}'")
    table = "no_pickup.predictions"
    monkeypatch.setattr(steps.predictions, "INPUT_CONTRACT", INPUT_CONTRACT.remove_columns([PICKUP]))
    _run(spark, _trips(spark, ("2024-03-01 08:00:00", 2.0), ("2024-03-20 08:00:00", 5.5)), table, "3")
    again = _trips(spark, ("2024-03-21 08:00:00", 2.0))  # the first trip's inputs, a later pickup
    window = scoring_window(spark, again, table)
    assert window == ScoringWindow() and "pickup" not in merge_condition(window)
    assert unscored_trips(spark, again, table, window=window).count() == 0


def test_a_retried_write_adds_no_row_again_inside_the_window_nor_without_a_pickup_time(spark, tmp_path: Path) -> None:
    """The parquet path leaves out what the MERGE's ON clause matches: a row without a pickup time
    (quarantined, stored) must match itself, or every retry would store it once more."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS windowed LOCATION '{tmp_path}'")
    table = "windowed.predictions"
    _run(spark, _trips(spark, ("2024-03-20 08:00:00", 2.0)), table, "3")
    trips = _trips(spark, ("2024-03-20 08:00:00", 2.0), ("2024-03-21 08:00:00", 3.0), (None, 4.0))
    window = scoring_window(spark, trips, table)
    new = unscored_trips(spark, trips, table, window=window)
    scored = new.withColumn("prediction", F.lit(1.0)).withColumn("model_version", F.lit("3"))
    for _ in range(2):
        append_predictions(scored, table, table_format="parquet", window=window)
    history = spark.table(table).toPandas()
    assert len(history) == 3 and not history.duplicated(["record_id", "model_version"]).any()
    assert history["tpep_pickup_datetime"].isna().sum() == 1
    assert unscored_trips(spark, trips, table, window=scoring_window(spark, trips, table)).count() == 0


def _trips(spark, *rows: tuple[str, float]):
    """Trips of (pickup time, distance)."""
    return spark.createDataFrame(list(rows), ["tpep_pickup_datetime", "trip_distance"]).withColumn(
        "tpep_pickup_datetime", F.col("tpep_pickup_datetime").cast("timestamp")
    )


def _run(spark, trips, table: str, version: str) -> int:
    """One batch-inference run with a stand-in model, as the notebooks run it (one window); how many trips it scored."""
    window = scoring_window(spark, trips, table)
    new = unscored_trips(spark, trips, table, window=window)
    scored = new.withColumn("prediction", new.trip_distance * 3).withColumn("model_version", F.lit(version))
    run_id = append_predictions(scored, table, table_format="parquet", window=window)
    return spark.table(table).where(F.col("scoring_run_id") == run_id).count()


def test_a_run_scores_only_trips_no_version_has_scored(spark, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS incremental LOCATION '{tmp_path}'")
    table = "incremental.predictions"
    first_day = _trips(spark, ("2024-03-01 08:00:00", 2.0), ("2024-03-01 09:00:00", 5.5))
    both_days = first_day.union(_trips(spark, ("2024-03-02 08:00:00", 1.5)))

    assert _run(spark, first_day, table, "3") == 2  # no table yet: everything is new
    assert _run(spark, both_days, table, "3") == 1  # only the trip added since
    assert _run(spark, both_days, table, "3") == 0
    # A new champion scores the trips that arrive from now on, not the history again.
    assert _run(spark, both_days, table, "4") == 0
    assert _run(spark, both_days.union(_trips(spark, ("2024-03-03 08:00:00", 4.0))), table, "4") == 1
    history = spark.table(table).toPandas()
    assert len(history) == 4 and not history.duplicated(["record_id"]).any()


def test_late_trips_are_scored_within_the_grace_window_only(spark, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS late LOCATION '{tmp_path}'")
    table = "late.predictions"
    _run(spark, _trips(spark, ("2024-03-20 08:00:00", 2.0)), table, "3")
    within = ("2024-03-20 08:00:00", 2.0), ("2024-03-14 08:00:00", 3.0)  # 6 days before the newest
    assert _run(spark, _trips(spark, *within), table, "3") == 1
    too_late = _trips(spark, *within, ("2024-03-12 08:00:00", 4.0))  # 8 days before
    assert _run(spark, too_late, table, "3") == 0
    assert unscored_trips(spark, too_late, table, grace=timedelta(days=9)).count() == 1


def test_a_pickup_in_the_future_does_not_stop_later_scoring(spark, tmp_path: Path) -> None:
    """A glitched meter clock (year 2088) stored in the table leaves the window at today's trips."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS glitch LOCATION '{tmp_path}'")
    table = "glitch.predictions"
    today = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    assert (
        _run(spark, _trips(spark, (str(today - timedelta(days=1)), 2.0), ("2088-03-01 08:00:00", 3.0)), table, "3") == 2
    )
    assert _run(spark, _trips(spark, (str(today), 1.5)), table, "3") == 1


class _ConnectLikeSpark:
    """A session whose ``table`` is lazy, as on Spark Connect (serverless): a missing table
    raises only when its result is used, never when ``table`` is called."""

    def __init__(self, spark) -> None:
        self._spark = spark
        self.catalog = spark.catalog

    def table(self, name: str):
        if self._spark.catalog.tableExists(name):
            return self._spark.table(name)
        return _UnresolvedTable(name)


class _UnresolvedTable:
    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str):
        raise RuntimeError(f"[TABLE_OR_VIEW_NOT_FOUND] {self.name} (raised when the plan is analysed)")


def test_the_first_run_does_not_rely_on_spark_table_raising_eagerly(spark, tmp_path: Path) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS first_run LOCATION '{tmp_path}'")
    trips = _trips(spark, ("2024-03-01 08:00:00", 2.0))
    assert unscored_trips(_ConnectLikeSpark(spark), trips, "first_run.predictions").count() == 1


def _counts(scored: int, **quarantined: int) -> pd.Series:
    return pd.Series({None: scored, **quarantined}, dtype="int64")


def test_a_run_fails_when_more_than_the_allowed_share_is_quarantined(spark, tmp_path: Path) -> None:
    assert quarantined_share_problem(_counts(95, **{"missing trip_distance": 5})) is None
    assert quarantined_share_problem(_counts(0)) is None
    problem = quarantined_share_problem(_counts(94, **{"missing trip_distance": 6}))
    assert problem is not None and "6 of 100 rows (6.0%)" in problem and "MAX_QUARANTINED_SHARE = 5%" in problem

    spark.sql(f"CREATE DATABASE IF NOT EXISTS broken_feed LOCATION '{tmp_path}'")
    rows = spark.createDataFrame(
        [(2.0, None, "3", "missing tpep_pickup_datetime")] * 3 + [(2.0, 6.0, "3", None)],
        "trip_distance double, prediction double, model_version string, quarantine_reason string",
    )
    run_id = append_predictions(rows, "broken_feed.predictions", table_format="parquet")
    with pytest.raises(TooManyQuarantined, match="3 of 4 rows"):
        run_report(spark.table("broken_feed.predictions"), run_id)
    assert spark.table("broken_feed.predictions").count() == 4  # kept, to be looked at


def test_the_ci_integration_test_fails_when_its_run_scored_nothing_and_drops_its_table(
    spark, scored, tmp_path: Path
) -> None:
    """A second run over the same fixed trips scores none (unscored_trips): a scheduled run passes
    with that, the CI integration test (require_scored) must not; its own table is dropped after."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS ci_run LOCATION '{tmp_path}'")
    table = "ci_run.integration_test_predictions_42_1"
    scored = scored.withColumn("quarantine_reason", F.lit(None).cast("string"))
    first = append_predictions(scored, table, table_format="parquet")
    assert "0 of 2 rows quarantined" in run_report(spark.table(table), first, require_scored=True)
    nothing_new = unscored_trips(spark, scored.drop("prediction", "model_version", "quarantine_reason"), table)
    assert nothing_new.count() == 0
    second = append_predictions(scored.limit(0), table, table_format="parquet")
    assert "0 of 0 rows" in run_report(spark.table(table), second)  # a scheduled run without new trips
    with pytest.raises(NothingScored, match=f"run {second} scored no row"):
        run_report(spark.table(table), second, require_scored=True)
    drop_table(spark, table)
    assert not spark.catalog.tableExists(table)
    drop_table(spark, table)  # dropping again (cleanup after a failure before the write) is no error
    with pytest.raises(ValueError, match="output_table_name"):
        drop_table(spark, "delta.`/tmp/x`")


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


@pytest.mark.parametrize(
    "name",
    [
        "integration_test_predictions_7001_1",
        "my_project_integration_test_predictions_42",
        "test.fs.integration_test_predictions_7001_1",
    ],
)
def test_ci_run_tables_may_be_dropped(name: str) -> None:
    assert ci_table_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["staging.fs.predictions", "predictions", "integration_test_predictions_", "integration_test_predictions_x.y"],
)
def test_env_test_refuses_any_other_output_table(name: str) -> None:
    problem = ci_table_problem(name)
    assert problem is not None and repr(name) in problem and "output_table_name" in problem
    assert "integration_test_predictions_7001_1" in problem


def test_a_mistyped_ci_output_table_is_not_dropped(spark, tmp_path: Path) -> None:
    """A mistyped output_table_name in env test (a staging table) must survive the drop after the test."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS kept LOCATION '{tmp_path}'")
    spark.createDataFrame([(1,)], ["x"]).write.format("parquet").saveAsTable("kept.predictions")
    with pytest.raises(ValueError, match="not a CI run's own predictions table"):
        drop_table(spark, "kept.predictions")
    assert spark.catalog.tableExists("kept.predictions")

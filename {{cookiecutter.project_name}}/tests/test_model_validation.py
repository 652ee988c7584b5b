"""ModelValidation's logic with stand-in scorers, so it runs for either project variant."""

from datetime import datetime, timedelta

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from pyspark.sql import functions as F

import steps.trips
from model_spec.contract import TRAINING_CONTRACT
from model_spec.metrics import compute_metrics
from steps import model_validation
from steps.deploy import DeploymentRefused, deploy
from steps.model_validation import held_out_metrics, run_model_validation
from steps.split import held_out_cutoff, split_by_pickup_time
from steps.trips import clean_trips
from steps.validation import (
    VALIDATION_STATUS_TAG,
    ModelValidationFailed,
    RunMode,
    record_training_cutoff,
)
from tests import test_deploy
from tests.contract_counting import counting
from tests.split_test import split_step

SEEN = "seen_by_scorer"
# Where the split of trips_query's 100 plausible trips starts its test period: the 0.9 quantile
# of minutes 0-99 after 2024-03-01 is minute 89.1, rounded up to a whole second.
TRAINING_CUTOFF = "2024-03-01 01:29:06"


def register(name: str, cutoff: str = TRAINING_CUTOFF) -> str:
    """A model version of ``name`` as notebooks/Train registers it: tagged with its training cutoff."""
    uri = test_deploy.register(name)
    record_training_cutoff(name, uri.split("/")[2], cutoff)
    return uri


def scorer(offset: float, seen: list = None):
    """A 'model' predicting the true fare plus ``offset``; records which trips it was given."""

    def score_trips(spark, model_uri, trips):
        if seen is not None:
            seen.append(trips)
        return trips.withColumn("prediction", (F.col("fare_amount") + offset).cast("double"))

    return score_trips


def by_uri(offsets: dict):
    """Scores each model URI with its own offset: a candidate and a deployed baseline."""

    def score_trips(spark, model_uri, trips):
        return scorer(offsets[model_uri])(spark, model_uri, trips)

    return score_trips


@pytest.fixture
def trips_query(spark) -> str:
    """100 complete trips on consecutive minutes, plus one implausible (negative fare) among the newest."""
    start = datetime(2024, 3, 1)

    def trip(pickup: datetime, fare: float) -> tuple:
        return (pickup, pickup + timedelta(minutes=10), 2.0, 10001, 10002, fare)

    rows = [trip(start + timedelta(minutes=i), 10.0 + i % 7) for i in range(100)]
    rows.append(trip(start + timedelta(minutes=99, seconds=30), -4.0))
    columns = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "trip_distance", "pickup_zip", "dropoff_zip"]
    columns.append("fare_amount")
    spark.createDataFrame(rows, columns).createOrReplaceTempView("validation_trips")
    return "SELECT * FROM validation_trips"


def tag(uri: str):
    name, version = uri.split("/")[1:]
    return MlflowClient().get_model_version(name, version).tags.get(VALIDATION_STATUS_TAG)


def run(spark, uri, query, mode, score_trips, baseline=None):
    name, version = uri.split("/")[1:]
    return run_model_validation(spark, score_trips, uri, name, version, query, mode, baseline_model_uri=baseline)


def test_good_model_passes_and_the_verdict_is_a_tag(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    result = run(spark, uri, trips_query, RunMode.ENABLED, scorer(1.0))
    assert result.passed and result.metrics["root_mean_squared_error"] == pytest.approx(1.0)
    assert tag(uri) == "PASSED"
    assert "Model Validation Status: PASSED" in MlflowClient().get_model_version("fares", "1").description


def test_only_the_most_recent_plausible_trips_are_scored(spark, mlflow_store, trips_query) -> None:
    seen = []
    run(spark, register("fares"), trips_query, RunMode.ENABLED, scorer(0.0, seen))
    scored = seen[0].toPandas()
    assert len(scored) == 10  # the newest tenth of the 100 plausible trips
    assert scored["tpep_pickup_datetime"].min() >= datetime(2024, 3, 1, 1, 29)
    assert (scored["fare_amount"] > 0).all()


def test_only_the_held_out_period_goes_through_the_contract_once(spark, mlflow_store, trips_query, monkeypatch) -> None:
    # The period is filtered before the contract's UDF, and the candidate and the deployed model
    # read the same checked trips: 11 rows (minutes 90 to 99 and the implausible one) checked once.
    rows = spark.sparkContext.accumulator(0)
    monkeypatch.setattr(steps.trips, "TRAINING_CONTRACT", counting(TRAINING_CONTRACT, rows))
    deployed, candidate = register("fares"), register("fares")
    run(spark, candidate, trips_query, RunMode.ENABLED, by_uri({deployed: 0.0, candidate: 0.0}), baseline=deployed)
    assert rows.value == 11


def test_the_trips_from_the_versions_training_cutoff_on_are_scored(spark, mlflow_store, trips_query) -> None:
    seen = []
    run(spark, register("fares", cutoff="2024-03-01 01:35:00"), trips_query, RunMode.ENABLED, scorer(0.0, seen))
    scored = seen[0].toPandas()
    assert len(scored) == 5  # minutes 95 to 99, not the newest tenth of the query's trips
    assert scored["tpep_pickup_datetime"].min() == datetime(2024, 3, 1, 1, 35)


def test_trips_more_than_the_held_out_days_after_the_cutoff_are_not_scored(spark, mlflow_store, trips_query) -> None:
    # The validation table has grown since training: a trip a week and a minute after the cutoff
    # lies beyond the held-out period (steps.trips.HELD_OUT_DAYS), one exactly a week after within it.
    cutoff = datetime(2024, 3, 1, 1, 35)
    week = timedelta(days=steps.trips.HELD_OUT_DAYS)
    later = spark.createDataFrame(
        [
            (pickup, pickup + timedelta(minutes=10), 2.0, 10001, 10002, 12.0)
            for pickup in (cutoff + week, cutoff + week + timedelta(minutes=1))
        ],
        spark.sql(trips_query).schema,
    )
    spark.sql(trips_query).unionByName(later).createOrReplaceTempView("grown_trips")
    seen = []
    run(spark, register("fares", cutoff=str(cutoff)), "SELECT * FROM grown_trips", RunMode.ENABLED, scorer(0.0, seen))
    scored = seen[0].toPandas()
    assert len(scored) == 6  # minutes 95 to 99 and the trip exactly a week after the cutoff
    assert scored["tpep_pickup_datetime"].max() == cutoff + week


def test_validation_of_a_larger_table_scores_exactly_the_recipes_test_split(spark, mlflow_store, trips) -> None:
    # The recipe ingests only the newest trips (LIMIT on Databricks); the validation table has them all.
    ingested = trips[trips["tpep_pickup_datetime"] >= trips["tpep_pickup_datetime"].quantile(0.5)]
    test_split = clean_trips(ingested[split_by_pickup_time(ingested) == "TEST"])
    spark.createDataFrame(trips).createOrReplaceTempView("all_trips")
    seen = []
    uri = register("fares", cutoff=held_out_cutoff(*split_step(ingested)))
    run(spark, uri, "SELECT * FROM all_trips", RunMode.DRY_RUN, scorer(0.0, seen))
    scored = seen[0].toPandas()
    assert sorted(scored["tpep_pickup_datetime"]) == sorted(test_split["tpep_pickup_datetime"])


def test_a_version_without_a_training_cutoff_fails(spark, mlflow_store, trips_query) -> None:
    uri = test_deploy.register("fares")
    with pytest.raises(ModelValidationFailed, match="training_cutoff"):
        run(spark, uri, trips_query, RunMode.DRY_RUN, scorer(0.0))
    assert tag(uri) == "FAILED"


def test_enabled_mode_blocks_a_bad_model(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    with pytest.raises(ModelValidationFailed):
        run(spark, uri, trips_query, RunMode.ENABLED, scorer(50.0))
    assert tag(uri) == "FAILED"


def test_dry_run_does_not_raise_but_deployment_refuses_the_failed_version(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    assert not run(spark, uri, trips_query, RunMode.DRY_RUN, scorer(50.0)).passed
    assert tag(uri) == "FAILED"
    with pytest.raises(DeploymentRefused, match="no passing validation"):
        deploy(uri, "staging")


@pytest.mark.parametrize("mode", [RunMode.DRY_RUN, RunMode.ENABLED])
def test_a_model_that_cannot_score_fails_in_every_mode(spark, mlflow_store, trips_query, mode) -> None:
    uri = register("fares")

    def broken(spark, model_uri, trips):
        raise RuntimeError("input schema mismatch")

    with pytest.raises(ModelValidationFailed, match="could not score"):
        run(spark, uri, trips_query, mode, broken)
    assert tag(uri) == "FAILED"


@pytest.mark.parametrize("mode", [RunMode.DRY_RUN, RunMode.ENABLED])
def test_a_deployed_model_that_cannot_be_scored_fails_the_candidate(spark, mlflow_store, trips_query, mode) -> None:
    deployed, candidate = register("fares"), register("fares")

    def only_the_candidate_scores(spark, model_uri, trips):
        if model_uri == deployed:
            raise RuntimeError("the deployed model expects other input columns")
        return scorer(0.0)(spark, model_uri, trips)

    with pytest.raises(ModelValidationFailed, match=f"could not score the deployed model {deployed}: the deployed"):
        run(spark, candidate, trips_query, mode, only_the_candidate_scores, baseline=deployed)
    assert tag(candidate) == "FAILED"


def test_disabled_mode_records_that_validation_was_skipped(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    assert run(spark, uri, trips_query, RunMode.DISABLED, scorer(50.0)) is None
    assert tag(uri) == "DISABLED"


def test_a_candidate_worse_than_the_deployed_model_fails_though_within_thresholds(
    spark, mlflow_store, trips_query
) -> None:
    deployed, candidate = register("fares"), register("fares")
    offsets = {deployed: 0.5, candidate: 2.0}  # both far inside the thresholds
    result = run(spark, candidate, trips_query, RunMode.DRY_RUN, by_uri(offsets), baseline=deployed)
    assert not result.passed and "root_mean_squared_error" in result.failures
    assert result.baseline["root_mean_squared_error"] == pytest.approx(0.5)
    assert "deployed: 0.5000" in result.report()


def test_a_candidate_as_good_as_the_deployed_model_passes(spark, mlflow_store, trips_query) -> None:
    deployed, candidate = register("fares"), register("fares")
    offsets = {deployed: 2.0, candidate: 2.0}
    assert run(spark, candidate, trips_query, RunMode.ENABLED, by_uri(offsets), baseline=deployed).passed


def test_the_held_out_metrics_are_the_models_own_on_unequal_errors(spark) -> None:
    targets, predictions = [4.0, 10.0, 0.5, 30.0], [6.0, 9.0, 3.0, 20.0]
    frame = spark.createDataFrame(list(zip(targets, predictions)), ["fare_amount", "prediction"])
    expected = compute_metrics(pd.Series(predictions), pd.Series(targets))
    assert held_out_metrics(frame) == pytest.approx(expected)


def test_more_held_out_trips_than_the_driver_takes_are_refused(spark, monkeypatch) -> None:
    monkeypatch.setattr(model_validation, "MAX_VALIDATION_ROWS", 3)
    frame = spark.createDataFrame([(10.0, 11.0)] * 4, ["fare_amount", "prediction"])
    with pytest.raises(ValueError, match="MAX_VALIDATION_ROWS"):
        held_out_metrics(frame)

"""ModelValidation's logic with a stand-in scorer, so it runs for either project variant."""

import pytest
from mlflow.tracking import MlflowClient
from pyspark.sql import functions as F

from steps.model_validation import run_model_validation
from steps.validation import ModelValidationFailed, RunMode
from tests.test_deploy import register


def scorer(offset: float):
    def score_trips(spark, model_uri, trips):
        return trips.withColumn("prediction", (F.col("fare_amount") + offset).cast("double"))

    return score_trips


@pytest.fixture
def trips_query(spark) -> str:
    spark.createDataFrame([(10.0,), (20.0,), (30.0,)], ["fare_amount"]).createOrReplaceTempView("validation_trips")
    return "SELECT * FROM validation_trips"


def description(uri: str) -> str:
    name, version = uri.split("/")[1:]
    return MlflowClient().get_model_version(name, version).description


def run(spark, uri, query, mode, offset):
    name, version = uri.split("/")[1:]
    return run_model_validation(spark, scorer(offset), uri, name, version, query, mode)


def test_good_model_passes_and_is_recorded(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    result = run(spark, uri, trips_query, RunMode.ENABLED, offset=1.0)
    assert result.passed and result.metrics["root_mean_squared_error"] == pytest.approx(1.0)
    assert "Model Validation Status: SUCCESS" in description(uri)


def test_enabled_mode_blocks_a_bad_model(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    with pytest.raises(ModelValidationFailed):
        run(spark, uri, trips_query, RunMode.ENABLED, offset=50.0)
    assert "Model Validation Status: FAILURE" in description(uri)


def test_dry_run_reports_but_never_raises(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    assert not run(spark, uri, trips_query, RunMode.DRY_RUN, offset=50.0).passed
    assert run(spark, uri, "SELECT 1 AS no_fare", RunMode.DRY_RUN, offset=0.0) is None
    assert description(uri).count("FAILURE") == 2


def test_disabled_mode_does_nothing(spark, mlflow_store, trips_query) -> None:
    uri = register("fares")
    assert run(spark, uri, trips_query, RunMode.DISABLED, offset=50.0) is None
    assert not description(uri)

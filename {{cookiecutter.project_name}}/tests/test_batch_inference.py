"""Batch inference resolves the deployed version once and writes it beside every prediction."""

import pytest
from pyspark.sql import functions as F

from steps.batch_inference import deployed_model_version_uri, score_with_version
from steps.deploy import deploy
from tests.test_deploy import register


def test_predictions_carry_the_version_that_made_them(spark, mlflow_store) -> None:
    register("fares", "PASSED")
    deploy(register("fares", "PASSED"), "prod")
    uri = deployed_model_version_uri("fares", "prod")
    assert uri == "models:/fares/2"
    trips = spark.createDataFrame([(10.0,), (20.0,)], ["fare_amount"])
    seen = []

    def score_trips(spark, model_uri, trips):
        seen.append(model_uri)
        return trips.withColumn("prediction", F.col("fare_amount") * 1.0)

    scored = score_with_version(spark, score_trips, uri, trips)
    assert seen == ["models:/fares/2"]
    assert [row["model_version"] for row in scored.collect()] == ["2", "2"]


def test_an_environment_without_a_deployed_version_is_an_error_that_says_so(mlflow_store) -> None:
    register("fares", "PASSED")
    with pytest.raises(RuntimeError, match="No version of fares is deployed to staging"):
        deployed_model_version_uri("fares", "staging")

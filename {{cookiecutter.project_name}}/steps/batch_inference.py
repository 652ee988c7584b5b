"""Batch inference: score trips with the version an environment serves, and say which version.

The model is resolved once, to a concrete version, before scoring; every prediction row
carries that version in ``model_version``, so a prediction table always tells which model
made it, even when a deployment lands while the job runs.
"""

from __future__ import annotations

from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from steps.deploy import deployed_version, parse_model_version_uri

ScoreTrips = Callable[[SparkSession, str, DataFrame], DataFrame]
VERSION_COLUMN = "model_version"


def deployed_model_version_uri(model_name: str, env: str) -> str:
    """``models:/<name>/<version>`` of the version ``env`` serves; an error names the fix if there is none."""
    deployed = deployed_version(model_name, env)
    if deployed is None:
        raise RuntimeError(
            f"No version of {model_name} is deployed to {env}: run the training job (or steps/deploy.py) first"
        )
    return f"models:/{model_name}/{deployed.version}"


def score_with_version(spark: SparkSession, score_trips: ScoreTrips, model_uri: str, trips: DataFrame) -> DataFrame:
    """``score_trips`` of a ``models:/<name>/<version>`` URI, plus a STRING column ``model_version``."""
    _, version = parse_model_version_uri(model_uri)
    return score_trips(spark, model_uri, trips).withColumn(VERSION_COLUMN, F.lit(version))

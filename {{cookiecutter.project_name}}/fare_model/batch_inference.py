"""Batch scoring with the ``champion`` version: the body of notebooks/BatchInference.

The alias is resolved to a version number once, and that exact version both supplies the
input columns (its signature) and scores (a Spark pandas UDF), so a deployment during the
job cannot mix two models; every prediction carries the version that made it.
"""

from __future__ import annotations

import logging

import mlflow
from mlflow.models import get_model_info
from mlflow.tracking import MlflowClient
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from fare_model.registry import CHAMPION, model_version_uri

PREDICTION_COLUMN = "prediction"
MODEL_VERSION_COLUMN = "model_version"


def resolve_alias(model_name: str, alias: str = CHAMPION) -> str:
    """``models:/<name>/<version>`` of the version that holds ``alias`` now.

    Raises ``mlflow.exceptions.MlflowException`` when no version holds it (nothing deployed yet).
    """
    version = MlflowClient().get_model_version_by_alias(model_name, alias).version
    return model_version_uri(model_name, str(version))


def _spark_udf(spark: SparkSession, model_uri: str):
    """The model as a Spark UDF that runs in the cluster's own Python environment.

    ``env_manager="local"`` is deliberate: the notebooks install requirements.txt, the same
    pins the model was logged with, so rebuilding an environment per job would only cost
    minutes. MLflow warns about that choice on every call; the warning is silenced here.
    """
    logger = logging.getLogger("mlflow.pyfunc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return mlflow.pyfunc.spark_udf(spark, model_uri, result_type="double", env_manager="local")
    finally:
        logger.setLevel(level)


def score_trips(spark: SparkSession, model_uri: str, trips: DataFrame) -> DataFrame:
    """``trips`` plus DOUBLE ``prediction`` and STRING ``model_version`` from ``model_uri``.

    ``model_uri`` names one version (see ``resolve_alias``). Extra input columns (such as
    the true fare) pass through. Raises ``ValueError`` when ``trips`` lacks a column of
    the model's signature.
    """
    inputs = _model_inputs(model_uri, trips)
    predict = _spark_udf(spark, model_uri)
    version = model_uri.rsplit("/", 1)[-1]
    return trips.withColumn(PREDICTION_COLUMN, predict(F.struct(*inputs))).withColumn(
        MODEL_VERSION_COLUMN, F.lit(version)
    )


def _model_inputs(model_uri: str, trips: DataFrame) -> list[Column]:
    """The columns of the model's signature, cast in Spark to the types it declares.

    MLflow's schema check refuses conversions that could lose precision (a BIGINT zip code
    for a DOUBLE input), so the cast happens here, explicitly, where Spark turns the values
    into what the model was logged with.
    """
    signature = get_model_info(model_uri).signature
    if signature is None:
        return [F.col(name) for name in trips.columns]
    specs = signature.inputs.inputs
    missing = [spec.name for spec in specs if spec.name not in trips.columns]
    if missing:
        raise ValueError(f"The trips lack the model's input columns {missing}")
    return [F.col(spec.name).cast(spec.type.to_spark()).alias(spec.name) for spec in specs]


def score_with_champion(spark: SparkSession, model_name: str, trips: DataFrame) -> DataFrame:
    """Score ``trips`` with the version that is ``champion`` when this is called."""
    return score_trips(spark, resolve_alias(model_name), trips)

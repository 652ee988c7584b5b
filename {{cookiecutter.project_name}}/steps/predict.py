"""Batch scoring with Spark: the one way notebooks and the local pipeline get predictions.

The model is applied as a pandas UDF on the Spark workers, so scoring scales with the
cluster while the model itself stays a plain MLflow pyfunc. It is downloaded once: the
signature and the UDF read the same copy, so they cannot disagree about which model runs.
"""

from __future__ import annotations

import mlflow
from mlflow.models import Model
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import struct

from steps.row_checks import score_valid_rows


def model_input_columns(model: Model, trips: DataFrame) -> list[str]:
    """The columns the model's signature asks for, or every column if it logged no signature."""
    if model.signature is None:
        return trips.columns
    wanted = model.signature.inputs.input_names()
    missing = [name for name in wanted if name not in trips.columns]
    if missing:
        raise ValueError(f"Input rows lack the model's input columns {missing}")
    return wanted


def score_trips(spark: SparkSession, model_uri: str, trips: DataFrame) -> DataFrame:
    """``trips`` plus a DOUBLE column ``prediction`` from the model at ``model_uri``.

    Rows that break the input contract (``steps.row_checks``) are kept unscored: null
    ``prediction``, the reason in ``quarantine_reason``. Extra columns (such as the true
    ``fare_amount``) pass through untouched.
    """
    model_dir = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    columns = model_input_columns(Model.load(model_dir), trips)
    predict = mlflow.pyfunc.spark_udf(spark, model_dir, result_type="double", env_manager="local")
    return score_valid_rows(trips, lambda valid: valid.withColumn("prediction", predict(struct(*columns))))

"""Batch scoring with Spark: the one way notebooks and the local pipeline get predictions.

The model is applied as a pandas UDF on the Spark workers, so scoring scales with the
cluster while the model itself stays a plain MLflow pyfunc. It is downloaded once: the
signature and the UDF read the same copy, so they cannot disagree about which model runs.
The prediction is the model's rule (``model_spec.prediction``, applied as ``steps.prediction_type``
says): a regressor's value, or a classifier's predicted class typed as its label.
"""

from __future__ import annotations

import mlflow
from mlflow.models import Model
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import struct

from model_spec.prediction import PREDICTION_COLUMN
from steps.prediction_type import prediction_type_of_rows
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
    """``trips`` plus ``PREDICTION_COLUMN`` from the model at ``model_uri``, as ``model_spec.prediction`` makes it.

    The column is DOUBLE for a regressor and the class's own type for a classifier
    (``steps.prediction_type.prediction_type``). Rows that break the input contract
    (``steps.row_checks``) are kept unscored: null prediction, the reason in
    ``quarantine_reason``. Extra columns (such as the true label) pass through untouched.
    Raises the rule's ``ValueError`` for a model whose output is not one value per row (a
    recipe classifier that predicts a score per class: see recipe.yaml's train step).
    """
    model_dir = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    model = mlflow.pyfunc.load_model(model_dir)
    columns = model_input_columns(model.metadata, trips)

    def score(valid: DataFrame) -> DataFrame:
        result_type = prediction_type_of_rows(model, valid.select(*columns))
        predict = mlflow.pyfunc.spark_udf(spark, model_dir, result_type=result_type, env_manager="local")
        return valid.withColumn(PREDICTION_COLUMN, predict(struct(*columns)))

    return score_valid_rows(trips, score)

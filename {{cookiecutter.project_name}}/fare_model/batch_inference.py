"""Batch scoring with the ``champion`` version: the body of notebooks/BatchInference.

The alias is resolved to a version number once, and that exact version both supplies the
input columns (its signature) and scores (a Spark pandas UDF), so a deployment during the
job cannot mix two models; every prediction carries the version that made it.
``score_pandas`` does the same in this process for data already in memory (the local
pipeline), without starting Spark. Both write the model's prediction (``model_spec.prediction``,
applied as ``steps.prediction_type`` says): a regressor's value, a classifier's predicted class.
"""

from __future__ import annotations

import logging

import mlflow
import pandas as pd
from mlflow.models import get_model_info
from mlflow.types import ColSpec
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DataType

from fare_model.registry import parse_model_version_uri, pinned_version_uri, resolve_alias
from model_spec.prediction import PREDICTION_COLUMN, prediction_column
from steps.prediction_type import prediction_type_of_rows
from steps.row_checks import REASON_COLUMN, row_problems, score_valid_rows

__all__ = ["resolve_alias", "score_pandas", "score_trips", "score_with_champion"]

MODEL_VERSION_COLUMN = "model_version"


def _spark_udf(spark: SparkSession, model_dir: str, result_type: DataType):
    """The model as a Spark UDF returning ``result_type``, run in the cluster's own Python environment.

    ``env_manager="local"`` is deliberate: the notebooks install requirements.txt, the same
    pins the model was logged with, so rebuilding an environment per job would only cost
    minutes. MLflow warns about that choice on every call; the warning is silenced here.
    """
    logger = logging.getLogger("mlflow.pyfunc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return mlflow.pyfunc.spark_udf(spark, model_dir, result_type=result_type, env_manager="local")
    finally:
        logger.setLevel(level)


def score_trips(spark: SparkSession, model_uri: str, trips: DataFrame) -> DataFrame:
    """``trips`` plus ``prediction``, STRING ``model_version`` and STRING ``quarantine_reason``.

    ``prediction`` is the model's (``model_spec.prediction``): DOUBLE for a regressor, the
    class's own type for a classifier (``steps.prediction_type.prediction_type``).

    ``model_uri`` names one version, or an alias that is resolved to its version first
    (``pinned_version_uri``), so ``model_version`` is a number. Rows that break the input
    contract (``steps.row_checks``) are not scored: their prediction is null and their reason
    says why. Extra input columns (such as the true label) pass through. Raises ``ValueError``
    when ``trips`` lacks a column of the model's signature, or when the model's output is not
    one value per row (the rule's error).
    """
    model_uri = pinned_version_uri(model_uri)
    inputs = _model_inputs(model_uri, trips)
    # Downloaded once: the rule's probe on the driver and the UDF load the same copy.
    model_dir = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    model = mlflow.pyfunc.load_model(model_dir)

    def score(valid: DataFrame) -> DataFrame:
        predict = _spark_udf(spark, model_dir, prediction_type_of_rows(model, valid.select(*inputs)))
        return valid.withColumn(PREDICTION_COLUMN, predict(F.struct(*inputs)))

    scored = score_valid_rows(trips, score)
    return scored.withColumn(MODEL_VERSION_COLUMN, F.lit(_version_of(model_uri)))


def score_pandas(model_uri: str, trips: pd.DataFrame) -> pd.DataFrame:
    """``score_trips`` for a pandas DataFrame, scored in this process: same columns, same casts.

    For data that is already in memory (the local pipeline); the jobs score with Spark. The
    prediction is ``prediction_column``'s: float64 for a regressor (NaN where quarantined), a
    classifier's classes in a nullable dtype of their own (``<NA>`` where quarantined).
    Raises ``ValueError`` when ``trips`` lacks a column of the model's signature, or when the
    model's output is not one value per row.
    """
    model_uri = pinned_version_uri(model_uri)
    model = mlflow.pyfunc.load_model(model_uri)
    specs = _input_specs(model.metadata.signature, list(trips.columns))
    problems = row_problems(trips)
    valid = trips[problems.isna()]
    if specs:
        inputs = valid[[spec.name for spec in specs]].astype({spec.name: spec.type.to_pandas() for spec in specs})
    else:
        inputs = valid
    predictions = pd.Series(float("nan"), index=trips.index, dtype="float64")
    if len(valid):
        predicted = prediction_column(model, inputs)
        if not pd.api.types.is_float_dtype(predicted):
            predicted = predicted.convert_dtypes()  # classes keep their type; quarantined rows are <NA>
        predictions = predicted.reindex(trips.index)
    return trips.assign(
        **{PREDICTION_COLUMN: predictions, REASON_COLUMN: problems, MODEL_VERSION_COLUMN: _version_of(model_uri)}
    )


def _version_of(model_uri: str) -> str:
    return parse_model_version_uri(model_uri)[1]


def _input_specs(signature, columns: list[str]) -> list[ColSpec]:
    """The input columns of a model's ``signature``; empty when the model has none (``signature`` None).

    Raises ``ValueError`` naming the signature's columns that ``columns`` lacks.
    """
    if signature is None:
        return []
    specs = signature.inputs.inputs
    missing = [spec.name for spec in specs if spec.name not in columns]
    if missing:
        raise ValueError(f"The trips lack the model's input columns {missing}")
    return specs


def _model_inputs(model_uri: str, trips: DataFrame) -> list[Column]:
    """The columns of the model's signature, cast in Spark to the types it declares.

    MLflow's schema check refuses conversions that could lose precision (a BIGINT zip code
    for a DOUBLE input), so the cast happens here, explicitly, where Spark turns the values
    into what the model was logged with.
    """
    specs = _input_specs(get_model_info(model_uri).signature, trips.columns)
    if not specs:
        return [F.col(name) for name in trips.columns]
    return [F.col(spec.name).cast(spec.type.to_spark()).alias(spec.name) for spec in specs]


def score_with_champion(spark: SparkSession, model_name: str, trips: DataFrame) -> DataFrame:
    """Score ``trips`` with the version that is ``champion`` when this is called."""
    return score_trips(spark, resolve_alias(model_name), trips)

"""Batch scoring of raw trips with a model logged with its feature lookups.

The feature store is chosen here, by runtime: the Databricks client on Databricks, the
local store anywhere else. Such a model cannot be loaded with ``mlflow.pyfunc`` and fed raw
trips (its inputs are looked up first), so BatchInference and ModelValidation
(``features/validation.py``) both score through ``score_trips``.

Feature freshness: the feature job and the jobs that read its tables run on their own
schedules. A trip newer than the latest window a feature table holds would find no row for
its time, and the model would read "no trips in the window" (a count of 0) where the truth
is "not computed yet". ``split_at_feature_freshness`` keeps such trips out: batch inference
defers them to a later run (they are not written, so they stay unscored) and training leaves
them out.
"""

from __future__ import annotations

import os

from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DataType

from fare_model.registry import parse_model_version_uri
from features.feature_tables import FEATURE_TABLES
from features.point_in_time import lookup_time
from features.stores import FeatureStore
from features.time_windows import clock_seconds
from features.trip_attributes import prepare_trips
from model_spec.contract import PICKUP, latest_plausible_pickup
from model_spec.data import TASK
from model_spec.prediction import PREDICTION_COLUMN
from steps.row_checks import run_time, score_valid_rows

MODEL_VERSION_COLUMN = "model_version"
# Model version tag (set by features.training): the Spark type of the version's prediction.
PREDICTION_TYPE_TAG = "prediction_type"
# A version registered without the tag predicts a fare: DOUBLE.
DEFAULT_PREDICTION_TYPE = "double"


def prediction_type_for(label_type: DataType) -> str:
    """The Spark SQL type of the prediction of a model trained on a label of ``label_type``.

    ``model_spec.prediction``'s rule: a regressor's prediction is a number, DOUBLE whatever the
    label's type; a classifier's is one of its classes, so it has the label's type (``bigint``
    for a 0/1 label, ``string`` for named classes).
    """
    return DEFAULT_PREDICTION_TYPE if TASK == "regression" else label_type.simpleString()


def prediction_type_of(model_name: str, model_version: str) -> str:
    """The prediction's Spark SQL type that ``features.training`` tagged the version with (else DOUBLE)."""
    tags = MlflowClient().get_model_version(model_name, model_version).tags
    return tags.get(PREDICTION_TYPE_TAG, DEFAULT_PREDICTION_TYPE)


def running_on_databricks() -> bool:
    """True inside a Databricks runtime (cluster, job or notebook)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def feature_store(spark: SparkSession) -> FeatureStore:
    """The Databricks Feature Store on Databricks, the local one anywhere else."""
    if running_on_databricks():
        from features.databricks_store import DatabricksFeatureStore

        return DatabricksFeatureStore(spark)
    from features.local_store import LocalFeatureStore

    return LocalFeatureStore(spark)


def score_trips(spark: SparkSession, model_uri: str, trips: DataFrame) -> DataFrame:
    """``trips`` plus ``prediction`` and STRING ``model_version``; features are looked up per trip.

    ``prediction`` is the model's (``model_spec.prediction.prediction_column``): DOUBLE for a
    regressor, the label's type for a classifier's predicted class (the version's tag
    ``PREDICTION_TYPE_TAG``, ``prediction_type_of``).

    ``model_uri`` names one version, ``models:/<name>/<version>`` (resolve an alias first with
    ``fare_model.registry.resolve_alias``), so every prediction says which version made it.
    ``trips`` needs the raw trip columns (zips, pickup/dropoff times, distance); the lookup
    times and the trip's own attributes (``prepare_trips``, as in training) are added here
    and dropped again with the looked-up features. Rows that break the input contract
    (``steps.row_checks``) are not scored: null ``prediction``, the reason in
    ``quarantine_reason``. Raises ``ValueError`` for another URI.
    """
    name, version = parse_model_version_uri(model_uri)
    store = feature_store(spark)
    result_type = prediction_type_of(name, version)

    def score(valid: DataFrame) -> DataFrame:
        scored = store.score_batch(model_uri, prepare_trips(valid), result_type)
        return scored.select(*[F.col(c) for c in valid.columns], F.col(PREDICTION_COLUMN))

    return score_valid_rows(trips, score).withColumn(MODEL_VERSION_COLUMN, F.lit(version))


def split_at_feature_freshness(
    store: FeatureStore, trips: DataFrame, env: str, ci_run_id: str = ""
) -> tuple[DataFrame, DataFrame]:
    """``(ready, deferred)``: ``trips`` whose features exist, and those newer than a feature table's freshness.

    A trip is deferred when, for any of ``env``'s feature tables (those of CI run ``ci_run_id``,
    if given: ``features.feature_tables``), its lookup time (its
    time minus the availability lag, rounded down to the table's slide:
    ``features.point_in_time.lookup_time``, as the lookup reads it) is after the newest
    window end in the table (``FeatureStore.freshness``; an empty table defers every trip).
    Trips without a timestamp and trips picked up in the future (a glitched meter clock) are
    never deferred: they go on to the input contract, which quarantines them, rather than
    wait for features that will never come. Both frames keep ``trips``' columns. Raises the
    store's error when a feature table does not exist.
    """
    latest_plausible = int(latest_plausible_pickup(run_time()).timestamp())
    late = F.lit(False)
    for table in FEATURE_TABLES:
        fresh_until = store.freshness(table.name(env, ci_run_id), table.source_timestamp)
        looks_up = lookup_time(table).cast("long")
        late = late | (F.lit(True) if fresh_until is None else looks_up > F.lit(fresh_until))
    plausible = clock_seconds(F.col(PICKUP)) <= F.lit(latest_plausible)
    deferred = F.coalesce(late & plausible, F.lit(False))
    return trips.where(~deferred), trips.where(deferred)


def deferral_report(deferred: DataFrame) -> str:
    """One line saying how many trips ``split_at_feature_freshness`` deferred (counts them: a Spark job)."""
    count = deferred.count()
    if not count:
        return "Deferred: none (the feature tables cover every new trip)"
    return (
        f"Deferred: {count} trips newer than the latest feature window (the feature job is behind); "
        "they are not written, so a later run scores them once their features exist"
    )

"""The seam between the project's feature code and the Databricks Feature Store.

Feature pipelines, training and scoring talk to a ``FeatureStore``. On Databricks it
is ``DatabricksFeatureStore`` (``features/databricks_store.py``, a client of the
``databricks-feature-engineering`` package); anywhere else it is ``LocalFeatureStore``
(parquet tables and plain MLflow), which is what the unit tests and the local pipeline use.
Nothing else in the project imports Databricks packages. This module only declares the
interface, so both stores can import it; ``features.scoring.feature_store`` picks the one
for the current runtime.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence

from pyspark.sql import DataFrame

from features.feature_tables import FeatureLookup


class TrainingSet(Protocol):
    """Trips joined with their looked-up features; what a model is trained on."""

    def load_df(self) -> DataFrame: ...


class FeatureStore(Protocol):
    def write_table(self, name: str, features: DataFrame, primary_keys: Sequence[str], timestamp_key: str) -> None:
        """Create the feature table, or merge ``features`` into it (new rows win on equal keys)."""

    def table_exists(self, name: str) -> bool:
        """Whether the feature table ``name`` exists (it may still be empty)."""

    def drop_table(self, name: str) -> bool:
        """Delete the feature table ``name`` and its rows; False when there was no such table."""

    def create_training_set(
        self, trips: DataFrame, lookups: Sequence[FeatureLookup], label: str, exclude_columns: Sequence[str]
    ) -> TrainingSet:
        """Point-in-time lookups of ``lookups`` for every trip, minus ``exclude_columns``."""

    def log_model(
        self,
        model: Any,
        training_set: TrainingSet,
        name: str,
        registered_model_name: str,
        skops_trusted_types: Sequence[str],
    ) -> None:
        """Log a scikit-learn model as ``name`` in the active run with its lookups, and register it.

        MLflow 3 saves it with skops, which loads only the types it knows to be safe and
        ``skops_trusted_types`` (those of our own model that skops does not know).
        """

    def score_batch(self, model_uri: str, trips: DataFrame, result_type: str) -> DataFrame:
        """``trips`` plus the model's looked-up features and a ``prediction`` column of Spark SQL type ``result_type``.

        The prediction is ``model_spec.prediction.prediction_column``'s: one value per trip (a
        classifier's predicted class, never its probabilities).
        """

    def freshness(self, name: str, timestamp_key: str) -> Optional[int]:
        """The newest ``timestamp_key`` of table ``name`` in epoch seconds (the latest window end
        written; read in the session time zone, as lookups read it); None when the table is empty."""

"""``FeatureStore`` on Databricks: the workspace Feature Store client.

The client, ``databricks.feature_store.FeatureStoreClient``, comes from the
``databricks-feature-engineering`` package (pinned in requirements.txt), which replaces the
deprecated ``databricks-feature-store``; it works on workspace (Hive metastore) feature
tables, on Databricks only. This is the only module that imports Databricks packages. It
translates the project's plain ``FeatureLookup`` definitions into the client's and
otherwise delegates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Sequence

import mlflow.sklearn
from databricks.feature_store import FeatureLookup as ClientFeatureLookup
from databricks.feature_store import FeatureStoreClient
from pyspark.sql import DataFrame, SparkSession

from features.feature_tables import FeatureLookup
from features.stores import TrainingSet


class DatabricksFeatureStore:
    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.client = FeatureStoreClient()

    def write_table(self, name: str, features: DataFrame, primary_keys: Sequence[str], timestamp_key: str) -> None:
        if self.spark.catalog.tableExists(name):
            self.client.write_table(name=name, df=features, mode="merge")
            return
        database = name.split(".")[0]
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
        # create_table with df both defines the schema and writes the rows.
        self.client.create_table(
            name=name,
            primary_keys=list(primary_keys),
            timestamp_keys=[timestamp_key],
            df=features,
            description="Time-series features of the taxi trips; written by notebooks/GenerateAndWriteFeatures.",
        )

    def create_training_set(
        self, trips: DataFrame, lookups: Sequence[FeatureLookup], label: str, exclude_columns: Sequence[str]
    ) -> TrainingSet:
        client_lookups = [
            ClientFeatureLookup(
                table_name=lookup.table_name,
                feature_names=list(lookup.feature_names),
                lookup_key=[lookup.lookup_key],
                timestamp_lookup_key=lookup.timestamp_lookup_key,
                **(
                    {}
                    if lookup.lookback_seconds is None
                    else {"lookback_window": timedelta(seconds=lookup.lookback_seconds)}
                ),
            )
            for lookup in lookups
        ]
        return self.client.create_training_set(
            df=trips, feature_lookups=client_lookups, label=label, exclude_columns=list(exclude_columns)
        )

    def log_model(
        self,
        model: Any,
        training_set: TrainingSet,
        name: str,
        registered_model_name: str,
        skops_trusted_types: Sequence[str],
    ) -> None:
        # The client keeps MLflow 2's parameter name for the model's name in the run, and
        # hands further arguments to the flavor's save_model.
        self.client.log_model(
            model=model,
            artifact_path=name,
            flavor=mlflow.sklearn,
            training_set=training_set,
            registered_model_name=registered_model_name,
            skops_trusted_types=list(skops_trusted_types),
        )

    def score_batch(self, model_uri: str, trips: DataFrame) -> DataFrame:
        return self.client.score_batch(model_uri=model_uri, df=trips, result_type="double")

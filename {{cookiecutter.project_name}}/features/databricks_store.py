"""``FeatureStore`` on Databricks: the Feature Store client of the Databricks ML runtime.

The only module that imports Databricks packages; it runs on Databricks only (the
client is not installed locally). It translates the project's plain ``FeatureLookup``
definitions into the client's and otherwise delegates.
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
                timestamp_lookup_key=[lookup.timestamp_lookup_key],
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

    def log_model(self, model: Any, training_set: TrainingSet, artifact_path: str, registered_model_name: str) -> None:
        self.client.log_model(
            model=model,
            artifact_path=artifact_path,
            flavor=mlflow.sklearn,
            training_set=training_set,
            registered_model_name=registered_model_name,
        )

    def score_batch(self, model_uri: str, trips: DataFrame) -> DataFrame:
        return self.client.score_batch(model_uri=model_uri, df=trips, result_type="double")

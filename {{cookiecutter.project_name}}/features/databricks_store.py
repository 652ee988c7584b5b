{%- set uc = cookiecutter.include_models_in_unity_catalog == "yes" -%}
{%- if uc -%}
"""``FeatureStore`` on Databricks: Feature Engineering in Unity Catalog.

The client, ``databricks.feature_engineering.FeatureEngineeringClient`` of the
``databricks-feature-engineering`` package (pinned in requirements.txt), works on Unity
Catalog tables ``<catalog>.<schema>.<table>`` (features/feature_tables.py names them), on
Databricks only, and registers models in Unity Catalog (registry URI ``databricks-uc``,
``fare_model.unity_catalog``). This is the only module that imports Databricks packages. It
translates the project's plain ``FeatureLookup`` definitions into the client's and otherwise
delegates.
"""
{%- else -%}
"""``FeatureStore`` on Databricks: the workspace Feature Store client.

The client, ``databricks.feature_store.FeatureStoreClient``, comes from the
``databricks-feature-engineering`` package (pinned in requirements.txt), which replaces the
deprecated ``databricks-feature-store``; it works on workspace (Hive metastore) feature
tables, on Databricks only. This is the only module that imports Databricks packages. It
translates the project's plain ``FeatureLookup`` definitions into the client's and
otherwise delegates.
"""
{%- endif %}

from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional, Sequence

import mlflow.sklearn
{%- if uc %}
from databricks.feature_engineering import FeatureEngineeringClient
from databricks.feature_engineering import FeatureLookup as ClientFeatureLookup
{%- else %}
from databricks.feature_store import FeatureLookup as ClientFeatureLookup
from databricks.feature_store import FeatureStoreClient
{%- endif %}
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

{% if uc -%}
from fare_model.unity_catalog import REGISTRY_URI
{% endif -%}
from features.feature_tables import FeatureLookup
from features.stores import TrainingSet


class DatabricksFeatureStore:
    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
{%- if uc %}
        # log_model registers to this registry whatever the notebook's MLflow registry URI is.
        self.client = FeatureEngineeringClient(model_registry_uri=REGISTRY_URI)
{%- else %}
        self.client = FeatureStoreClient()
{%- endif %}

    def write_table(self, name: str, features: DataFrame, primary_keys: Sequence[str], timestamp_key: str) -> None:
        if self.spark.catalog.tableExists(name):
            self.client.write_table(name=name, df=features, mode="merge")
            return
{%- if uc %}
        # The schema exists already: Terraform creates it (databricks-config/unity-catalog.json)
        # and grants the jobs' principal CREATE TABLE and MODIFY in it. create_table with df
        # both defines the schema and writes the rows. A Unity Catalog time-series table keeps
        # its timestamp among the primary keys, marked as the timeseries column.
        self.client.create_table(
            name=name,
            primary_keys=[*primary_keys, timestamp_key],
            timeseries_column=timestamp_key,
            df=features,
            description="Time-series features of the taxi trips; written by notebooks/GenerateAndWriteFeatures.",
        )
{%- else %}
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
{%- endif %}

    def table_exists(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name)

    def drop_table(self, name: str) -> bool:
        # The client refuses a table that does not exist (a run whose feature task failed early).
        if not self.table_exists(name):
            return False
        # Deletes the feature table's metadata and its Delta table.
        self.client.drop_table(name=name)
        return True

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
{%- if uc %}
        # Unity Catalog registers only models with a signature: the client derives it from the
        # training set (looked-up features and trip columns in, the label's type out), as all its
        # tables are Unity Catalog tables; infer_input_example adds a few training rows as example.
{%- endif %}
        self.client.log_model(
            model=model,
            artifact_path=name,
            flavor=mlflow.sklearn,
            training_set=training_set,
            registered_model_name=registered_model_name,
{%- if uc %}
            infer_input_example=True,
{%- endif %}
            skops_trusted_types=list(skops_trusted_types),
        )

    def score_batch(self, model_uri: str, trips: DataFrame, result_type: str) -> DataFrame:
        # The client's Spark UDF calls the model's predict: its class for a classifier.
        return self.client.score_batch(model_uri=model_uri, df=trips, result_type=result_type)

    def freshness(self, name: str, timestamp_key: str) -> Optional[int]:
        # MAX of a stored Delta column: answered from the files' statistics.
        (latest,) = self.spark.table(name).agg(F.max(F.col(timestamp_key).cast("timestamp").cast("long"))).first()
        return latest

"""A feature store on the local disk, standing in for Databricks in tests and local runs.

Each table is a folder ``<root>/<table name>/`` with the rows as parquet (``data/``)
and the keys and the schema in ``table.json``, the facts Databricks keeps in its catalog
(reading with a known schema spares Spark a job per read to infer it from the files). A
locally logged model carries its feature lookups in its MLflow metadata, as a
Databricks-logged model carries its feature spec, so scoring needs only a model URI
and raw trips.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType

from features.feature_tables import FeatureLookup
from features.point_in_time import as_of_join
from features.scoring import prediction_type_for
from model_spec.prediction import PREDICTION_COLUMN, prediction_column

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ROOT_ENV_VAR = "LOCAL_FEATURE_STORE_DIR"
_LOOKUPS_METADATA_KEY = "feature_lookups"
_INTEGRAL = {"tinyint", "smallint", "int", "bigint"}
# Spark SQL type names of a prediction and the MLflow signature's names for them.
_MLFLOW_TYPES = {"double": "double", "bigint": "long", "int": "integer", "string": "string", "boolean": "boolean"}


def default_root() -> Path:
    """``$LOCAL_FEATURE_STORE_DIR`` if set, else ``<project root>/local_feature_store``."""
    return Path(os.environ.get(ROOT_ENV_VAR, PROJECT_ROOT / "local_feature_store"))


@dataclass(frozen=True)
class LocalTrainingSet:
    dataframe: DataFrame
    lookups: tuple[FeatureLookup, ...]
    label: str

    def load_df(self) -> DataFrame:
        return self.dataframe


class LocalFeatureStore:
    """``FeatureStore`` backed by parquet folders and the configured MLflow tracking store."""

    def __init__(self, spark: SparkSession, root: Optional[Path] = None) -> None:
        self.spark = spark
        self.root = Path(root) if root is not None else default_root()

    def _table_dir(self, name: str) -> Path:
        return self.root / name

    def read_table(self, name: str) -> tuple[DataFrame, dict[str, Any]]:
        """The rows of table ``name`` and its keys (``primary_keys``, ``timestamp_key``)."""
        table_dir = self._table_dir(name)
        if not (table_dir / "table.json").exists():
            raise FileNotFoundError(f"feature table {name!r} does not exist under {self.root}; write it first")
        catalog = json.loads((table_dir / "table.json").read_text())
        keys = {name: catalog[name] for name in ("primary_keys", "timestamp_key")}
        reader = self.spark.read
        if "schema" in catalog:  # absent from tables written before the schema was kept
            reader = reader.schema(StructType.fromJson(catalog["schema"]))
        return reader.parquet(str(table_dir / "data")), keys

    def write_table(self, name: str, features: DataFrame, primary_keys: Sequence[str], timestamp_key: str) -> None:
        table_dir = self._table_dir(name)
        keys = {"primary_keys": list(primary_keys), "timestamp_key": timestamp_key}
        rows = features
        if (table_dir / "table.json").exists():
            existing, existing_keys = self.read_table(name)
            if existing_keys != keys:
                raise ValueError(f"feature table {name!r} has keys {existing_keys}, not {keys}")
            row_key = [*primary_keys, timestamp_key]
            rows = features.unionByName(existing.join(features.select(*row_key), on=row_key, how="left_anti"))
        # Write next to the old rows first: Spark reads them lazily while writing.
        staging = table_dir / "data.new"
        rows.write.mode("overwrite").parquet(str(staging))
        shutil.rmtree(table_dir / "data", ignore_errors=True)
        staging.rename(table_dir / "data")
        # Nullable, as Spark reads every parquet column back.
        schema = StructType([StructField(field.name, field.dataType, True, field.metadata) for field in rows.schema])
        (table_dir / "table.json").write_text(json.dumps({**keys, "schema": schema.jsonValue()}, indent=2) + "\n")

    def table_exists(self, name: str) -> bool:
        return (self._table_dir(name) / "table.json").exists()

    def drop_table(self, name: str) -> bool:
        table_dir = self._table_dir(name)
        if not self.table_exists(name):
            return False
        shutil.rmtree(table_dir)
        return True

    def freshness(self, name: str, timestamp_key: str) -> Optional[int]:
        rows, _ = self.read_table(name)
        (latest,) = rows.agg(F.max(F.col(timestamp_key).cast("timestamp").cast("long"))).first()
        return latest

    def _look_up(self, trips: DataFrame, lookups: Sequence[FeatureLookup]) -> DataFrame:
        for lookup in lookups:
            table, keys = self.read_table(lookup.table_name)
            (primary_key,) = keys["primary_keys"]
            trips = as_of_join(trips, table, lookup, primary_key, keys["timestamp_key"])
        return trips

    def create_training_set(
        self, trips: DataFrame, lookups: Sequence[FeatureLookup], label: str, exclude_columns: Sequence[str]
    ) -> LocalTrainingSet:
        if label not in trips.columns:
            raise ValueError(f"label column {label!r} is not in the trips ({', '.join(trips.columns)})")
        joined = self._look_up(trips, lookups).drop(*exclude_columns)
        return LocalTrainingSet(joined, tuple(lookups), label)

    def log_model(
        self,
        model: Any,
        training_set: LocalTrainingSet,
        name: str,
        registered_model_name: str,
        skops_trusted_types: Sequence[str],
    ) -> None:
        # Looked-up features as double: MLflow accepts int32 and float columns for it, so a
        # lookup that returns nulls (float) or counts (int) scores the same way everywhere.
        # Trip columns keep their kind (a zip code stays an integer category).
        looked_up = {name for lookup in training_set.lookups for name in lookup.feature_names}
        trip_types = dict(training_set.load_df().dtypes)
        prediction_type = prediction_type_for(training_set.load_df().schema[training_set.label].dataType)
        signature = ModelSignature(
            inputs=Schema(
                [
                    ColSpec("long" if name not in looked_up and trip_types[name] in _INTEGRAL else "double", str(name))
                    for name in model.feature_names_in_
                ]
            ),
            # The prediction's type: DOUBLE, or a classifier's label type (features.scoring).
            outputs=Schema([ColSpec(_MLFLOW_TYPES.get(prediction_type, "double"))]),
        )
        mlflow.sklearn.log_model(
            model,
            name=name,
            signature=signature,
            registered_model_name=registered_model_name,
            # The flavor's defaults; skips MLflow's slow requirement inference in a subprocess.
            pip_requirements=mlflow.sklearn.get_default_pip_requirements(),
            metadata={_LOOKUPS_METADATA_KEY: [lookup.to_dict() for lookup in training_set.lookups]},
            skops_trusted_types=list(skops_trusted_types),
        )

    def score_batch(self, model_uri: str, trips: DataFrame, result_type: str) -> DataFrame:
        model_dir = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
        model_info = Model.load(model_dir)
        lookups = [FeatureLookup.from_dict(d) for d in (model_info.metadata or {}).get(_LOOKUPS_METADATA_KEY, [])]
        if not lookups:
            raise ValueError(f"model {model_uri} was not logged with feature lookups by LocalFeatureStore")
        joined = self._look_up(trips, lookups)
        # The type's parsed form, as Spark's analyser reads the name (no job runs).
        prediction_type = joined.select(F.lit(None).cast(result_type)).schema[0].dataType
        output_schema = StructType([*joined.schema.fields, StructField(PREDICTION_COLUMN, prediction_type)])

        def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            # Loaded on the worker from the downloaded copy: no tracking store needed there.
            model = mlflow.pyfunc.load_model(model_dir)
            # The signature's columns only, as Databricks' score_batch passes them (MLflow
            # would warn about every other column).
            inputs = model.metadata.get_input_schema().input_names()
            for batch in batches:
                yield batch.assign(**{PREDICTION_COLUMN: prediction_column(model, batch[inputs])})

        return joined.mapInPandas(predict, schema=output_schema)

"""Compute one feature table from raw trips and write it to the feature store.

Used by notebooks/GenerateAndWriteFeatures on Databricks and by the local pipeline,
so both write the same table under the same name.
"""

from __future__ import annotations

import importlib
from typing import Sequence

from pyspark.sql import DataFrame

from features.feature_tables import table_for_module
from features.stores import FeatureStore
from features.time_windows import DateBound


def compute_features(
    module: str, trips: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound
) -> DataFrame:
    """Run ``features.<module>.compute_features_fn`` on ``trips``."""
    compute_features_fn = importlib.import_module(f"features.{module}").compute_features_fn
    return compute_features_fn(
        input_df=trips, timestamp_column=timestamp_column, start_date=start_date, end_date=end_date
    )


def generate_and_write_features(
    store: FeatureStore,
    trips: DataFrame,
    module: str,
    env: str,
    timestamp_column: str,
    primary_keys: Sequence[str],
    start_date: DateBound = None,
    end_date: DateBound = None,
) -> str:
    """Compute the features of ``module`` for the time range and merge them into ``env``'s table.

    Returns the table name, which is derived from ``module`` and ``env`` (see
    features/feature_tables.py) rather than passed in.
    """
    table_name = table_for_module(module).name(env)
    features = compute_features(module, trips, timestamp_column, start_date, end_date)
    store.write_table(table_name, features, primary_keys, timestamp_key=timestamp_column)
    return table_name

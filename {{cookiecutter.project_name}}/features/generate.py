"""Compute one feature table from raw trips and write it to the feature store.

Used by notebooks/GenerateAndWriteFeatures on Databricks and by the local pipeline,
so both write the same table under the same name; ``drop_ci_run_tables`` removes the
tables a CI integration run wrote (notebooks/DropCiFeatureTables).
"""

from __future__ import annotations

import importlib
from typing import Optional

from pyspark.sql import DataFrame

from features.feature_tables import FEATURE_TABLES, PRIMARY_KEY, table_for_module
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
    start_date: DateBound = None,
    end_date: DateBound = None,
    timestamp_column: Optional[str] = None,
    ci_run_id: str = "",
) -> str:
    """Compute the features of ``module`` for the time range and merge them into ``env``'s table.

    The table name, its timestamp column and its primary key all come from the module's
    ``FeatureTable`` (features/feature_tables.py), so a drop-off table can never be built
    on pickup times. ``timestamp_column``, if given (the notebook's widget), must agree
    with it. With ``ci_run_id`` (CI environment only) the table is that CI run's own
    (``FeatureTable.name``). Returns the table name.
    """
    table = table_for_module(module)
    if timestamp_column and timestamp_column != table.source_timestamp:
        raise ValueError(
            f"timestamp_column {timestamp_column!r} does not match module {module!r}, whose table is keyed on "
            f"{table.source_timestamp!r}; leave timestamp_column empty"
        )
    table_name = table.name(env, ci_run_id)
    features = compute_features(module, trips, table.source_timestamp, start_date, end_date)
    store.write_table(table_name, features, [PRIMARY_KEY], timestamp_key=table.source_timestamp)
    return table_name


def drop_ci_run_tables(store: FeatureStore, env: str, ci_run_id: str) -> list[str]:
    """Drop every feature table that CI run ``ci_run_id`` wrote in ``env``; return the names dropped.

    A table the run never wrote (its feature task failed) is skipped. The long-lived tables are
    never touched: ``FeatureTable.name`` refuses an empty ``ci_run_id`` here, and a run id
    outside the CI environment (``ValueError``).
    """
    if not ci_run_id:
        raise ValueError("ci_run_id must name the CI run whose feature tables to drop, e.g. ci_run_id='7001_1'")
    names = [table.name(env, ci_run_id) for table in FEATURE_TABLES]
    return [name for name in names if store.drop_table(name)]

"""Compute one feature table from raw trips and merge it into the feature store.

Used by notebooks/GenerateAndWriteFeatures on Databricks and by the local pipeline,
so both write the same table under the same name; ``drop_ci_run_tables`` removes the
tables a CI integration run wrote (notebooks/DropCiFeatureTables).

Incremental by default: a scheduled run recomputes only the windows that end in the
``DEFAULT_LOOKBACK`` before the table's newest window (``recompute_from``), and on, and merges
them into the table (new rows win on equal keys); the windows need one window length of trips
before that, which ``features.time_windows.aggregate_per_zip_window`` reads. Anchored on the
table, not on the clock, a run after a pause still fills the whole gap. A table's first run, an
explicit start date or ``backfill`` recompute the whole range instead.
"""

from __future__ import annotations

import importlib
import math
from datetime import datetime, timedelta, timezone
from typing import Optional

from pyspark.sql import DataFrame

from features.feature_tables import FEATURE_TABLES, PRIMARY_KEY, FeatureTable, table_for_module
from features.stores import FeatureStore
from features.time_windows import DateBound
from steps.predictions import LATE_ARRIVAL_GRACE

# How far back a scheduled run recomputes: batch inference's grace for trips that land late (a
# meter that uploads late, a re-delivered file; ``steps.predictions.LATE_ARRIVAL_GRACE``). Every
# trip that batch inference scores late then also counts in the windows training reads later; a
# shorter lookback would score trips whose windows stay without them for good.
DEFAULT_LOOKBACK = LATE_ARRIVAL_GRACE


def compute_features(
    module: str, trips: DataFrame, timestamp_column: str, start_date: DateBound, end_date: DateBound
) -> DataFrame:
    """Run ``features.<module>.compute_features_fn`` on ``trips``."""
    compute_features_fn = importlib.import_module(f"features.{module}").compute_features_fn
    return compute_features_fn(
        input_df=trips, timestamp_column=timestamp_column, start_date=start_date, end_date=end_date
    )


def recompute_from(
    store: FeatureStore, table: FeatureTable, table_name: str, lookback: timedelta = DEFAULT_LOOKBACK
) -> Optional[datetime]:
    """The start of an incremental run of ``table`` (named ``table_name``): its newest window end minus ``lookback``.

    A clock time (naive), as the data's. None (compute everything) when the table does not exist
    yet or is empty. Raises ``ValueError`` for a ``lookback`` that is not positive.
    """
    if lookback <= timedelta(0):
        raise ValueError(f"lookback must be positive, not {lookback}; e.g. lookback=timedelta(days=7)")
    if not store.table_exists(table_name):
        return None
    newest = store.freshness(table_name, table.source_timestamp)
    if newest is None:
        return None
    # Window ends are stamped as the clock read in UTC (features.time_windows.clock_seconds).
    return datetime.fromtimestamp(newest, timezone.utc).replace(tzinfo=None) - lookback


def parse_lookback_days(text: str) -> timedelta:
    """The notebook's ``lookback_days`` widget as a duration: empty is ``DEFAULT_LOOKBACK``.

    Raises ``ValueError`` naming the widget, the value and a valid example for anything but a
    positive number of days.
    """
    if not text.strip():
        return DEFAULT_LOOKBACK
    try:
        days = float(text)
    except ValueError:
        days = math.nan
    if not (math.isfinite(days) and days > 0):
        raise ValueError(f"lookback_days must be a positive number of days, not {text!r}; e.g. lookback_days=7")
    return timedelta(days=days)


def generate_and_write_features(
    store: FeatureStore,
    trips: DataFrame,
    module: str,
    env: str,
    start_date: DateBound = None,
    end_date: DateBound = None,
    timestamp_column: Optional[str] = None,
    ci_run_id: str = "",
    lookback: timedelta = DEFAULT_LOOKBACK,
    backfill: bool = False,
) -> str:
    """Compute the features of ``module`` and merge them into ``env``'s table; returns the table name.

    Without ``start_date`` the run is incremental (``recompute_from`` with ``lookback``: the
    windows that end after the table's newest minus ``lookback``); ``backfill`` computes every
    window instead. ``end_date`` bounds both (empty: up to the newest trip,
    ``features.time_windows``).

    The table name, its timestamp column and its primary key all come from the module's
    ``FeatureTable`` (features/feature_tables.py), so a drop-off table can never be built
    on pickup times. ``timestamp_column``, if given (the notebook's widget), must agree
    with it. With ``ci_run_id`` (CI environment only) the table is that CI run's own
    (``FeatureTable.name``).
    """
    table = table_for_module(module)
    if timestamp_column and timestamp_column != table.source_timestamp:
        raise ValueError(
            f"timestamp_column {timestamp_column!r} does not match module {module!r}, whose table is keyed on "
            f"{table.source_timestamp!r}; leave timestamp_column empty"
        )
    table_name = table.name(env, ci_run_id)
    if start_date in (None, "") and not backfill:
        start_date = recompute_from(store, table, table_name, lookback)
    print(f"{table_name}: windows ending after {start_date or 'the first trip'} up to {end_date or 'the newest trip'}")
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

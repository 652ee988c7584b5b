"""The daily feature run recomputes only the recent windows and merges them (``features.generate``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pyspark.sql import functions as F

from features.feature_tables import DROPOFF_FEATURES, FEATURE_TABLES, PICKUP_FEATURES
from features.generate import DEFAULT_LOOKBACK, generate_and_write_features, parse_lookback_days, recompute_from
from features.local_store import LocalFeatureStore
from steps.predictions import LATE_ARRIVAL_GRACE
from tests.features.conftest import ENV

LOOKBACK = timedelta(hours=6)  # the fixture's trips span three days, shorter than the default lookback
FIRST_RUN_UNTIL = datetime(2022, 1, 15, 12)  # the input of yesterday's run


def table_rows(store: LocalFeatureStore, module: str) -> dict[tuple, tuple]:
    """Each row of ``module``'s table, by zip and window end (as epoch seconds, read in no zone)."""
    table = next(table for table in FEATURE_TABLES if table.module == module)
    rows, _ = store.read_table(table.name(ENV))
    stamped = rows.select("zip", F.unix_timestamp(table.source_timestamp), *table.feature_names)
    return {(row[0], row[1]): tuple(row[2:]) for row in stamped.collect()}


@pytest.fixture
def stores(spark, trips, tmp_path):
    """A store whose tables hold yesterday's run (trips until ``FIRST_RUN_UNTIL``), with a marked
    oldest pickup window, and a store that computed every window from all trips at once."""
    incremental, whole = (
        LocalFeatureStore(spark, tmp_path / "incremental"),
        LocalFeatureStore(spark, tmp_path / "whole"),
    )
    yesterday = trips.where(F.col("tpep_pickup_datetime") < FIRST_RUN_UNTIL)
    for table in FEATURE_TABLES:
        generate_and_write_features(incremental, yesterday, table.module, ENV)
        generate_and_write_features(whole, trips, table.module, ENV)
    # A mark no computation writes, in a window far older than the lookback.
    name = PICKUP_FEATURES.name(ENV)
    rows, keys = incremental.read_table(name)
    oldest = (
        rows.orderBy(PICKUP_FEATURES.source_timestamp, "zip")
        .limit(1)
        .withColumn("count_trips_window_1h_pickup_zip", F.lit(-1))
    )
    incremental.write_table(name, oldest, keys["primary_keys"], keys["timestamp_key"])
    return incremental, whole


def test_an_incremental_run_recomputes_the_recent_windows_and_keeps_the_older_ones(stores, trips):
    incremental, whole = stores
    for table in FEATURE_TABLES:
        generate_and_write_features(incremental, trips, table.module, ENV, lookback=LOOKBACK)
        got, expected = table_rows(incremental, table.module), table_rows(whole, table.module)
        # Every window of the whole run is there, with its complete counts: the run filled the gap
        # since yesterday and recomputed the windows late trips changed (drop-offs after the first run).
        assert got.keys() == expected.keys()
        changed = {key for key in got if got[key] != expected[key]}
        # The marked window, older than the lookback, was neither read nor written.
        assert len(changed) == (1 if table is PICKUP_FEATURES else 0)
        assert all(got[key][1] == -1 for key in changed)


def test_a_backfill_recomputes_every_window(stores, trips):
    incremental, whole = stores
    for table in FEATURE_TABLES:
        generate_and_write_features(incremental, trips, table.module, ENV, lookback=LOOKBACK, backfill=True)
        assert table_rows(incremental, table.module) == table_rows(whole, table.module)


def test_an_incremental_run_starts_a_lookback_before_the_newest_window(stores):
    incremental, _ = stores
    newest = max(
        datetime.fromtimestamp(key[1], timezone.utc).replace(tzinfo=None)
        for key in table_rows(incremental, PICKUP_FEATURES.module)
    )
    assert recompute_from(incremental, PICKUP_FEATURES, PICKUP_FEATURES.name(ENV)) == newest - DEFAULT_LOOKBACK
    assert recompute_from(incremental, PICKUP_FEATURES, "no_such_table") is None


def test_a_trip_as_late_as_batch_inference_scores_it_counts_in_the_windows_training_reads(spark, trips, tmp_path):
    """Batch inference scores trips that land up to ``LATE_ARRIVAL_GRACE`` late; the scheduled
    run (default lookback) recomputes their windows, so training later reads them with the trip."""
    later = [(F.col(c) + F.expr("INTERVAL 6 DAYS")).alias(c) if c.endswith("_datetime") else c for c in trips.columns]
    feed = trips.unionByName(trips.select(*later))
    store = LocalFeatureStore(spark, tmp_path)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, feed, table.module, ENV)
    newest = feed.agg(F.max("tpep_pickup_datetime")).first()[0]
    pickup = newest - LATE_ARRIVAL_GRACE + timedelta(days=1)  # still scored by batch inference
    late = spark.createDataFrame(
        [(pickup, pickup + timedelta(minutes=10), 2.0, 8.5, 10009, 10019)], trips.schema
    )  # zips no other trip has
    for table in FEATURE_TABLES:
        generate_and_write_features(store, feed.unionByName(late), table.module, ENV)
    for table, zip_code in ((PICKUP_FEATURES, 10009), (DROPOFF_FEATURES, 10019)):
        count = next(index for index, name in enumerate(table.feature_names) if name.startswith("count_"))
        counts = [row[count] for key, row in table_rows(store, table.module).items() if key[0] == zip_code]
        assert counts and all(count == 1 for count in counts), table.module
    assert DEFAULT_LOOKBACK >= LATE_ARRIVAL_GRACE


@pytest.mark.parametrize(("text", "days"), [("", DEFAULT_LOOKBACK.days), ("2", 2), (" 0.5 ", 0.5)])
def test_the_lookback_widget_takes_days(text, days):
    assert parse_lookback_days(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["0", "-1", "two", "inf", "nan"])
def test_the_lookback_widget_refuses_anything_but_a_positive_number(text):
    with pytest.raises(ValueError, match=f"lookback_days must be a positive number of days, not '{text}'; e.g."):
        parse_lookback_days(text)

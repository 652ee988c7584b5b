"""A trip is trained on the feature values it was scored with (``features.time_windows``' availability rule).

Trips land at drop-off. Batch inference scores a trip soon after the feature job ran on what
had landed by then; training reads the same windows weeks later, after every trip under way at
scoring time has landed too. Both must give the trip the same inputs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pandas as pd
from pyspark.sql import functions as F

from features.feature_tables import FEATURE_TABLES, feature_lookups
from features.generate import generate_and_write_features
from features.local_store import LocalFeatureStore
from features.scoring import split_at_feature_freshness
from features.training import LABEL
from features.trip_attributes import prepare_trips
from tests.features.conftest import ENV

START = datetime(2022, 3, 1)
# The feature job and batch inference run here, halfway through the day of trips.
SCORING_TIME = START + timedelta(hours=14)
FEATURES = [name for table in FEATURE_TABLES for name in table.feature_names]


def day_of_trips(spark):
    """A trip every 6 minutes for a day, alternating two pickup zips, of 8 to 80 minutes each."""
    rng = random.Random(3)
    rows = []
    for index in range(240):
        pickup = START + timedelta(minutes=6 * index)
        minutes = rng.choice([8, 15, 25, 45, 80])
        zips = (10001 + index % 2, 10011 + index % 3)
        rows.append((index, pickup, pickup + timedelta(minutes=minutes), minutes / 4, 3 + minutes * 0.6, *zips))
    columns = ["trip_id", "tpep_pickup_datetime", "tpep_dropoff_datetime", "trip_distance", LABEL]
    return spark.createDataFrame(rows, [*columns, "pickup_zip", "dropoff_zip"])


def features_of(store: LocalFeatureStore, trips) -> pd.DataFrame:
    """The looked-up features of ``trips`` by ``trip_id``, as training and ``score_batch`` look them up."""
    joined = store.create_training_set(prepare_trips(trips), feature_lookups(ENV), LABEL, []).load_df()
    return joined.select("trip_id", *FEATURES).toPandas().set_index("trip_id").sort_index()


def test_a_trip_is_trained_on_the_features_it_was_scored_with_after_later_trips_land(spark, tmp_path):
    feed = day_of_trips(spark)
    store = LocalFeatureStore(spark, tmp_path)
    # Scoring time: the feature job over what has landed, then batch inference over the same trips.
    landed = feed.where(F.col("tpep_dropoff_datetime") <= SCORING_TIME)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, landed, table.module, ENV)
    ready, _ = split_at_feature_freshness(store, landed, ENV)
    scored = features_of(store, ready)
    # Later: every trip has landed, the scheduled feature run recomputed its lookback; training reads.
    for table in FEATURE_TABLES:
        generate_and_write_features(store, feed, table.module, ENV)
    trained = features_of(store, feed).loc[scored.index]

    pd.testing.assert_frame_equal(trained, scored)
    # Enough scored trips with real counts for a difference to show: the newest of them were scored
    # while trips of their windows were still under way.
    assert len(scored) > 100
    assert scored["count_trips_window_1h_pickup_zip"].notna().sum() > 100

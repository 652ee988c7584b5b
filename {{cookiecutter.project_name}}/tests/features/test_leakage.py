"""A trip's own fare (the label) never reaches the model inputs it is trained or scored with.

The mean-fare feature is built from fares, so a lookup that rounded a trip's time up, or a
window that took fares before the trips had dropped off, would hand the model the answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from features.feature_tables import FEATURE_TABLES, PICKUP_FEATURES, feature_lookups
from features.generate import generate_and_write_features
from features.local_store import LocalFeatureStore
from features.time_windows import FEATURE_AVAILABILITY_LAG
from features.training import LABEL, MODEL_INPUT_COLUMNS
from features.trip_attributes import prepare_trips

ENV = "dev"
PICKUP, DROPOFF = "tpep_pickup_datetime", "tpep_dropoff_datetime"


def model_input_rows(spark, trips, root) -> pd.DataFrame:
    """Every trip's model inputs, indexed by ``trip_id``, from feature tables written under ``root``."""
    store = LocalFeatureStore(spark, root)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, trips, table.module, ENV)
    training_set = store.create_training_set(prepare_trips(trips), feature_lookups(ENV), LABEL, [])
    return training_set.load_df().toPandas().set_index("trip_id").sort_index()


def rounded_down(time: datetime) -> datetime:
    step = timedelta(minutes=PICKUP_FEATURES.rounding_minutes)
    return time - (time - time.replace(minute=0, second=0, microsecond=0)) % step


def lookup_time(pickup: datetime) -> datetime:
    """The end of the pickup window a trip picked up at ``pickup`` reads (``features.point_in_time.lookup_time``)."""
    return rounded_down(pickup - FEATURE_AVAILABILITY_LAG)


def most_exposed_trip(rows) -> int:
    """Index of the trip most likely to meet its own fare in its inputs, if anything leaked.

    That is the trip dropped off longest before the end of the lookup step its pickup falls
    in (a lookup rounded up to that end, or one window too late, would contain its fare), among
    the trips whose fare a later trip of the same zip does look up, so that the test sees the
    fare travel at all. Trips picked up exactly on a step boundary are skipped: any rounding
    leaves them there.
    """
    step = timedelta(minutes=PICKUP_FEATURES.rounding_minutes)
    seen_later = [
        index
        for index, trip in enumerate(rows)
        if rounded_down(trip[PICKUP]) != trip[PICKUP]
        and any(
            later["pickup_zip"] == trip["pickup_zip"]
            and trip[DROPOFF] <= lookup_time(later[PICKUP]) <= trip[PICKUP] + timedelta(hours=1)
            for later in rows[index + 1 :]
        )
    ]
    assert seen_later, "the synthetic trips have no trip whose window a later trip looks up"
    return min(seen_later, key=lambda index: rows[index][DROPOFF] - (rounded_down(rows[index][PICKUP]) + step))


def test_changing_a_trips_fare_leaves_its_own_inputs_and_all_earlier_ones_unchanged(spark, trips, tmp_path):
    rows = sorted(trips.collect(), key=lambda row: row[PICKUP])
    target = most_exposed_trip(rows)

    def with_target_fare(fare):
        frame = [
            {**row.asDict(), "trip_id": i, LABEL: fare if i == target else row[LABEL]} for i, row in enumerate(rows)
        ]
        return spark.createDataFrame(pd.DataFrame(frame)[["trip_id", *trips.columns]])

    original_fare = rows[target][LABEL]
    before = model_input_rows(spark, with_target_fare(original_fare), tmp_path / "before")
    after = model_input_rows(spark, with_target_fare(original_fare * 10 + 100), tmp_path / "after")
    inputs = list(MODEL_INPUT_COLUMNS)

    # The trip's own inputs, and those of every trip that looked up before its fare was known.
    unknown_yet = before["rounded_pickup_datetime"] < pd.Timestamp(rows[target][DROPOFF])
    unchanged = before.index[unknown_yet].union([target])
    pd.testing.assert_frame_equal(before.loc[unchanged, inputs], after.loc[unchanged, inputs])
    assert after.loc[target, LABEL] != before.loc[target, LABEL]
    # The fare does reach later trips' windows, so the comparison above can see a leak.
    assert not before[inputs].equals(after[inputs])

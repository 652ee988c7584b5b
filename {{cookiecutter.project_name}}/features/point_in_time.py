"""Point-in-time lookups: attach to each trip the latest feature row known at its time.

``add_lookup_timestamps`` prepares the trip columns that every lookup needs; both the
Databricks client and the local store use it, for training and for scoring alike.
``as_of_join`` is the local implementation of the lookup itself.

A trip's lookup time (``lookup_time``) is its time minus ``FEATURE_AVAILABILITY_LAG``, rounded
DOWN to the table's window slide: the end of the newest window that was available at the
trip's time (``features.time_windows``' availability rule). A feature row is stamped with its
window's end, so with a lag of two hours the row found for a 10:07 pickup is the one for the
window ending 08:00, which contains only earlier trips, all landed by 10:00. Training and
scoring both look up through ``add_lookup_timestamps``, so a trip gets the same window in both.
(The original rounded up, so a trip's own fare leaked into the features it was trained on.)
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.feature_tables import FEATURE_TABLES, FeatureLookup, FeatureTable
from features.time_windows import FEATURE_AVAILABILITY_LAG, clock_seconds

_KEY, _TIME, _IS_TRIP, _FEATURES = "__lookup_key", "__lookup_time", "__is_trip", "__features"
_FEATURE_TIME = "__feature_time"


def round_down_to_minutes(timestamp: Column, minutes: int, earlier_by_seconds: int = 0) -> Column:
    """``timestamp`` minus ``earlier_by_seconds``, truncated to a multiple of ``minutes`` since the epoch (a timestamp).

    Works on the clock's epoch seconds (``features.time_windows.clock_seconds``), so the result
    does not depend on the session time zone, and it is stamped like the feature rows' window ends.
    """
    step = 60 * minutes
    return F.timestamp_seconds(F.floor((clock_seconds(timestamp) - F.lit(earlier_by_seconds)) / step) * step)


def lookup_time(table: FeatureTable) -> Column:
    """The end of the newest window of ``table`` available at a trip's time (its ``source_timestamp``).

    The trip's time minus ``FEATURE_AVAILABILITY_LAG``, rounded down to the table's slide: see
    the module docstring and ``features.time_windows``' availability rule. A TIMESTAMP.
    """
    lag = int(FEATURE_AVAILABILITY_LAG.total_seconds())
    return round_down_to_minutes(F.col(table.source_timestamp), table.rounding_minutes, lag)


def add_lookup_timestamps(trips: DataFrame) -> DataFrame:
    """``trips`` plus, per feature table, its lookup time column (``lookup_time``)."""
    return trips.withColumns({table.timestamp_lookup_key: lookup_time(table) for table in FEATURE_TABLES})


def as_of_join(
    trips: DataFrame, features: DataFrame, lookup: FeatureLookup, primary_key: str, timestamp_key: str
) -> DataFrame:
    """``trips`` plus ``lookup.feature_names`` from the latest matching feature row.

    A feature row matches a trip when its ``primary_key`` equals the trip's
    ``lookup.lookup_key`` and its ``timestamp_key`` is at or before the trip's
    ``lookup.timestamp_lookup_key``, and no more than ``lookup.lookback_seconds`` before
    it (the Databricks client's ``lookback_window``). Trips without a match get nulls.

    Trips and feature rows are stacked into one frame and sorted per key by time
    (feature rows first on ties); each trip then takes the last feature row seen
    so far. This stays linear in the data, unlike a range join.
    """
    feature_struct = F.struct(
        *[F.col(name) for name in lookup.feature_names], F.col(timestamp_key).cast("timestamp").alias(_FEATURE_TIME)
    )
    trip_rows = trips.select(
        *[F.col(c) for c in trips.columns],
        F.col(lookup.lookup_key).alias(_KEY),
        F.col(lookup.timestamp_lookup_key).cast("timestamp").alias(_TIME),
        F.lit(True).alias(_IS_TRIP),
        F.lit(None).cast(features.select(feature_struct).schema[0].dataType).alias(_FEATURES),
    )
    feature_rows = features.where(F.col(primary_key).isNotNull()).select(
        *[F.lit(None).cast(field.dataType).alias(field.name) for field in trips.schema.fields],
        F.col(primary_key).cast(trips.schema[lookup.lookup_key].dataType).alias(_KEY),
        F.col(timestamp_key).cast("timestamp").alias(_TIME),
        F.lit(False).alias(_IS_TRIP),
        feature_struct.alias(_FEATURES),
    )
    known_so_far = (
        Window.partitionBy(_KEY)
        .orderBy(F.col(_TIME).asc_nulls_first(), _IS_TRIP)
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    joined = trip_rows.unionByName(feature_rows).withColumn(
        _FEATURES, F.last(_FEATURES, ignorenulls=True).over(known_so_far)
    )
    if lookup.lookback_seconds is not None:
        too_old = (
            F.col(f"{_FEATURES}.{_FEATURE_TIME}").cast("long") < F.col(_TIME).cast("long") - lookup.lookback_seconds
        )
        joined = joined.withColumn(_FEATURES, F.when(too_old, F.lit(None)).otherwise(F.col(_FEATURES)))
    return joined.where(F.col(_IS_TRIP)).select(
        *trips.columns, *[F.col(f"{_FEATURES}.{name}").alias(name) for name in lookup.feature_names]
    )

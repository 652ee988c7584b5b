"""A trip's own attributes: what its pickup time says about it, known the moment it starts.

They come from the trip's own timestamp, never from a looked-up feature row (a window's
weekend flag describes the window, not the trip), and follow the one time convention
(features/time_windows.py): the clock as stored, New York time, no zone conversion.

``prepare_trips`` adds them together with the lookup times, and training and scoring both
call it, so the model gets the same inputs at both ends (on Databricks ``score_batch``
passes every trip column the training set kept).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.point_in_time import add_lookup_timestamps
from features.time_windows import hour_of_day, is_weekend

PICKUP_TIME = "tpep_pickup_datetime"
# Both INT: the pickup's clock hour (0-23) and 1 on a Saturday or Sunday, else 0.
TRIP_ATTRIBUTES = ("pickup_hour", "pickup_is_weekend")


def add_trip_attributes(trips: DataFrame) -> DataFrame:
    """``trips`` plus ``pickup_hour`` and ``pickup_is_weekend`` from its own pickup time."""
    pickup = F.col(PICKUP_TIME)
    return trips.withColumns({"pickup_hour": hour_of_day(pickup), "pickup_is_weekend": is_weekend(pickup)})


def prepare_trips(trips: DataFrame) -> DataFrame:
    """Raw ``trips`` plus every column a training set or a scoring run adds before the lookups."""
    return add_trip_attributes(add_lookup_timestamps(trips))

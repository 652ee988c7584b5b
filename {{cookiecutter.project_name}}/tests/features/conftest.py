"""Synthetic trips for the feature-store tests (the Spark session comes from tests/conftest.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

TRIP_COLUMNS = [
    "tpep_pickup_datetime",
    "tpep_dropoff_datetime",
    "trip_distance",
    "fare_amount",
    "pickup_zip",
    "dropoff_zip",
]


@pytest.fixture
def trips(spark):
    """300 trips over three days between a few zips; the fare grows with the distance."""
    rng = random.Random(7)
    start = datetime(2022, 1, 14)
    rows = []
    for _ in range(300):
        pickup = start + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        distance = round(rng.uniform(0.5, 12.0), 2)
        dropoff = pickup + timedelta(minutes=5 + distance * 3)
        fare = round(3 + 2.5 * distance, 2)
        rows.append(
            (pickup, dropoff, distance, fare, rng.choice([10001, 10002, 10003]), rng.choice([10001, 10011, 10021]))
        )
    return spark.createDataFrame(rows, TRIP_COLUMNS)

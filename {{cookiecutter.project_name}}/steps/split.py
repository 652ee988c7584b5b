"""Split step: clean each split after MLflow Recipes has split the ingested trips.

Meter data contains refunds (negative fares), trips with no distance and odometer
glitches; training or evaluating on them only teaches the model noise.
"""

from __future__ import annotations

import pandas as pd

FARE_RANGE = (0.0, 1000.0)
DISTANCE_RANGE = (0.0, 400.0)


def clean_trips(trips: pd.DataFrame) -> pd.DataFrame:
    """Rows without missing values whose fare and distance lie strictly inside the plausible ranges."""
    trips = trips.dropna()
    plausible = trips["fare_amount"].between(*FARE_RANGE, inclusive="neither") & trips["trip_distance"].between(
        *DISTANCE_RANGE, inclusive="neither"
    )
    return trips[plausible]


def process_splits(
    train_df: pd.DataFrame, validation_df: pd.DataFrame, test_df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The recipe's ``post_split_method``: clean the train, validation and test splits alike."""
    return clean_trips(train_df), clean_trips(validation_df), clean_trips(test_df)

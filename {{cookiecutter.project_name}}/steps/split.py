"""Split step: split the ingested trips by time, then clean each split.

The recipe's ``split_method`` holds out the most recent trips (time-ordered data must not
be split at random) and ``post_split_method`` drops implausible meter data; both rules
live in ``steps.trips``, which ModelValidation applies too.
"""

from __future__ import annotations

import pandas as pd

from steps.trips import clean_trips, time_split_labels

__all__ = ["clean_trips", "process_splits", "split_by_pickup_time"]


def split_by_pickup_time(trips: pd.DataFrame) -> pd.Series:
    """The recipe's ``split_method``: ``TRAINING``/``VALIDATION``/``TEST`` per trip, oldest to newest."""
    return time_split_labels(trips)


def process_splits(
    train_df: pd.DataFrame, validation_df: pd.DataFrame, test_df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The recipe's ``post_split_method``: clean the train, validation and test splits alike."""
    return clean_trips(train_df), clean_trips(validation_df), clean_trips(test_df)

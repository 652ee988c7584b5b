"""Split step: split the ingested trips by time, then clean each split.

The recipe's ``split_method`` holds out the most recent trips (time-ordered data must not
be split at random) and ``post_split_method`` drops implausible meter data; both rules
live in ``steps.trips``, which ModelValidation applies too. ``held_out_cutoff`` is where this
split starts the test period; notebooks/Train records it on the registered version, and
ModelValidation scores the trips from it on.
"""

from __future__ import annotations

import pandas as pd

from model_spec.data import LABEL
from steps.trips import clean_trips, holdout_cutoff_of, in_canonical_order, time_split_labels

__all__ = ["clean_trips", "held_out_cutoff", "process_splits", "split_by_pickup_time"]


def split_by_pickup_time(trips: pd.DataFrame) -> pd.Series:
    """The recipe's ``split_method``: ``TRAINING``/``VALIDATION``/``TEST`` per trip, oldest to newest."""
    return time_split_labels(trips)


def process_splits(
    train_df: pd.DataFrame, validation_df: pd.DataFrame, test_df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The recipe's ``post_split_method``: clean the train, validation and test splits alike.

    Each split comes back in canonical order (``steps.trips.in_canonical_order``): the
    ingest query returns its rows in no defined order and the seeded ``SGDRegressor`` fit
    depends on it, so this keeps the same data and seed giving the same model.
    """
    return tuple(in_canonical_order(clean_trips(split)) for split in (train_df, validation_df, test_df))


def held_out_cutoff(ingested: pd.DataFrame) -> str:
    """The first pickup time of the test split that the split step makes of ``ingested`` (``yyyy-MM-dd HH:mm:ss``).

    ``ingested`` is the recipe's ``ingested_data`` artifact. MLflow's split step drops the rows
    without a label before it calls ``split_by_pickup_time``, so this does too: the result is
    exactly where that split's ``TEST`` period starts.
    """
    return holdout_cutoff_of(ingested[ingested[LABEL].notna()])

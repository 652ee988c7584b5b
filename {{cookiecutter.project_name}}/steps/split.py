"""Split step: split the ingested trips by time, then clean each split.

The recipe's ``split_method`` holds out the most recent trips (time-ordered data must not
be split at random) and ``post_split_method`` drops implausible meter data; both rules
live in ``steps.trips``, which ModelValidation applies too. The periods are cut among the
plausible trips only, as the other tracks cut them: one implausible pick-up time (a meter
clock dated 2088) would otherwise start the test period after every real trip.
``held_out_cutoff`` is where this split starts the test period; notebooks/Train records it
on the registered version, and ModelValidation scores the held-out period from it.
"""

from __future__ import annotations

import pandas as pd

from model_spec.contract import TRAINING_CONTRACT
from steps.row_checks import row_problems
from steps.trips import clean_trips, holdout_cutoff_of, in_canonical_order, time_split_labels

__all__ = ["clean_trips", "held_out_cutoff", "process_splits", "split_by_pickup_time"]


def split_by_pickup_time(trips: pd.DataFrame) -> pd.Series:
    """The recipe's ``split_method``: ``TRAINING``/``VALIDATION``/``TEST`` per trip, oldest to newest.

    The periods are cut among the trips that meet the ``TRAINING_CONTRACT`` now
    (``steps.trips.clean_trips``), the trips the splits keep; a trip breaking it is labelled
    ``TRAINING`` and dropped there by ``process_splits``. Raises ``ValueError`` naming the
    contract when no trip meets it.
    """
    plausible = row_problems(trips, TRAINING_CONTRACT).isna().to_numpy()
    if not plausible.any():
        raise ValueError(
            f"None of the {len(trips)} ingested trips meets the TRAINING_CONTRACT (model_spec/contract.py): "
            "check the ingest step's input"
        )
    labels = pd.Series("TRAINING", index=trips.index)
    labels[plausible] = time_split_labels(trips[plausible]).to_numpy()
    return labels


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

    ``ingested`` is the recipe's ``ingested_data`` artifact. Like ``split_by_pickup_time``, this
    cuts among the trips that meet the ``TRAINING_CONTRACT`` (which also drops the rows without
    a label, as MLflow's split step does first): the result is where that split's ``TEST``
    period starts. Both judge a pick-up in the future against the clock when they run: only a
    trip dated within the time between the split step and this call, a day ahead, could differ.
    """
    return holdout_cutoff_of(clean_trips(ingested))

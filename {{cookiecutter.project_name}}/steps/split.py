"""Split step: split the ingested trips by time, then clean each split.

The recipe's ``split_method`` holds out the most recent trips (time-ordered data must not
be split at random) and ``post_split_method`` drops implausible meter data; both rules
live in ``steps.trips``, which ModelValidation applies too. The periods are cut among the
plausible trips only, as the other tracks cut them: one implausible pick-up time (a meter
clock dated 2088) would otherwise start the test period after every real trip.
``held_out_cutoff`` is where this split starts the test period; notebooks/Train records it
on the registered version, and ModelValidation scores the held-out period from it.

Each ingested trip is checked against the ``TRAINING_CONTRACT`` once: ``split_by_pickup_time``
remembers which rows of each split broke it, and ``process_splits``, which MLflow calls next in
the same process with those splits, drops them without checking again; ``held_out_cutoff``
reads the cleaned splits, which hold only trips that met it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from model_spec.contract import TRAINING_CONTRACT
from steps.row_checks import row_problems
from steps.trips import clean_trips, holdout_cutoff_of, in_canonical_order, time_split_labels

__all__ = ["clean_trips", "held_out_cutoff", "process_splits", "recipe_held_out_cutoff", "split_by_pickup_time"]

SPLITS = ("TRAINING", "VALIDATION", "TEST")
# The recipe's artifacts of the split step's cleaned splits, in the order of SPLITS.
SPLIT_ARTIFACTS = ("training_data", "validation_data", "test_data")


@dataclass(frozen=True)
class _CheckedSplit:
    """The rows ``split_by_pickup_time`` gave one label, in order: their hashes and which met the contract."""

    row_hashes: np.ndarray
    plausible: np.ndarray


# What the last split_by_pickup_time checked, per label: MLflow's split step calls process_splits
# right after it, in the same process, with the rows of each label in their order.
_checked: dict[str, _CheckedSplit] = {}


def _row_hashes(rows: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(rows, index=False).to_numpy()


def split_by_pickup_time(trips: pd.DataFrame) -> pd.Series:
    """The recipe's ``split_method``: ``TRAINING``/``VALIDATION``/``TEST`` per trip, oldest to newest.

    The periods are cut among the trips that meet the ``TRAINING_CONTRACT`` now
    (``steps.trips.clean_trips``), the trips the splits keep; a trip breaking it is labelled
    ``TRAINING`` and dropped there by ``process_splits``, which is told which rows they are.
    Raises ``ValueError`` naming the contract when no trip meets it.
    """
    plausible = row_problems(trips, TRAINING_CONTRACT).isna().to_numpy()
    if not plausible.any():
        raise ValueError(
            f"None of the {len(trips)} ingested trips meets the TRAINING_CONTRACT (model_spec/contract.py): "
            "check the ingest step's input"
        )
    labels = pd.Series("TRAINING", index=trips.index)
    labels[plausible] = time_split_labels(trips[plausible]).to_numpy()
    _checked.clear()
    for name in SPLITS:
        chosen = (labels == name).to_numpy()
        _checked[name] = _CheckedSplit(_row_hashes(trips[chosen]), plausible[chosen])
    return labels


def _plausible_rows(split: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of ``split`` that meet the contract: as ``split_by_pickup_time`` found when it made
    this split (the same rows in the same order), else checked now."""
    checked: Optional[_CheckedSplit] = _checked.get(name)
    if checked is not None and np.array_equal(_row_hashes(split), checked.row_hashes):
        return split[checked.plausible]
    return clean_trips(split)


def process_splits(
    train_df: pd.DataFrame, validation_df: pd.DataFrame, test_df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The recipe's ``post_split_method``: clean the train, validation and test splits alike.

    The rows that broke the contract when ``split_by_pickup_time`` made the splits are dropped
    without checking them again; splits it did not make (other rows, or another order) are
    checked here. Each split comes back in canonical order (``steps.trips.in_canonical_order``):
    the ingest query returns its rows in no defined order and the seeded ``SGDRegressor`` fit
    depends on it, so this keeps the same data and seed giving the same model.
    """
    splits = (train_df, validation_df, test_df)
    return tuple(in_canonical_order(_plausible_rows(split, name)) for split, name in zip(splits, SPLITS))


def held_out_cutoff(train_df: pd.DataFrame, validation_df: pd.DataFrame, test_df: pd.DataFrame) -> str:
    """The first pickup time of the test period of the split step's cleaned splits (``yyyy-MM-dd HH:mm:ss``).

    The splits are the recipe's ``training_data``, ``validation_data`` and ``test_data``
    artifacts (``process_splits``' output): together, the ingested trips with a label that met
    the ``TRAINING_CONTRACT``, the trips ``split_by_pickup_time`` cut the periods among, so the
    result is where its ``TEST`` period starts, without checking a row again.
    """
    return holdout_cutoff_of(pd.concat([train_df, validation_df, test_df], ignore_index=True))


def recipe_held_out_cutoff(recipe) -> str:
    """``held_out_cutoff`` of the splits an MLflow ``Recipe`` made (its ``SPLIT_ARTIFACTS``), after its split step ran."""
    return held_out_cutoff(*(recipe.get_artifact(name) for name in SPLIT_ARTIFACTS))

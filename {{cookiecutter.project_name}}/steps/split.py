{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
"""Split step: split the ingested trips by time, then clean each split.

{% if recipes %}The recipe's ``split_method``{% else %}``split_by_pickup_time``{% endif %} holds out the most recent trips (time-ordered data must not
be split at random) and {% if recipes %}``post_split_method``{% else %}``process_splits``{% endif %} drops implausible meter data; both rules
live in ``steps.trips``, which ModelValidation applies too.
"""

from __future__ import annotations

import pandas as pd

from steps.trips import clean_trips, time_split_labels

__all__ = ["clean_trips", "process_splits", "split_by_pickup_time"]


def split_by_pickup_time(trips: pd.DataFrame) -> pd.Series:
    """{% if recipes %}The recipe's ``split_method``{% else %}The split labels{% endif %}: ``TRAINING``/``VALIDATION``/``TEST`` per trip, oldest to newest."""
    return time_split_labels(trips)


def process_splits(
    train_df: pd.DataFrame, validation_df: pd.DataFrame, test_df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """{% if recipes %}The recipe's ``post_split_method``{% else %}Clean{% endif %}{% if recipes %}: clean{% endif %} the train, validation and test splits alike."""
    return clean_trips(train_df), clean_trips(validation_df), clean_trips(test_df)

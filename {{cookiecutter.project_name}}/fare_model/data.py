"""Trips for training and validation: one cleaning and one time-ordered split for both.

Taxi fares drift (tariff changes, traffic, seasons), so a model is judged on trips that
happened *after* everything it was trained on: the most recent ``HOLDOUT_FRACTION`` of the
trips, by pickup time, but never more than the newest ``HELD_OUT_DAYS`` days, is held out
(``steps.trips.holdout_cutoff_of``, the rule every ML track applies), so on a long history the
model learns from everything up to its last week. Training records the cutoff on the model
version and validation selects the trips from the cutoff to at most ``HELD_OUT_DAYS`` days
after it, so a validation run never scores a trip the model has seen, and scores a bounded
period even when it reads a different (newer, grown) table.

Training reads a bounded window, the newest ``MAX_COLLECTED_ROWS`` trips (the bound every
ML track of this template uses), so a growing table never stops scheduled retraining, and it
fits on the trips in one canonical order, so the same trips give the same model whatever
order Spark returns them in.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from model_spec.data import LABEL as TARGET
from model_spec.data import TIME_COLUMN
from steps.predictions import record_id, record_id_columns
from steps.trips import (
    HELD_OUT_DAYS,
    HOLDOUT_FRACTION,
    MAX_HELD_OUT_ROWS,
    clean_trips,
    collect_at_most,
    holdout_cutoff_of,
    in_canonical_order,
)

# The training window: the most trips training collects to the driver, the newest ones (the
# other ML tracks' ingest limit and feature-store training sample are the same).
MAX_COLLECTED_ROWS = 2_000_000

__all__ = [
    "HELD_OUT_DAYS",
    "HOLDOUT_FRACTION",
    "MAX_COLLECTED_ROWS",
    "MAX_HELD_OUT_ROWS",
    "TARGET",
    "TIME_COLUMN",
    "TimeSplit",
    "clean_trips",
    "held_out_trips",
    "in_canonical_order",
    "integer_schema_hint_ignored",
    "newest_trips",
    "newest_window",
    "split_by_time",
    "to_pandas_bounded",
]


@dataclass(frozen=True)
class TimeSplit:
    """Training trips before ``cutoff`` and held-out trips from ``cutoff`` on (pickup time)."""

    train: pd.DataFrame
    held_out: pd.DataFrame
    cutoff: pd.Timestamp


@contextlib.contextmanager
def integer_schema_hint_ignored() -> Iterator[None]:
    """Hide MLflow's hint about integer columns while it records a dataset's schema.

    MLflow gives the hint whenever it infers a schema with integer columns (the zip codes):
    it warns that an integer column cannot hold a missing value, which the logged datasets and
    the model signature (``fare_model.training``) rule out on purpose: scoring quarantines such rows.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
        yield


def split_by_time(trips: pd.DataFrame) -> TimeSplit:
    """Hold out the newest trips of ``trips`` by pickup time: ``HOLDOUT_FRACTION``, at most ``HELD_OUT_DAYS`` days.

    The cutoff is ``steps.trips.holdout_cutoff_of``, a pickup time in whole seconds, not a row
    count: trips picked up in the same second land on the same side, and the split is the same
    whatever order rows come in. Raises ``ValueError`` when either side would be empty.
    """
    times = pd.to_datetime(trips[TIME_COLUMN])
    cutoff = pd.Timestamp(holdout_cutoff_of(trips)) if len(trips) else None
    if cutoff is None or not (times < cutoff).any() or not (times >= cutoff).any():
        raise ValueError(
            f"Cannot split {len(trips)} trips by time: need trips at two or more distinct {TIME_COLUMN} values"
        )
    return TimeSplit(train=trips[times < cutoff], held_out=trips[times >= cutoff], cutoff=cutoff)


def newest_window(trips: DataFrame, max_rows: int = MAX_COLLECTED_ROWS) -> DataFrame:
    """The plan of the ``max_rows`` most recent trips of ``trips`` (by pickup time): ``newest_trips`` collects it.

    A sort followed by a limit that is collected: Spark runs it as a top-N (``TakeOrderedAndProject``),
    each partition keeping its ``max_rows`` newest rows and the driver merging those, not as a
    sort of the whole table (no shuffle); the cost is bounded by ``max_rows`` per task. Ties at
    the window's start are broken by the record's id (``steps.predictions.record_id``, a hash
    of the model's inputs) and then the label: a stable key, so the window is the same rows on
    every run over the same trips, also after a column the model does not read is added to the table.
    """
    order = [F.col(TIME_COLUMN).desc_nulls_last(), record_id(record_id_columns(trips.columns)).asc()]
    if TARGET in trips.columns:
        order.append(F.col(TARGET).asc_nulls_last())
    return trips.orderBy(*order).limit(max_rows)


def newest_trips(trips: DataFrame, max_rows: int = MAX_COLLECTED_ROWS) -> pd.DataFrame:
    """The ``max_rows`` most recent trips of ``trips`` (``newest_window``), collected in canonical order.

    The training window: older trips are left out instead of failing the job when the table
    grows past what the driver holds; ``fare_model.training`` logs the window's size and start
    to the run.
    """
    return in_canonical_order(newest_window(trips, max_rows).toPandas())


def to_pandas_bounded(frame: DataFrame, max_rows: int = MAX_HELD_OUT_ROWS) -> pd.DataFrame:
    """Collect a Spark DataFrame to pandas, refusing more than ``max_rows`` rows (a held-out period's bound).

    Raises ``ValueError`` instead of exhausting the driver's memory (``steps.trips.collect_at_most``).
    """
    return collect_at_most(frame, max_rows, "steps.trips.MAX_HELD_OUT_ROWS")


def held_out_trips(
    trips: DataFrame | pd.DataFrame, cutoff: pd.Timestamp, max_rows: int = MAX_HELD_OUT_ROWS
) -> pd.DataFrame:
    """Cleaned trips picked up from ``cutoff`` (the training cutoff) to ``HELD_OUT_DAYS`` days after it, as pandas.

    Both ends are included. ``trips`` is a Spark DataFrame in the jobs, where the filter runs
    in Spark so that only the held-out period is collected, or a pandas one (local runs,
    already in memory); the cleaning is the one training applied. Raises ``ValueError`` when
    the target column is missing or no trip remains.
    """
    if TARGET not in trips.columns:
        raise ValueError(f"Validation trips must include the true {TARGET} column")
    until = cutoff + pd.Timedelta(days=HELD_OUT_DAYS)
    if isinstance(trips, pd.DataFrame):
        recent = trips[pd.to_datetime(trips[TIME_COLUMN]).between(cutoff, until)]
    else:
        # A string literal cast by Spark is read in the session time zone, like the stored pickup
        # times; a Python datetime would be converted from the driver's operating-system zone.
        since, last = (F.lit(bound.isoformat(sep=" ")).cast("timestamp") for bound in (cutoff, until))
        recent = to_pandas_bounded(trips.where(F.col(TIME_COLUMN).cast("timestamp").between(since, last)), max_rows)
    held_out = clean_trips(recent)
    if held_out.empty:
        raise ValueError(f"No valid trip picked up at or after the training cutoff {cutoff}")
    return held_out

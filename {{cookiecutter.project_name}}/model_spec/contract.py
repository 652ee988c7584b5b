"""The example model's cleaning rules: which rows it may score, and which it may learn from.

Both are pandera schemas (https://pandera.readthedocs.io). ``INPUT_CONTRACT`` is the scoring
contract: batch inference quarantines the rows it rejects (``steps.row_checks``), each with
the names of the broken rules as its reason. ``TRAINING_CONTRACT`` adds the label's rule:
training drops the rows it rejects (``steps.trips.clean_trips``), so it keeps exactly the rows
scoring would score, less those whose label it cannot learn from.

Write each check with a ``name`` and an ``error`` that read as a reason (``outside`` does);
impose no dtype, so the same schemas check pandas frames and Spark's pandas batches alike.
Other columns are allowed and ignored.

The schemas are deterministic: they never read the clock. The one rule that needs "now" (a
pick-up may not lie in the future) is added by ``as_of(contract, now)``, with the run's own
timestamp, so every batch of a run, on any executor, judges rows against the same instant
and a test or a re-run can pass the instant it means (``steps.row_checks`` does this).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import pandas as pd
import pandera.pandas as pa

from model_spec.data import LABEL, TIME_COLUMN

PICKUP, DROPOFF = TIME_COLUMN, "tpep_dropoff_datetime"
INPUT_COLUMNS = (PICKUP, DROPOFF, "trip_distance", "pickup_zip", "dropoff_zip")
# Open interval of plausible meter distances in miles: 0 is a cancelled trip, beyond 400 an
# odometer glitch.
DISTANCE_RANGE = (0.0, 400.0)
# Closed interval of US ZIP codes in use (USPS: 00501 to 99950); anything else is a
# data-entry error that the model never saw in training.
ZIP_RANGE = (501, 99950)
# Meter data contains refunds (negative fares); training or evaluating on them only teaches
# the model noise. Open interval.
FARE_RANGE = (0.0, 1000.0)
DROPOFF_BEFORE_PICKUP = "drop-off before pick-up"
# A pick-up more than a day after the run's time (UTC) is a meter clock glitch (a year 2088): scored, it
# would move batch inference's late-arrival window (steps.predictions) past every real trip.
# A day covers the data's local clock and clock skew.
FUTURE_TOLERANCE = timedelta(days=1)
PICKUP_IN_FUTURE = f"{PICKUP} in the future"


def outside(column: str, bounds: tuple, open_interval: bool) -> pa.Check:
    """A pandera check that ``column``'s values lie in ``bounds``, named as the reason reads."""
    shown = f"({bounds[0]}, {bounds[1]})" if open_interval else f"[{bounds[0]}, {bounds[1]}]"
    closed, reason = not open_interval, f"{column} outside {shown}"
    # pandera reports a failed check by its ``error``; ``name`` is what the reasons are ranked by.
    return pa.Check.in_range(*bounds, include_min=closed, include_max=closed, name=reason, error=reason)


def latest_plausible_pickup(now: datetime) -> pd.Timestamp:
    """The latest pick-up time a real trip can have at ``now``: ``now`` plus ``FUTURE_TOLERANCE``.

    ``now`` is the run's timestamp: naive (read as UTC) or zone-aware (converted to UTC). The
    result is naive UTC.
    """
    instant = pd.Timestamp(now)
    if instant.tzinfo is not None:
        instant = instant.tz_convert("UTC").tz_localize(None)
    return instant + FUTURE_TOLERANCE


def _not_after(latest: pd.Timestamp, pickups: pd.Series) -> pd.Series:
    """True where a pick-up time is at most ``latest`` (naive UTC), compared in UTC."""
    times = pd.to_datetime(pickups)
    if times.dt.tz is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times <= latest


def as_of(contract: pa.DataFrameSchema, now: datetime) -> pa.DataFrameSchema:
    """``contract`` plus the rule that a pick-up is not in the future at ``now`` (the run's timestamp).

    A pick-up later than ``latest_plausible_pickup(now)`` breaks the rule ``PICKUP_IN_FUTURE``.
    A contract without a ``PICKUP`` column is returned as it is.
    """
    if PICKUP not in contract.columns:
        return contract
    rule = pa.Check(partial(_not_after, latest_plausible_pickup(now)), name=PICKUP_IN_FUTURE, error=PICKUP_IN_FUTURE)
    return contract.update_column(PICKUP, checks=[*contract.columns[PICKUP].checks, rule])


def _dropoff_not_before_pickup(trips: pd.DataFrame) -> pd.Series:
    # A row missing either time breaks the "missing" rule, not this one.
    if PICKUP not in trips or DROPOFF not in trips:
        return pd.Series(True, index=trips.index)
    return ~(pd.to_datetime(trips[DROPOFF]) < pd.to_datetime(trips[PICKUP]))


# Every input column present and not missing, the distance and zips in range, drop-off not
# before pick-up (and, with ``as_of``, the pick-up not in the future).
INPUT_CONTRACT = pa.DataFrameSchema(
    {
        PICKUP: pa.Column(nullable=False),
        DROPOFF: pa.Column(nullable=False),
        "trip_distance": pa.Column(nullable=False, checks=outside("trip_distance", DISTANCE_RANGE, True)),
        "pickup_zip": pa.Column(nullable=False, checks=outside("pickup_zip", ZIP_RANGE, False)),
        "dropoff_zip": pa.Column(nullable=False, checks=outside("dropoff_zip", ZIP_RANGE, False)),
    },
    checks=[pa.Check(_dropoff_not_before_pickup, name=DROPOFF_BEFORE_PICKUP, error=DROPOFF_BEFORE_PICKUP)],
    name="trip input contract",
)
# The rows training keeps: the scoring contract plus the label's rule.
TRAINING_CONTRACT = INPUT_CONTRACT.add_columns(
    {LABEL: pa.Column(nullable=False, checks=outside(LABEL, FARE_RANGE, open_interval=True))}
)

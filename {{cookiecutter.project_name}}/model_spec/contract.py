"""The example model's cleaning rules: which rows it may score, and which it may learn from.

Both are pandera schemas (https://pandera.readthedocs.io). ``INPUT_CONTRACT`` is the scoring
contract: batch inference quarantines the rows it rejects (``steps.row_checks``), each with
the names of the broken rules as its reason. ``TRAINING_CONTRACT`` adds the label's rule:
training drops the rows it rejects (``steps.trips.clean_trips``), so it keeps exactly the rows
scoring would score, less those whose label it cannot learn from.

Write each check with a ``name`` and an ``error`` that read as a reason (``outside`` does);
impose no dtype, so the same schemas check pandas frames and Spark's pandas batches alike.
Other columns are allowed and ignored.
"""

from __future__ import annotations

from datetime import timedelta

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
# A pick-up more than a day after now (UTC) is a meter clock glitch (a year 2088): scored, it
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


def latest_plausible_pickup() -> pd.Timestamp:
    """The latest pick-up time a real trip can have: now (UTC, naive) plus ``FUTURE_TOLERANCE``."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None) + FUTURE_TOLERANCE


def _not_in_future(pickups: pd.Series) -> pd.Series:
    """True where a pick-up time is at most ``latest_plausible_pickup``, compared in UTC."""
    times = pd.to_datetime(pickups)
    if times.dt.tz is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times <= latest_plausible_pickup()


def _dropoff_not_before_pickup(trips: pd.DataFrame) -> pd.Series:
    # A row missing either time breaks the "missing" rule, not this one.
    if PICKUP not in trips or DROPOFF not in trips:
        return pd.Series(True, index=trips.index)
    return ~(pd.to_datetime(trips[DROPOFF]) < pd.to_datetime(trips[PICKUP]))


# Every input column present and not missing, the pick-up not in the future, the distance and
# zips in range, drop-off not before pick-up.
INPUT_CONTRACT = pa.DataFrameSchema(
    {
        PICKUP: pa.Column(
            nullable=False, checks=pa.Check(_not_in_future, name=PICKUP_IN_FUTURE, error=PICKUP_IN_FUTURE)
        ),
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

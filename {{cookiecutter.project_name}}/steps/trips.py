{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
{%- set plain_mlflow3 = cookiecutter | derived("ml_code") == "mlflow3" -%}
{%- if plain_mlflow3 -%}
"""Rules every track applies to raw taxi trips: which trips are plausible to train and validate on.

Training and validation both clean their trips with these rules, so a model is validated on
trips cleaned exactly like its training trips.

The held-out period is the newest ``HOLDOUT_FRACTION`` of the trips, but never more than the
newest ``HELD_OUT_DAYS`` days (``holdout_cutoff_of``, the rule every ML track of this template
applies): on a table of years of trips, a share of the history would be months the model never
learns from and more trips than validation can score, while a week is a bounded, recent period
that holds every weekday and hour the model tells apart. ``fare_model.data`` splits there, and
validation scores the trips from the training cutoff to at most ``HELD_OUT_DAYS`` days after
it, a bounded period however much the validation input has grown since training.
"""
{%- else -%}
"""Rules every track applies to raw taxi trips: which trips are plausible, and which are held out.

Training, validation and the local pipeline all take these rules from here, so a model is
validated on trips cleaned exactly like its training trips and on a period training never
saw. Trips are time-ordered, so the held-out trips are the most recent ones (a random split
would let the model learn from the weeks it is then judged on).

The held-out period is the newest ``HOLDOUT_FRACTION`` of the trips, but never more than the
newest ``HELD_OUT_DAYS`` days: on a table of years of trips, a tenth of the history would be
months the model never learns from and more trips than validation can score, while a week is
a bounded, recent period that holds every weekday and hour the model tells apart. The
fraction decides on short inputs (the sample's four weeks), the days on long ones. The cut by
fraction is the inverted-CDF quantile of the pickup time in epoch seconds: the earliest second
by which ``1 - HOLDOUT_FRACTION`` of the trips were picked up; the trips after it are held out. numpy's ``quantile(method="inverted_cdf")`` and Spark's ``percentile_approx``
both return a pickup time of the data by that definition, so {% if recipes %}the recipe's pandas split{% else %}a pandas split{% endif %} and a
Spark split hold out the same trips. Spark's is exact for up to ``QUANTILE_ACCURACY`` trips and
misplaces at most one trip in ``QUANTILE_ACCURACY`` around the cut beyond that, in bounded memory
(an exact percentile keeps every distinct pickup second of the table in one aggregation).
Both come from one aggregation on the cluster: nothing but the cut reaches the driver.

ModelValidation scores the period that the version's ``training_cutoff`` tag starts, up to
``HELD_OUT_DAYS`` days after it (``held_out_period``): the same trips training held out, and
still a bounded period when the validation input has grown since.

The registered model is not refitted on the held-out period afterwards: the version that
serving uses must be exactly the one validation judged, and a refit would register a model
nobody validated. What it costs is at most ``HELD_OUT_DAYS`` days of the newest data (not a
tenth of the history), which the next scheduled retraining learns from.
"""
{%- endif %}

from __future__ import annotations
{% if not plain_mlflow3 %}
import calendar
{%- endif %}
from datetime import datetime
from typing import Optional

import numpy as np
import pandas as pd

from model_spec.contract import TRAINING_CONTRACT
from model_spec.data import TIME_COLUMN
from steps.row_checks import REASON_COLUMN, computed_once, row_problems, with_problems

# The longest held-out period: one week holds every weekday and hour of the week once, and at
# New York's busiest (about 450,000 taxi trips a day) stays within what validation collects.
HELD_OUT_DAYS = 7
# Most held-out trips that validation collects to the driver, in every track. The held-out
# period's length bounds them, not the history's: HELD_OUT_DAYS days at New York's busiest are
# about 3.2 million trips, and a bound of 5 million leaves room for a busier week while a
# trip's dozen columns stay well under a gigabyte of pandas. A denser feed must shorten
# HELD_OUT_DAYS (``collect_at_most``'s error names this constant).
MAX_HELD_OUT_ROWS = 5_000_000
{%- if plain_mlflow3 %}
# The most recent share of the trips, held out from training to validate on.
HOLDOUT_FRACTION = 0.1
{%- else %}
# The most recent share of the trips, held out from training to validate on (the {% if recipes %}recipe's{% else %}time split's{% endif %}
# test split), and the share before it that {% if recipes %}the recipe evaluates{% else %}a three-way split validates{% endif %} candidates on.
HOLDOUT_FRACTION = 0.1
VALIDATION_FRACTION = 0.1
# percentile_approx's accuracy: a relative rank error of 1 / QUANTILE_ACCURACY, about 1 MB of
# summary per partition (Spark SQL reference, percentile_approx).
QUANTILE_ACCURACY = 1_000_000
{%- endif %}


def clean_trips(trips: pd.DataFrame, now: Optional[datetime] = None) -> pd.DataFrame:
    """The rows of ``trips`` that meet the model's ``TRAINING_CONTRACT`` (``model_spec.contract``) at ``now``.

    ``now`` is the run's timestamp (``steps.row_checks.run_time``: the clock when not given).
    """
    return trips[row_problems(trips, TRAINING_CONTRACT, now).isna().to_numpy()]


def plausible_trips(
    trips: "pyspark.sql.DataFrame",  # noqa: F821
    now: Optional[datetime] = None,
) -> "pyspark.sql.DataFrame":  # noqa: F821
    """``clean_trips`` on a Spark DataFrame: the same schema at the same ``now``, applied per batch on the cluster.

    Checks every row of ``trips`` once, when called, and keeps the plausible ones
    (``steps.row_checks.computed_once``): filter ``trips`` to the rows the job needs first.
    """
    from pyspark.sql import functions as F

    checked = with_problems(trips, TRAINING_CONTRACT, now)
    return computed_once(checked.where(F.col(REASON_COLUMN).isNull()).drop(REASON_COLUMN))


def _epoch_seconds(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times).astype("datetime64[us]").astype("int64") // 1_000_000


def _clock_text(seconds: int) -> str:
    """The clock time ``seconds`` (epoch seconds) as ``yyyy-MM-dd HH:mm:ss``, its UTC reading: the cutoff tag's format."""
    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%d %H:%M:%S")
{%- if not plain_mlflow3 %}


def time_split_labels(trips: pd.DataFrame) -> pd.Series:
    """``TRAINING``, ``VALIDATION`` or ``TEST`` per trip, by pickup time{% if recipes %} (the recipe's ``split_method``){% endif %}.

    The oldest trips train, the next ``VALIDATION_FRACTION`` (at most ``HELD_OUT_DAYS`` days)
    validate {% if recipes %}the recipe's{% else %}a{% endif %} candidate, and the most recent ``HOLDOUT_FRACTION`` (at most
    ``HELD_OUT_DAYS`` days) are the test split that ModelValidation also holds out (see
    ``holdout_cutoff_of``). Both periods are bounded{% if recipes %} because the recipe fits on the training
    split only{% endif %}: on a long history a fifth of the trips would be weeks the model never learns from.
    """
    seconds = _epoch_seconds(trips[TIME_COLUMN])
    first_held_out = _first_held_out_second(seconds)
    by_fraction = seconds.quantile(1 - HOLDOUT_FRACTION - VALIDATION_FRACTION)
    validation_from = max(by_fraction, first_held_out - HELD_OUT_DAYS * 86400)
    labels = pd.Series("TRAINING", index=trips.index)
    labels[seconds >= validation_from] = "VALIDATION"
    labels[seconds >= first_held_out] = "TEST"
    return labels
{%- endif %}


def _first_held_out_second(seconds: pd.Series) -> int:
    """The first whole epoch second of the held-out period: the later of the second after the
    inverted-CDF ``1 - HOLDOUT_FRACTION`` quantile of ``seconds`` (whole seconds,
    ``_epoch_seconds``) and ``HELD_OUT_DAYS`` days before the newest. Raises ``ValueError`` for
    no trips."""
    if seconds.empty:
        raise ValueError("No trips to split by time")
    by_fraction = int(np.quantile(seconds.to_numpy(), 1 - HOLDOUT_FRACTION, method="inverted_cdf")) + 1
    return max(by_fraction, int(seconds.max()) - HELD_OUT_DAYS * 86400)


def holdout_cutoff_of(trips: pd.DataFrame) -> str:
{%- if plain_mlflow3 %}
    """The first pickup time of the held-out period of ``trips``, ``yyyy-MM-dd HH:mm:ss``.

    Trips picked up at or after it are held out: the newest ``HOLDOUT_FRACTION`` of them, at
    most the newest ``HELD_OUT_DAYS`` days (``_first_held_out_second``). Raises ``ValueError``
    for no trips.
    """
{%- else %}
    """``holdout_cutoff`` of a pandas frame: the first pickup time that ``time_split_labels`` marks ``TEST``.

    ``yyyy-MM-dd HH:mm:ss`` as the data's clock shows it, the format of the ``training_cutoff``
    tag, so that ModelValidation (``split_at``) holds out exactly the period this split held
    out, whatever its validation input returns. Raises ``ValueError`` for no trips.
    """
{%- endif %}
    return _clock_text(_first_held_out_second(_epoch_seconds(trips[TIME_COLUMN])))
{%- if not plain_mlflow3 %}


def holdout_start(trips: "pyspark.sql.DataFrame") -> int:  # noqa: F821
    """Epoch second from which trips belong to the held-out period, as ``_first_held_out_second``
    computes it, on the cluster with ``percentile_approx`` (``QUANTILE_ACCURACY``) and ``max``
    in one aggregation. Raises ``ValueError`` for no trips."""
    from pyspark.sql import functions as F

    seconds = F.unix_timestamp(_pickup_clock(trips))
    quantile = F.percentile_approx(seconds, 1 - HOLDOUT_FRACTION, QUANTILE_ACCURACY)
    last_trained, newest = trips.select(quantile, F.max(seconds)).first()
    if last_trained is None:
        raise ValueError("No trips to split by time")
    return max(int(last_trained) + 1, int(newest) - HELD_OUT_DAYS * 86400)


def holdout_cutoff(trips: "pyspark.sql.DataFrame") -> str:  # noqa: F821
    """The held-out period's first pickup time, ``yyyy-MM-dd HH:mm:ss`` as the data's clock shows it.

    ``holdout_start`` as a time (its UTC reading, ``_clock_text``), so ``split_at`` with it
    splits the trips exactly as the quantile does. Training records it on the model version
    (tag ``training_cutoff``) and validation splits at the recorded value: both select the
    held-out trips with the same clock time, whatever the validation input returns by then and
    whatever the Spark session time zone of either job.
    """
    return _clock_text(holdout_start(trips))


def _pickup_clock(trips: "pyspark.sql.DataFrame") -> "pyspark.sql.Column":  # noqa: F821
    """The pickup column of ``trips`` as a value that no time zone moves.

    A TIMESTAMP (a Delta table's instants, whose UTC reading is the clock) or TIMESTAMP_NTZ
    (parquet without a zone, as the sample) as stored; ``unix_timestamp`` reads either without
    the session zone (Spark SQL reference). Any other type (text) is read as a TIMESTAMP_NTZ
    clock time, a cast that reads no zone either.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType, TimestampType

    if isinstance(trips.schema[TIME_COLUMN].dataType, (TimestampType, TimestampNTZType)):
        return F.col(TIME_COLUMN)
    return F.col(TIME_COLUMN).cast("timestamp_ntz")


def _clock_bound(trips: "pyspark.sql.DataFrame", seconds: int) -> "pyspark.sql.Column":  # noqa: F821
    """A literal of ``_pickup_clock(trips)``'s type at the clock time ``seconds`` (epoch seconds, UTC reading).

    Compared with the pickup column as stored, so Spark can still skip files by their
    statistics; neither side reads the session time zone: a TIMESTAMP bound is the instant
    ``seconds``, a TIMESTAMP_NTZ bound the clock text cast without a zone.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    if isinstance(trips.schema[TIME_COLUMN].dataType, TimestampType):
        return F.timestamp_seconds(F.lit(seconds))
    return F.lit(_clock_text(seconds)).cast("timestamp_ntz")


def _cutoff_seconds(cutoff: str) -> int:
    """The clock time ``cutoff`` (``yyyy-MM-dd HH:mm:ss``, a ``training_cutoff`` tag) in epoch seconds, read as UTC.

    Raises ``ValueError`` naming the value when it is not such a time (Spark would make it NULL
    and silently select no trip).
    """
    try:
        return calendar.timegm(datetime.fromisoformat(str(cutoff).strip()).timetuple())
    except ValueError:
        raise ValueError(f"training cutoff {cutoff!r} is not a clock time such as 2016-02-20 13:45:00") from None


def split_at(
    trips: "pyspark.sql.DataFrame",  # noqa: F821
    cutoff: str,
) -> tuple["pyspark.sql.DataFrame", "pyspark.sql.DataFrame"]:  # noqa: F821
    """``(trips picked up before cutoff, trips picked up at or after it)``.

    ``cutoff`` is a clock time such as ``2016-02-20 13:45:00`` (``holdout_cutoff``, or the
    ``training_cutoff`` tag of a model version), read as UTC like the stored pickup times
    (``_pickup_clock``): a tag written by a job in one session time zone splits the same trips
    in a job in another. Raises ``ValueError`` for a ``cutoff`` that is not a clock time.
    """
    picked_up, since = _pickup_clock(trips), _clock_bound(trips, _cutoff_seconds(cutoff))
    return trips.where(picked_up < since), trips.where(picked_up >= since)


def held_out_period(trips: "pyspark.sql.DataFrame", cutoff: str) -> "pyspark.sql.DataFrame":  # noqa: F821
    """The trips picked up from ``cutoff`` to ``HELD_OUT_DAYS`` days after it, both included.

    ``cutoff`` is a version's ``training_cutoff`` tag (``holdout_cutoff``): these are the trips
    its training held out, and when the input has grown since, newer trips only up to the
    bound, so the period validation scores stays bounded however long the input gets. Both
    bounds are read as ``split_at`` reads the cutoff, in no time zone.
    """
    since = _cutoff_seconds(cutoff)
    picked_up = _pickup_clock(trips)
    since_cutoff = picked_up >= _clock_bound(trips, since)
    return trips.where(since_cutoff & (picked_up <= _clock_bound(trips, since + HELD_OUT_DAYS * 86400)))
{%- endif %}


def in_canonical_order(trips: pd.DataFrame) -> pd.DataFrame:
    """``trips`` sorted by pickup time, ties broken by every other column, with a fresh 0..n-1 index.

    Trips have no id of their own, so the whole row is the tie-breaker: two rows that compare
    equal are identical and may swap places without changing anything. Spark returns rows in
    no defined order, so every track fits on its trips in this order: an order-sensitive fit
    (the seeded shuffling of ``SGDRegressor``, the seeded early-stopping split of gradient
    boosting) then gets the same sequence from any permutation, and the same data and seed
    give the same model.
    """
    others = sorted(column for column in trips.columns if column != TIME_COLUMN)
    return trips.sort_values([TIME_COLUMN, *others], kind="stable", na_position="last", ignore_index=True)


def collect_at_most(frame: "pyspark.sql.DataFrame", max_rows: int, bound: str) -> pd.DataFrame:  # noqa: F821
    """``frame`` collected to pandas on the driver, refusing more than ``max_rows`` rows.

    Raises ``ValueError`` naming ``bound`` (the constant that sets ``max_rows``) instead of
    exhausting the driver's memory; sample or filter the input (or raise the bound knowingly).
    """
    collected = frame.limit(max_rows + 1).toPandas()
    if len(collected) > max_rows:
        raise ValueError(
            f"The input has more than {max_rows:,} rows, more than is collected to the driver; "
            f"filter or sample it first ({bound})"
        )
    return collected

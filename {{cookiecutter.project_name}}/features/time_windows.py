"""Helpers that both feature pipelines share: per-zip windows over a time range.

A feature row describes one zip code over one time window and is stamped with the
window's END. Training and scoring look up the latest row available at a trip's time (its
pickup time for the pickup table, its drop-off time for the drop-off table), so a row never
contains data from after that time.

Availability rule (one rule for training and scoring, so the model trains on the values it
is scored with): a window ending at ``E`` is available from ``E + FEATURE_AVAILABILITY_LAG``
on. Trips land in the input at drop-off, so at ``E`` the window still lacks the trips picked
up before ``E`` that are under way, and a scoring run right after the feature job would read
those partial counts, while training, weeks later, reads the same window complete: the model
would learn from counts it never gets in serving. Within the lag (nearly) every trip of the
window has landed, so

* the point-in-time lookup of a trip at ``t`` reads the newest window ending at or before
  ``t - FEATURE_AVAILABILITY_LAG`` (``features.point_in_time.lookup_time``), in training and
  in batch scoring alike; and
* a feature run without an end date writes only the windows ending at or before its newest
  trip time minus the lag (below): a table never holds a window that is not complete yet.

A trip that lands later than the lag after its window closed (a longer trip, a meter that
uploads late) is the one case left where scoring read a window without it; the next scheduled
run's lookback (``features.generate.DEFAULT_LOOKBACK``) puts it in for training.

Incremental runs: a run for ``[start, end)`` reads trips from ``start`` minus the window
length and writes only the windows that end in ``(start, end]``. Every window it writes is
then complete, and consecutive runs write exactly the rows one run over the whole range
writes (a window crossing ``start`` belongs to the earlier run, computed from all its trips).

Without an end date (the scheduled job's ``input_end_date = ""``) the input's newest trip
time minus ``FEATURE_AVAILABILITY_LAG`` is the end: a run writes only the windows that end at
or before it. A window ending later still waits for trips that have not arrived (the data
lands in time order, each trip at its drop-off), so writing it would store partial counts that
``FeatureStore.freshness`` then reports as fresh; the next run, whose input reaches past its
end plus the lag, writes it complete. An explicit end date is taken as it is: the caller
says the input is complete up to it (a backfill of past days).

Time convention (every variant): trip timestamps are New York clock times, stored without
a zone (the dataset's convention). Features read the clock as stored and never convert
zones. Every rule works on ``clock_seconds``, the clock's fields counted as if they were UTC,
which neither the Spark session time zone nor the machine's zone changes, whether the column
is a ``TIMESTAMP_NTZ`` (parquet without a zone, as the committed sample) or a ``TIMESTAMP``
(a Delta table's instants, whose UTC reading is the clock). A plain ``cast("timestamp")``
would read a ``TIMESTAMP_NTZ`` clock in the session zone, and shift hours, weekdays and
windows by its offset. A DST change therefore shows as the clock shows it: on the
spring-forward night the hour 2 never occurs, in autumn hour 1 holds the trips of both clock
passes.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from typing import Mapping, Optional, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import TimestampNTZType, TimestampType

from model_spec.contract import latest_plausible_pickup
from steps.row_checks import run_time

DateBound = Optional[Union[str, date, datetime]]
# How long after a window closes its features count as available (module docstring): two
# hours, as 99.4 % of the sample's trips drop off within two hours of their pickup, and the
# feed lands each trip at its drop-off. Longer makes the features staler for every trip,
# shorter leaves more trips landing after scoring has read their windows.
FEATURE_AVAILABILITY_LAG = timedelta(hours=2)
# Column holding the end of the window being aggregated, for features that depend on it.
WINDOW_END = "window.end"


def _bound_seconds(bound: DateBound) -> Optional[int]:
    """The clock time ``bound`` in epoch seconds (``clock_seconds``); None (or "") means "no bound".

    Accepts what ``datetime.fromisoformat`` reads (``2024-03-10``, ``20240310``,
    ``2024-03-10 05:00``); raises ``ValueError`` naming the value otherwise. No time zone moves
    the bound, neither the session's nor the operating system's; a zone-aware datetime is read
    as its clock time.
    """
    if bound is None or bound == "":
        return None
    text = bound.isoformat(sep=" ") if isinstance(bound, datetime) else str(bound).strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # Spark would turn it into NULL and silently filter out every row.
        raise ValueError(f"date bound {bound!r} is not an ISO date such as 2016-01-31 or 2016-01-31 12:00:00") from None
    # Python reads ISO 8601's basic forms too (20240310, 20240310T0500), which Spark casts to NULL or
    # to a year such as 20240310: Spark only ever gets the parsed value's clock fields as a number.
    return calendar.timegm(parsed.timetuple())


def _source_and_bound(df: DataFrame, column: str, seconds: int) -> tuple[Column, Column]:
    """``column`` of ``df`` and the value to compare it with for the clock time ``seconds``.

    A TIMESTAMP or TIMESTAMP_NTZ column is compared as it is stored, with a literal of its own
    type at that clock time, so Spark can push the filter down to the files (an incremental run
    then reads only the recent ones); any other column through ``clock_timestamp``.
    """
    data_type = df.schema[column].dataType
    if isinstance(data_type, TimestampNTZType):
        clock = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return F.col(column), F.lit(clock).cast("timestamp_ntz")  # a cast that reads no zone
    instant = F.timestamp_seconds(F.lit(seconds))
    if isinstance(data_type, TimestampType):
        return F.col(column), instant
    return clock_timestamp(F.col(column)), instant


def rows_since(df: DataFrame, column: str, seconds: int) -> DataFrame:
    """The rows of ``df`` whose ``column`` is at or after the clock time ``seconds`` (``clock_seconds``).

    Compared as the column is stored (``_source_and_bound``), so Spark pushes the filter down to
    the files and reads only the period asked for.
    """
    time, bound = _source_and_bound(df, column, seconds)
    return df.where(time >= bound)


def clock_seconds(timestamp: Column) -> Column:
    """The clock time of ``timestamp`` (TIMESTAMP or TIMESTAMP_NTZ) in epoch seconds, a BIGINT.

    ``unix_timestamp`` counts a TIMESTAMP_NTZ's clock fields as UTC and a TIMESTAMP's instant as
    it is (Spark SQL reference): neither reads the session time zone, unlike a cast of a
    TIMESTAMP_NTZ to TIMESTAMP. Strings are parsed in the session zone: give timestamps.
    """
    return F.unix_timestamp(timestamp)


def clock_timestamp(timestamp: Column) -> Column:
    """``timestamp`` as the TIMESTAMP whose UTC reading is its clock time (``clock_seconds``)."""
    return F.timestamp_seconds(clock_seconds(timestamp))


def _duration_seconds(duration: str) -> int:
    """Seconds of a Spark interval string such as ``"1 hour"`` or ``"30 minutes"``."""
    amount, unit = duration.split()
    return int(amount) * {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}[unit]


def hour_of_day(timestamp: Column) -> Column:
    """The clock hour (0-23) of ``timestamp`` as stored, an INT; no zone conversion (``clock_seconds``)."""
    return F.pmod(F.floor(clock_seconds(timestamp) / 3600), 24).cast("int")


def is_weekend(timestamp: Column) -> Column:
    """1 when the clock time ``timestamp`` falls on a Saturday or Sunday, else 0 (an INT)."""
    days_since_thursday = F.floor(clock_seconds(timestamp) / 86400)  # 1970-01-01 was a Thursday
    weekday = F.pmod(days_since_thursday + 4, 7)  # 0 = Sunday ... 6 = Saturday
    return weekday.isin(0, 6).cast("int")


def aggregate_per_zip_window(
    df: DataFrame,
    zip_column: str,
    timestamp_column: str,
    window_duration: str,
    slide_duration: str,
    features: Mapping[str, Column],
    start_date: DateBound = None,
    end_date: DateBound = None,
    now: Optional[datetime] = None,
) -> DataFrame:
    """Aggregate trips per zip code and time window into the named feature columns.

    Returns the columns ``zip``, ``<timestamp_column>`` (the window end, which is the
    feature table's timestamp key) and one column per entry of ``features``, for the
    windows that end in ``(start_date, end_date]``, each computed from all of its trips
    (see the module docstring). An empty ``start_date`` is open; an empty ``end_date`` is
    the newest ``timestamp_column`` value of ``df`` that can be real at ``now`` (the run's
    time, default the current one; ``model_spec.contract.latest_plausible_pickup``) minus
    ``FEATURE_AVAILABILITY_LAG``, so no window still missing trips is written (an empty ``df``
    gives no rows). With ``slide_duration`` equal to
    ``window_duration`` the windows tumble; a shorter slide makes them overlap, so one trip
    counts in several windows. ``features`` may refer to ``WINDOW_END``.
    """
    start, end = _bound_seconds(start_date), _bound_seconds(end_date)
    if start is not None:
        df = rows_since(df, timestamp_column, start - _duration_seconds(window_duration))
    if end is not None:
        trip_time, last = _source_and_bound(df, timestamp_column, end)
        df = df.where(trip_time < last)
    # Windows over the clock as stored: the same window ends in any session time zone.
    timestamp = clock_timestamp(F.col(timestamp_column))
    # One row per trip and window it falls in, so that aggregations may use WINDOW_END.
    windowed = df.select("*", F.window(timestamp, window_duration, slide_duration).alias("window"))
    rows = (
        windowed.groupBy(F.col(zip_column).alias("zip"), "window")
        .agg(*[aggregation.alias(name) for name, aggregation in features.items()])
        .select("zip", F.col("window.end").alias(timestamp_column), *features)
    )
    if start is not None:
        rows = rows.where(F.col(timestamp_column) > F.timestamp_seconds(F.lit(start)))
    if end is not None:
        return rows.where(F.col(timestamp_column) <= F.timestamp_seconds(F.lit(end)))
    # One row (the newest trip time) joined to every window: the bound stays in Spark, with
    # no collect to the driver and no time-zone round trip through Python. Only trips that can
    # have happened by the run's time count: one glitched clock's trip dated years ahead (the
    # contract quarantines it) would end the windows there and pass today's partial ones as complete.
    latest = F.timestamp_seconds(F.lit(int(latest_plausible_pickup(run_time(now)).timestamp())))
    lag = int(FEATURE_AVAILABILITY_LAG.total_seconds())
    newest = df.where(timestamp <= latest).agg(F.max(timestamp).alias("_newest_trip"))
    complete_until = F.timestamp_seconds(F.col("_newest_trip").cast("long") - F.lit(lag))
    return rows.crossJoin(newest).where(F.col(timestamp_column) <= complete_until).drop("_newest_trip")

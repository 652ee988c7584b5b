"""Where batch inference keeps its predictions: appended per run, never replaced.

Every run adds its rows to the output table; earlier runs' rows stay, so a prediction can be
traced back and compared later (drift, audits, a rollback). A prediction is identified by
``PREDICTION_KEY``:

* ``record_id``: SHA-256 of the row's model inputs as JSON, the columns the model's
  ``INPUT_CONTRACT`` names (``record_id_columns``). Trips have no id of their own; the same
  trip gets the same id in every run, and its id does not change when its label (the true
  fare, known later) or another column the model does not read is added to the input;
* ``model_version``: the registered version that made the prediction;
* ``scoring_run_id``: a fresh id per batch-inference run, with ``scored_at`` (UTC) beside it.

Writes are idempotent: a row is inserted only when the table holds no row of the same record
and model version yet (``append_predictions``, a Delta ``MERGE``). A retried run, or two runs
started at the same time over the same trips, so never store a record's prediction by one
version twice: Delta's conflict check fails the later of two concurrent MERGEs (the table it
read changed under it) instead of letting it insert duplicates, and its retry finds the rows
there. The table's schema may grow (a new input column), never be replaced: the MERGE evolves
the schema and keeps the existing rows.

A run scores only new trips (``unscored_trips``): input rows whose ``record_id`` no version
has scored yet, looked for only among trips picked up at most ``LATE_ARRIVAL_GRACE`` before
the newest trip already in the table (the run's ``ScoringWindow``, computed once when it
starts and passed to every step after). The MERGE compares its rows with that window of the
table only, and trips without a pickup time (which the contract quarantines, and which are
stored too): a row's pickup time is part of its ``record_id``, so a row of the window can only
match a row of the window. A run's cost so grows with the new data, not with the history; a
new champion scores the trips that arrive from now on, not the past again (to compare
versions on old trips, score them into another table with ``model_uri``). Trips that arrive
later than that are never scored, but not silently: ``late_arrivals`` finds the input trips
picked up in the ``LATE_ARRIVAL_LOOKBACK`` before the window that the table does not hold, and
the job reports their count (``publish_late_arrivals``: printed, a job task value and a line
of the run's report).

A run fails after writing when more than ``MAX_QUARANTINED_SHARE`` of its rows were
quarantined (``run_report``): the rows stay in the table to be looked at.

The CI integration test scores a fixed dataset: into a fixed table, every run after the first
would find nothing new and prove nothing. It therefore writes a table of its own per CI run
(``submit_integration_test.py`` names it), requires that the run scored rows
(``run_report(..., require_scored=True)``) and drops the table afterwards (``drop_table``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

import model_spec.contract
from model_spec.contract import INPUT_CONTRACT
from model_spec.data import TIME_COLUMN as PICKUP
from model_spec.prediction import PREDICTION_COLUMN
from steps.row_checks import REASON_COLUMN, counts_report, quarantine_counts, run_time

if TYPE_CHECKING:
    import pandas as pd

RECORD_ID_COLUMN = "record_id"
MODEL_VERSION_COLUMN = "model_version"
RUN_ID_COLUMN = "scoring_run_id"
SCORED_AT_COLUMN = "scored_at"
PREDICTION_KEY = (RECORD_ID_COLUMN, MODEL_VERSION_COLUMN, RUN_ID_COLUMN)
# One to three dot-separated identifiers (table, schema.table, catalog.schema.table) of
# letters, digits and '_': names that need no quoting and that Spark and Unity Catalog accept.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")
_EXAMPLE_TABLE = "staging.my_schema.predictions"
# A CI run's own predictions table, the only kind that batch inference drops (env test):
# ``[<project>_]integration_test_predictions_<run>`` in any schema, as
# ``predictions_table`` in the CI's submit_integration_test.py names it.
_CI_TABLE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*\.){0,2}([A-Za-z0-9_]*_)?integration_test_predictions_[a-z0-9_]+")
_EXAMPLE_CI_TABLE = "test.my_schema.integration_test_predictions_7001_1"
# How far before the newest trip already scored a trip may have been picked up and still be
# scored when it arrives: upstream tables are refreshed daily and backfills of a few days are
# usual. A trip that arrives later than that is not scored by batch inference (score it with
# a run over its own input table). Only this window of the table is compared with the input.
LATE_ARRIVAL_GRACE = timedelta(days=7)
# How far before the scoring window ``late_arrivals`` looks for trips that were never scored:
# counting them reads this much of the table's history (not all of it) on every run. A trip
# that arrives later still is not counted; a non-zero count is the cue to raise the grace.
LATE_ARRIVAL_LOOKBACK = timedelta(days=30)
# The job task value that holds a run's late-arrival count (``publish_late_arrivals``).
LATE_ARRIVALS_TASK_VALUE = "late_arrivals"
# The largest share of a run's rows that may be quarantined before the run fails. A healthy
# feed breaks the contract in single rows (a glitched meter, a typo in a zip); a broken feed
# or schema (a renamed column quarantines every row) must not pass as a successful run with
# hardly any predictions. Raise it knowingly for a feed that is noisier by nature.
MAX_QUARANTINED_SHARE = 0.05


def table_name_problem(name: str) -> Optional[str]:
    """None when ``name`` is a table name batch inference may write, else why not (with an example).

    Refuses empty names, paths (``delta.`/tmp/x` ``), more than three parts and characters
    that would need quoting, so that a typo cannot write somewhere unexpected.
    """
    if _TABLE_NAME.fullmatch(name or ""):
        return None
    return (
        f"output_table_name {name!r} is not a table name: use table, schema.table or catalog.schema.table "
        f"of letters, digits and '_', for example {_EXAMPLE_TABLE}"
    )


def check_table_name(name: str, problem_of: Callable[[str], Optional[str]] = table_name_problem) -> str:
    """``name`` itself, or ``ValueError`` with ``problem_of``'s message (``table_name_problem`` by default)."""
    problem = problem_of(name)
    if problem:
        raise ValueError(problem)
    return name


def ci_table_problem(name: str) -> Optional[str]:
    """None when ``name`` is a CI run's own predictions table, else why ``env=test`` may not use it.

    The CI integration test (``env=test``) drops its output table at the end, so it may only
    write a table named like a CI run's (``_CI_TABLE``): a mistyped ``output_table_name`` such as
    the staging predictions table is refused before anything is written or dropped.
    """
    problem = table_name_problem(name)
    if problem or _CI_TABLE.fullmatch(name):
        return problem
    return (
        f"output_table_name {name!r} is not a CI run's own predictions table, which env=test drops at the end: "
        f"name it [<project>_]integration_test_predictions_<run>, for example {_EXAMPLE_CI_TABLE}"
    )


def check_ci_table_name(name: str) -> str:
    """``name`` itself, or ``ValueError`` with ``ci_table_problem``'s message."""
    return check_table_name(name, ci_table_problem)


def record_id_columns(columns: list[str]) -> list[str]:
    """The columns of ``columns`` that identify a record: the model's inputs, sorted.

    They are the columns ``model_spec.contract.INPUT_CONTRACT`` names: what is scored. The label
    is not among them (a record's id must not change when its true value arrives), nor any
    other column the model does not read (a column added to the input table later must not
    make every trip new again). Two rows with the same inputs are one record: the model gives
    them the same prediction. Raises ``ValueError`` when ``columns`` holds none of the inputs
    (every row would get the same id).
    """
    present = sorted(c for c in INPUT_CONTRACT.columns if c in columns)
    if not present:
        raise ValueError(
            f"no input column of the model ({', '.join(INPUT_CONTRACT.columns)}) among {columns}: "
            "a record id needs at least one, e.g. tpep_pickup_datetime"
        )
    return present


def record_id(columns: list[str]) -> Column:
    """SHA-256 of the record's input columns (``record_id_columns``) as JSON, in sorted order.

    Timestamps are rendered in UTC (JSON option ``timeZone``), not in the Spark session's time
    zone (``spark.sql.session.timeZone``): a cluster set to another zone must compute the same
    id for the same trip, or it would score and store every trip again. UTC is Databricks'
    default session zone, so ids written there stay the same.
    """
    record = F.struct(*[F.col(c) for c in record_id_columns(columns)])
    return F.sha2(F.to_json(record, {"timeZone": "UTC"}), 256)


@dataclass(frozen=True)
class ScoringWindow:
    """The pickup times a batch-inference run compares with its output table and scores.

    ``start`` (UTC) is the first pickup time of the window; None: every trip, when the table
    does not exist yet, is empty, or the input or the table has no pickup column. Trips without
    a pickup time always belong to the window. A run computes its window once, when it starts
    (``scoring_window``), and passes it to ``unscored_trips``, ``late_arrivals`` and
    ``append_predictions``: all three then read the same part of the table, however the table
    changes meanwhile.
    """

    start: Optional[datetime] = None

    def condition(self, alias: str = "") -> Optional[str]:
        """SQL that is true for a row of the window (``alias``: a table alias, as in a MERGE), or None for every row.

        A condition on the stored pickup column itself (the cast of a timestamp to a timestamp
        is a no-op), so that Delta skips the files outside the window. The ``IS NULL`` keeps the
        rows without a pickup time in the window: without it, ``>=`` would leave them out (it is
        NULL for them), and a MERGE would insert a row without a pickup time again on every run.
        """
        if self.start is None:
            return None
        pickup = f"{alias}.{PICKUP}" if alias else PICKUP
        return f"({pickup} IS NULL OR CAST({pickup} AS TIMESTAMP) >= {_timestamp_sql(self.start)})"

    def lookback_condition(self, lookback: timedelta = LATE_ARRIVAL_LOOKBACK) -> Optional[str]:
        """SQL that is true for a trip picked up in the ``lookback`` before the window, or None (no window).

        Rows without a pickup time are never in it: they belong to the window.
        """
        if self.start is None:
            return None
        pickup = f"CAST({PICKUP} AS TIMESTAMP)"
        return f"({pickup} >= {_timestamp_sql(self.start - lookback)} AND {pickup} < {_timestamp_sql(self.start)})"


def _timestamp_sql(moment: datetime) -> str:
    """A Spark SQL timestamp literal for ``moment`` (aware, or naive UTC): from epoch seconds, so
    that the session's time zone cannot shift it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return f"timestamp_seconds({int(moment.timestamp())})"


def scoring_window(
    spark: SparkSession, trips: DataFrame, table_name: str, grace: timedelta = LATE_ARRIVAL_GRACE
) -> ScoringWindow:
    """The ``ScoringWindow`` of a run that scores ``trips`` into ``table_name``: from ``grace`` before its newest pickup.

    Reads the newest pickup time of the table (one aggregation, which Delta answers from file
    statistics). The window has no start when the table does not exist yet or is empty, or when
    the pickup time is not part of a record's id (``record_id_columns``: a model that does not
    read it), as then a record of the window may match one stored before it. Existence is asked
    of the catalog: on Spark Connect (serverless) ``spark.table`` of a missing table raises only
    when the result is used. Raises ``ValueError`` for a bad table name.
    """
    if PICKUP not in record_id_columns(trips.columns) or not spark.catalog.tableExists(check_table_name(table_name)):
        return ScoringWindow()
    history = spark.table(table_name)
    if PICKUP not in history.columns:
        return ScoringWindow()
    # MAX of the stored column and a filter on it, not on an expression of it: Delta answers the
    # one from file statistics and skips the files outside the window for the other.
    (newest,) = history.agg(F.max(PICKUP).cast("timestamp").cast("long")).first()
    if newest is None:
        return ScoringWindow()
    # A glitched meter clock's pick-up in the future is quarantined but stored: it must not move
    # the window past every real trip, so the window ends at the latest plausible pick-up.
    # A swapped model's contract may define no such clock rule (model_spec.contract).
    latest_plausible = getattr(model_spec.contract, "latest_plausible_pickup", None)
    if latest_plausible is not None:
        newest = min(newest, int(latest_plausible(run_time()).timestamp()))
    return ScoringWindow(datetime.fromtimestamp(newest, timezone.utc) - grace)


def _where(frame: DataFrame, condition: Optional[str]) -> DataFrame:
    return frame if condition is None else frame.where(F.expr(condition))


def _not_in_table(spark: SparkSession, trips: DataFrame, table_name: str, condition: Optional[str]) -> DataFrame:
    """The trips of ``trips`` that meet ``condition`` (None: all), with their ``record_id``, whose
    id is not in the rows of ``table_name`` that meet it: Spark reads that part of the table only."""
    keyed = _where(trips, condition).withColumn(RECORD_ID_COLUMN, record_id(trips.columns))
    scored = _where(spark.table(table_name), condition).select(RECORD_ID_COLUMN).distinct()
    return keyed.join(scored, RECORD_ID_COLUMN, "left_anti")


def unscored_trips(
    spark: SparkSession,
    trips: DataFrame,
    table_name: str,
    grace: timedelta = LATE_ARRIVAL_GRACE,
    window: Optional[ScoringWindow] = None,
) -> DataFrame:
    """``trips`` plus ``record_id``, without the trips that any version already scored into ``table_name``.

    Only trips of the run's ``window`` (by default ``scoring_window`` with ``grace``: picked up
    at most ``grace`` before the newest pickup in ``table_name``, or without a pickup time, which
    the contract quarantines) are compared and returned, so Spark reads that window of the
    table, not its history; the older ones that no version scored are ``late_arrivals``. Every
    row is new when the table does not exist yet (the first run). The ``record_id`` column
    passes through scoring and ``append_predictions`` keeps it, so the id written is the one
    compared here.
    """
    if not spark.catalog.tableExists(check_table_name(table_name)):
        return trips.withColumn(RECORD_ID_COLUMN, record_id(trips.columns))
    window = window or scoring_window(spark, trips, table_name, grace)
    return _not_in_table(spark, trips, table_name, window.condition())


def late_arrivals(
    spark: SparkSession,
    trips: DataFrame,
    table_name: str,
    window: Optional[ScoringWindow] = None,
    *,
    lookback: timedelta = LATE_ARRIVAL_LOOKBACK,
) -> DataFrame:
    """The trips of ``trips`` that ``unscored_trips`` leaves out although no version scored them.

    They were picked up in the ``lookback`` before the run's ``window`` (by default
    ``scoring_window``'s) and their ``record_id`` is not in the table: they arrived
    too late to be scored by batch inference. Only that period of the table is read, so the
    count costs the same on every run however long the history grows; trips older still are not
    counted. Empty when every trip is compared (no table yet, no pickup column).
    """
    window = window or scoring_window(spark, trips, table_name)
    period = window.lookback_condition(lookback)
    if period is None:
        return trips.limit(0).withColumn(RECORD_ID_COLUMN, F.lit(None).cast("string"))
    return _not_in_table(spark, trips, table_name, period)


def late_arrivals_report(count: int, grace: timedelta = LATE_ARRIVAL_GRACE) -> str:
    """One line saying how many trips ``late_arrivals`` found (``count``)."""
    if not count:
        return "Late arrivals: none (every unscored trip is within the scoring window)"
    return (
        f"Late arrivals: {count} trips picked up more than {grace.days} days (LATE_ARRIVAL_GRACE, steps/predictions.py) "
        "before the newest scored trip were never scored and are not scored by this run; score them with a run "
        "over a table of their own, and raise LATE_ARRIVAL_GRACE if the feed is often this late"
    )


def publish_late_arrivals(late: DataFrame, task_values: Any) -> int:
    """Count ``late`` (``late_arrivals``; a Spark job), report the count where an operator sees it, return it.

    The count is printed (the job's output), and set as the job task value
    ``LATE_ARRIVALS_TASK_VALUE`` through ``task_values`` (``dbutils.jobs.taskValues`` in a
    notebook), where the run's page, a later task or an alert can read it; pass it on to
    ``run_report``, whose report then says it too.
    """
    count = late.count()
    task_values.set(LATE_ARRIVALS_TASK_VALUE, count)
    print(late_arrivals_report(count))
    return count


def trips_to_score(
    spark: SparkSession, trips: DataFrame, table_name: str, task_values: Any
) -> tuple[ScoringWindow, DataFrame, int]:
    """What a batch inference run scores, as every track's BatchInference notebook asks for it.

    In: the input ``trips``, the predictions ``table_name`` and ``dbutils.jobs.taskValues``. Out:
    the run's ``scoring_window`` (hand it to ``append_predictions``), the trips of that window
    that no version scored yet (``unscored_trips``), and the number of late arrivals, published
    by ``publish_late_arrivals`` (hand it to ``run_report``).
    """
    window = scoring_window(spark, trips, table_name)
    late = publish_late_arrivals(late_arrivals(spark, trips, table_name, window=window), task_values)
    return window, unscored_trips(spark, trips, table_name, window=window), late


def with_prediction_keys(predictions: DataFrame, run_id: Optional[str] = None) -> DataFrame:
    """``predictions`` plus ``record_id``, ``scoring_run_id`` (``run_id`` or a new UUID) and ``scored_at``.

    ``predictions`` must hold ``prediction`` and ``model_version``; a ``record_id`` already
    there (``unscored_trips``) is kept, else every other column but ``quarantine_reason`` is an
    input of the record and goes into its id.
    """
    missing = [c for c in (PREDICTION_COLUMN, MODEL_VERSION_COLUMN) if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack the columns {missing}")
    columns = [c for c in predictions.columns if c != RECORD_ID_COLUMN]
    if RECORD_ID_COLUMN in predictions.columns:
        key = F.col(RECORD_ID_COLUMN)
    else:
        excluded = (PREDICTION_COLUMN, MODEL_VERSION_COLUMN, REASON_COLUMN)
        key = record_id([c for c in columns if c not in excluded])
    return predictions.select(
        key.alias(RECORD_ID_COLUMN),
        *[F.col(c) for c in columns],
        F.lit(run_id or uuid.uuid4().hex).alias(RUN_ID_COLUMN),
        F.current_timestamp().alias(SCORED_AT_COLUMN),
    )


def _catalog_knows(spark: SparkSession, table_name: str) -> bool:
    """True when ``spark``'s catalog has ``table_name``; False also when it cannot look the name up.

    A local session (the notebook tests) has no three-part names and raises for them; Unity
    Catalog answers. Not knowing the table leads to the first run's plain append.
    """
    from pyspark.errors import AnalysisException

    try:
        return spark.catalog.tableExists(table_name)
    except AnalysisException:
        return False


def merge_condition(window: Optional[ScoringWindow] = None) -> str:
    """The ON clause of ``append_predictions``' MERGE: the same record and model version, in ``window``.

    The window's condition on the *target* lets Delta read only that part of the table (and
    the rows without a pickup time) instead of all of it; ``window`` must be the one the run's
    rows were selected with (``unscored_trips``), so that each of them can only match a row
    there: its pickup time is part of its ``record_id``. Without a window the whole table is
    compared.
    """
    on = [f"target.{column} = source.{column}" for column in (RECORD_ID_COLUMN, MODEL_VERSION_COLUMN)]
    in_window = (window or ScoringWindow()).condition("target")
    return " AND ".join([*on, in_window] if in_window else on)


def merge_statement(table_name: str, view: str, window: Optional[ScoringWindow] = None) -> str:
    """The Delta MERGE that inserts the rows of ``view`` that ``table_name`` does not hold yet (``merge_condition``)."""
    return (
        f"MERGE WITH SCHEMA EVOLUTION INTO {check_table_name(table_name)} AS target USING {view} AS source "
        f"ON {merge_condition(window)} WHEN NOT MATCHED THEN INSERT *"
    )


def append_predictions(
    predictions: DataFrame,
    table_name: str,
    run_id: Optional[str] = None,
    table_format: str = "delta",
    window: Optional[ScoringWindow] = None,
) -> str:
    """Add ``predictions`` (keyed by ``with_prediction_keys``) to ``table_name``; return the run id.

    Idempotent per record and model version: a row is inserted only when the table holds no
    row with its ``record_id`` and ``model_version`` (see the module docstring), so writing the
    same predictions again, in this run or another, adds nothing. ``window`` is the run's
    ``ScoringWindow`` (the one ``unscored_trips`` selected the rows with): only that part of
    the table is compared (``merge_condition``); without it, all of the table. The first run
    creates the table (there is nothing to merge into yet; two first runs at the same instant
    are the one case left unguarded). ``table_format`` is ``delta`` in the jobs (a ``MERGE``,
    ``merge_statement``); the tests use ``parquet``, which a local Spark session has and which
    cannot merge, so there the rows that the MERGE's ON clause matches are left out before an
    append (the same rows, without the guard against a concurrent writer). Raises
    ``ValueError`` for a bad table name before anything is written.
    """
    check_table_name(table_name)
    run_id = run_id or uuid.uuid4().hex
    rows = with_prediction_keys(predictions, run_id)
    spark = predictions.sparkSession
    if not _catalog_knows(spark, table_name):
        rows.write.format(table_format).mode("append").saveAsTable(table_name)
        return run_id
    view = f"new_predictions_{uuid.uuid4().hex}"  # run ids are free text, this is a name
    rows.createOrReplaceTempView(view)
    try:
        if table_format == "delta":
            spark.sql(merge_statement(table_name, view, window))
        else:
            new = spark.sql(
                f"SELECT source.* FROM {view} AS source LEFT ANTI JOIN {table_name} AS target "
                f"ON {merge_condition(window)}"
            )
            new.write.format(table_format).mode("append").saveAsTable(table_name)
    finally:
        spark.catalog.dropTempView(view)
    return run_id


def drop_table(spark: SparkSession, table_name: str) -> None:
    """Drop ``table_name`` if it exists (the CI integration test's own table, after the test).

    Raises ``ValueError`` before anything is dropped for a name that is not a CI run's own
    predictions table (``ci_table_problem``).
    """
    spark.sql(f"DROP TABLE IF EXISTS {check_ci_table_name(table_name)}")


class TooManyQuarantined(RuntimeError):
    """A run quarantined more than ``MAX_QUARANTINED_SHARE`` of its rows."""


class NothingScored(RuntimeError):
    """A run that had to score rows (the CI integration test) scored none."""


def quarantined_share_problem(counts: "pd.Series", max_share: float = MAX_QUARANTINED_SHARE) -> Optional[str]:
    """None when at most ``max_share`` of the rows were quarantined, else what went wrong.

    ``counts`` is rows per ``quarantine_reason`` (null: scored; ``quarantine_counts``). A run
    with no rows passes.
    """
    total = int(counts.sum())
    quarantined = int(counts[[reason is not None and reason == reason for reason in counts.index]].sum())
    if not total or quarantined <= max_share * total:
        return None
    return (
        f"{quarantined} of {total} rows ({format(quarantined / total, '.1%')}) were quarantined, more than "
        f"MAX_QUARANTINED_SHARE = {format(max_share, '.0%')} (steps/predictions.py): check the input table's schema "
        f"and feed; the rows are in the output table with their {REASON_COLUMN}"
    )


def run_report(
    table: DataFrame,
    run_id: str,
    max_share: float = MAX_QUARANTINED_SHARE,
    require_scored: bool = False,
    late: int = 0,
) -> str:
    """How many of run ``run_id``'s rows in ``table`` were scored and quarantined, per broken rule.

    ``late`` is the run's count of ``late_arrivals`` (``publish_late_arrivals``): when it is not
    zero, the report ends with ``late_arrivals_report``'s line.

    Raises ``TooManyQuarantined`` (the report in its message) when more than ``max_share`` of
    them were quarantined, so that the job fails instead of succeeding without predictions.
    With ``require_scored`` (the CI integration test, whose input always holds trips to score)
    raises ``NothingScored`` when the run scored no row: a scheduled run without new trips
    scores none and passes, a test that scores none proves nothing.
    """
    counts = quarantine_counts(table.where(F.col(RUN_ID_COLUMN) == run_id))
    report = counts_report(counts) + (f"\n{late_arrivals_report(late)}" if late else "")
    problem = quarantined_share_problem(counts, max_share)
    if problem:
        raise TooManyQuarantined(f"{problem}\n{report}")
    scored = int(counts[[reason is None or reason != reason for reason in counts.index]].sum())
    if require_scored and not scored:
        raise NothingScored(
            f"run {run_id} scored no row into the output table: its input had no trip that the table did not hold "
            f"already (steps/predictions.py, unscored_trips)\n{report}"
        )
    return report

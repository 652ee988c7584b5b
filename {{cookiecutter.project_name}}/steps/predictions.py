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
the newest trip already in the table. A run's cost so grows with the new data, not with the
history; a new champion scores the trips that arrive from now on, not the past again (to
compare versions on old trips, score them into another table with ``model_uri``). Trips that
arrive later than that are never scored, but not silently: ``late_arrivals`` counts the input
trips before the window that the table does not hold, and the job prints the count
(``late_arrivals_report``).

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
from datetime import timedelta
from typing import TYPE_CHECKING, Callable, Optional

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from model_spec.contract import INPUT_CONTRACT, PICKUP, latest_plausible_pickup
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


def _record_id(columns: list[str]) -> Column:
    """SHA-256 of the record's input columns (``record_id_columns``) as JSON, in sorted order.

    Timestamps are rendered in UTC (JSON option ``timeZone``), not in the Spark session's time
    zone (``spark.sql.session.timeZone``): a cluster set to another zone must compute the same
    id for the same trip, or it would score and store every trip again. UTC is Databricks'
    default session zone, so ids written there stay the same.
    """
    record = F.struct(*[F.col(c) for c in record_id_columns(columns)])
    return F.sha2(F.to_json(record, {"timeZone": "UTC"}), 256)


def _window_start(spark: SparkSession, table_name: str, grace: timedelta) -> Optional[Column]:
    """The first pickup time (a timestamp literal) that ``unscored_trips`` compares, or None for all.

    ``grace`` before the newest pickup in ``table_name``; None when the table does not exist
    yet, is empty or has no pickup column. Existence is asked of the catalog: on Spark Connect
    (serverless) ``spark.table`` of a missing table raises only when the result is used.
    """
    if not spark.catalog.tableExists(check_table_name(table_name)):
        return None
    history = spark.table(table_name)
    if PICKUP not in history.columns:
        return None
    # MAX of the stored column and a filter on it, not on an expression of it: Delta answers the
    # one from file statistics and skips the files outside the window for the other.
    (newest,) = history.agg(F.max(PICKUP).cast("timestamp").cast("long")).first()
    if newest is None:
        return None
    # A glitched meter clock's pick-up in the future is quarantined but stored: it must not move
    # the window past every real trip, so the window ends at the latest plausible pick-up.
    newest = min(newest, int(latest_plausible_pickup(run_time()).timestamp()))
    return F.timestamp_seconds(F.lit(newest - int(grace.total_seconds())))


def unscored_trips(
    spark: SparkSession, trips: DataFrame, table_name: str, grace: timedelta = LATE_ARRIVAL_GRACE
) -> DataFrame:
    """``trips`` plus ``record_id``, without the trips that any version already scored into ``table_name``.

    Only trips picked up at most ``grace`` before the newest pickup in ``table_name`` (or with
    no pickup time, which the contract quarantines) are compared and returned, so Spark reads
    that window of the table, not its history; the older ones that no version scored are
    ``late_arrivals``. Every row is new when the table does not exist yet (the first run). The
    ``record_id`` column passes through scoring and ``append_predictions`` keeps it, so the id
    written is the one compared here.
    """
    keyed = trips.withColumn(RECORD_ID_COLUMN, _record_id(trips.columns))
    if not spark.catalog.tableExists(check_table_name(table_name)):
        return keyed
    history = spark.table(table_name)
    if PICKUP not in trips.columns:
        return keyed.join(history.select(RECORD_ID_COLUMN).distinct(), RECORD_ID_COLUMN, "left_anti")
    since = _window_start(spark, table_name, grace)
    if since is None:
        return keyed.join(history.select(RECORD_ID_COLUMN).distinct(), RECORD_ID_COLUMN, "left_anti")

    def recent(frame: DataFrame) -> DataFrame:
        pickup = F.col(PICKUP).cast("timestamp")
        return frame.where(pickup.isNull() | (pickup >= since))

    scored = recent(history).select(RECORD_ID_COLUMN).distinct()
    return recent(keyed).join(scored, RECORD_ID_COLUMN, "left_anti")


def late_arrivals(
    spark: SparkSession, trips: DataFrame, table_name: str, grace: timedelta = LATE_ARRIVAL_GRACE
) -> DataFrame:
    """The trips of ``trips`` that ``unscored_trips`` leaves out although no version scored them.

    They were picked up before its window (``grace`` before the newest pickup in
    ``table_name``) and their ``record_id`` is not in the table: they arrived too late to be
    scored by batch inference. Empty when every trip is compared (no table yet, no pickup
    column). Counting them reads the record ids of the table's rows before the window: one
    pass over its history, the price of never losing a trip without a trace.
    """
    since = _window_start(spark, table_name, grace) if PICKUP in trips.columns else None
    if since is None:
        return trips.limit(0).withColumn(RECORD_ID_COLUMN, F.lit(None).cast("string"))

    def before(frame: DataFrame) -> DataFrame:
        return frame.where(F.col(PICKUP).cast("timestamp") < since)

    keyed = before(trips).withColumn(RECORD_ID_COLUMN, _record_id(trips.columns))
    scored = before(spark.table(table_name)).select(RECORD_ID_COLUMN).distinct()
    return keyed.join(scored, RECORD_ID_COLUMN, "left_anti")


def late_arrivals_report(late: DataFrame, grace: timedelta = LATE_ARRIVAL_GRACE) -> str:
    """One line saying how many trips ``late_arrivals`` found (counts them: a Spark job)."""
    count = late.count()
    if not count:
        return "Late arrivals: none (every unscored trip is within the scoring window)"
    return (
        f"Late arrivals: {count} trips picked up more than {grace.days} days (LATE_ARRIVAL_GRACE, steps/predictions.py) "
        "before the newest scored trip were never scored and are not scored by this run; score them with a run "
        "over a table of their own"
    )


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
        record_id = F.col(RECORD_ID_COLUMN)
    else:
        excluded = (PREDICTION_COLUMN, MODEL_VERSION_COLUMN, REASON_COLUMN)
        record_id = _record_id([c for c in columns if c not in excluded])
    return predictions.select(
        record_id.alias(RECORD_ID_COLUMN),
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


def append_predictions(
    predictions: DataFrame, table_name: str, run_id: Optional[str] = None, table_format: str = "delta"
) -> str:
    """Add ``predictions`` (keyed by ``with_prediction_keys``) to ``table_name``; return the run id.

    Idempotent per record and model version: a row is inserted only when the table holds no
    row with its ``record_id`` and ``model_version`` (see the module docstring), so writing the
    same predictions again, in this run or another, adds nothing. The first run creates the
    table (there is nothing to merge into yet; two first runs at the same instant are the one
    case left unguarded). ``table_format`` is ``delta`` in the jobs
    (a ``MERGE``); the tests use ``parquet``, which a local Spark session has and which cannot
    merge, so there the rows already present are left out before an append (the same rows,
    without the guard against a concurrent writer). Raises ``ValueError`` for a bad table name
    before anything is written.
    """
    check_table_name(table_name)
    run_id = run_id or uuid.uuid4().hex
    rows = with_prediction_keys(predictions, run_id)
    spark = predictions.sparkSession
    key = (RECORD_ID_COLUMN, MODEL_VERSION_COLUMN)
    if not _catalog_knows(spark, table_name):
        rows.write.format(table_format).mode("append").saveAsTable(table_name)
    elif table_format == "delta":
        view = f"new_predictions_{uuid.uuid4().hex}"  # run ids are free text, this is a name
        rows.createOrReplaceTempView(view)
        try:
            on = " AND ".join(f"target.{column} = source.{column}" for column in key)
            spark.sql(
                f"MERGE WITH SCHEMA EVOLUTION INTO {table_name} AS target USING {view} AS source ON {on} "
                "WHEN NOT MATCHED THEN INSERT *"
            )
        finally:
            spark.catalog.dropTempView(view)
    else:
        present = spark.table(table_name).select(*key).distinct()
        rows.join(present, list(key), "left_anti").write.format(table_format).mode("append").saveAsTable(table_name)
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
    table: DataFrame, run_id: str, max_share: float = MAX_QUARANTINED_SHARE, require_scored: bool = False
) -> str:
    """How many of run ``run_id``'s rows in ``table`` were scored and quarantined, per broken rule.

    Raises ``TooManyQuarantined`` (the report in its message) when more than ``max_share`` of
    them were quarantined, so that the job fails instead of succeeding without predictions.
    With ``require_scored`` (the CI integration test, whose input always holds trips to score)
    raises ``NothingScored`` when the run scored no row: a scheduled run without new trips
    scores none and passes, a test that scores none proves nothing.
    """
    counts = quarantine_counts(table.where(F.col(RUN_ID_COLUMN) == run_id))
    report = counts_report(counts)
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

"""Where batch inference keeps its predictions: appended per run, never replaced.

Every run adds its rows to the output table; earlier runs' rows stay, so a prediction can be
traced back and compared later (drift, audits, a rollback). A prediction is identified by
``PREDICTION_KEY``:

* ``record_id``: SHA-256 of the scored row's input columns as JSON (trips have no id of their
  own; the same trip scored twice gets the same id);
* ``model_version``: the registered version that made the prediction;
* ``scoring_run_id``: a fresh id per batch-inference run, with ``scored_at`` (UTC) beside it.

The table's schema may grow (a new input column), never be replaced: Delta's ``mergeSchema``
adds columns and keeps the existing rows.

A run scores only new trips (``unscored_trips``): input rows whose ``record_id`` no version
has scored yet, looked for only among trips picked up at most ``LATE_ARRIVAL_GRACE`` before
the newest trip already in the table. A run's cost so grows with the new data, not with the
history; a new champion scores the trips that arrive from now on, not the past again (to
compare versions on old trips, score them into another table with ``model_uri``).

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
from typing import TYPE_CHECKING, Optional

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from model_spec.contract import PICKUP, latest_plausible_pickup
from model_spec.prediction import PREDICTION_COLUMN
from steps.row_checks import REASON_COLUMN, counts_report, quarantine_counts

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


def check_table_name(name: str) -> str:
    """``name`` itself, or ``ValueError`` with ``table_name_problem``'s message."""
    problem = table_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def _record_id(columns: list[str]) -> Column:
    """SHA-256 of the named input columns as JSON, in sorted column order."""
    return F.sha2(F.to_json(F.struct(*[F.col(c) for c in sorted(columns)])), 256)


def unscored_trips(
    spark: SparkSession, trips: DataFrame, table_name: str, grace: timedelta = LATE_ARRIVAL_GRACE
) -> DataFrame:
    """``trips`` plus ``record_id``, without the trips that any version already scored into ``table_name``.

    Only trips picked up at most ``grace`` before the newest pickup in ``table_name`` (or with
    no pickup time, which the contract quarantines) are compared and returned, so Spark reads
    that window of the table, not its history. Every row is new when the table does not exist
    yet (the first run). Existence is asked of the catalog: on Spark Connect (serverless)
    ``spark.table`` of a missing table raises only when the result is used. The ``record_id``
    column passes through scoring and ``append_predictions`` keeps it, so the id written is
    the one compared here.
    """
    keyed = trips.withColumn(RECORD_ID_COLUMN, _record_id(trips.columns))
    if not spark.catalog.tableExists(check_table_name(table_name)):
        return keyed
    history = spark.table(table_name)
    if PICKUP not in history.columns or PICKUP not in trips.columns:
        return keyed.join(history.select(RECORD_ID_COLUMN).distinct(), RECORD_ID_COLUMN, "left_anti")
    # MAX of the stored column and a filter on it, not on an expression of it: Delta answers the
    # one from file statistics and skips the files outside the window for the other.
    (newest,) = history.agg(F.max(PICKUP).cast("timestamp").cast("long")).first()
    if newest is None:
        return keyed
    # A glitched meter clock's pick-up in the future is quarantined but stored: it must not move
    # the window past every real trip, so the window ends at the latest plausible pick-up.
    newest = min(newest, int(latest_plausible_pickup().timestamp()))
    since = F.timestamp_seconds(F.lit(newest - int(grace.total_seconds())))

    def recent(frame: DataFrame) -> DataFrame:
        pickup = F.col(PICKUP).cast("timestamp")
        return frame.where(pickup.isNull() | (pickup >= since))

    scored = recent(history).select(RECORD_ID_COLUMN).distinct()
    return recent(keyed).join(scored, RECORD_ID_COLUMN, "left_anti")


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


def append_predictions(
    predictions: DataFrame, table_name: str, run_id: Optional[str] = None, table_format: str = "delta"
) -> str:
    """Append ``predictions`` (keyed by ``with_prediction_keys``) to ``table_name``; return the run id.

    Creates the table on the first run. ``table_format`` is ``delta`` in the jobs; the tests
    use ``parquet``, which a local Spark session has. Raises ``ValueError`` for a bad table name
    before anything is written.
    """
    check_table_name(table_name)
    run_id = run_id or uuid.uuid4().hex
    writer = with_prediction_keys(predictions, run_id).write.format(table_format).mode("append")
    if table_format == "delta":
        writer = writer.option("mergeSchema", "true")
    writer.saveAsTable(table_name)
    return run_id


def drop_table(spark: SparkSession, table_name: str) -> None:
    """Drop ``table_name`` if it exists (the CI integration test's own table, after the test).

    Raises ``ValueError`` for a bad table name before anything is dropped.
    """
    spark.sql(f"DROP TABLE IF EXISTS {check_table_name(table_name)}")


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

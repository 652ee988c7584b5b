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

A run scores only input rows that the same model version has not scored yet
(``unscored_trips``: their ``record_id`` is not in the table for that version), so a daily run
over a growing input table adds the new trips' predictions instead of a copy of the history.
"""

from __future__ import annotations

import re
import uuid
from typing import Optional

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from steps.row_checks import REASON_COLUMN, counts_report, quarantine_counts

RECORD_ID_COLUMN = "record_id"
MODEL_VERSION_COLUMN = "model_version"
RUN_ID_COLUMN = "scoring_run_id"
SCORED_AT_COLUMN = "scored_at"
PREDICTION_COLUMN = "prediction"
PREDICTION_KEY = (RECORD_ID_COLUMN, MODEL_VERSION_COLUMN, RUN_ID_COLUMN)
# One to three dot-separated identifiers (table, schema.table, catalog.schema.table) of
# letters, digits and '_': names that need no quoting and that Spark and Unity Catalog accept.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")
_EXAMPLE_TABLE = "staging.my_schema.predictions"


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


def unscored_trips(spark: SparkSession, trips: DataFrame, table_name: str, model_uri: str) -> DataFrame:
    """``trips`` plus ``record_id``, without the rows that ``model_uri``'s version already scored into ``table_name``.

    ``model_uri`` is ``models:/<name>/<version>``. Every row is new when the table does not
    exist yet (the first run). The ``record_id`` column passes through scoring and
    ``append_predictions`` keeps it, so the id written is the one compared here.
    """
    keyed = trips.withColumn(RECORD_ID_COLUMN, _record_id(trips.columns))
    try:
        history = spark.table(check_table_name(table_name))
    except AnalysisException:  # no such table yet
        return keyed
    version = model_uri.rsplit("/", 1)[-1]
    scored = history.where(F.col(MODEL_VERSION_COLUMN) == version).select(RECORD_ID_COLUMN)
    return keyed.join(scored.distinct(), RECORD_ID_COLUMN, "left_anti")


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


def run_report(table: DataFrame, run_id: str) -> str:
    """How many of run ``run_id``'s rows in ``table`` were scored and quarantined, per broken rule."""
    return counts_report(quarantine_counts(table.where(F.col(RUN_ID_COLUMN) == run_id)))

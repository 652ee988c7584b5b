"""The input contract of a trip row: which rows a model may score, and why a row may not.

The contract is one pandera schema, the model's ``INPUT_CONTRACT`` (``model_spec.contract``):
training drops the rows it rejects (``steps.trips.clean_trips``, with the model's
``TRAINING_CONTRACT``, which adds the label's rule to it) and scoring quarantines them
(``score_valid_rows``), so a model never scores a row of a kind it was not trained on. ``row_problems`` validates lazily, so every
broken rule of every row is collected rather than the first one raised, and turns pandera's
failure cases into one reason per row.

On Spark the same schema runs per batch (``mapInPandas``, ``with_problems``). pandera's own
PySpark backend is not used: it reports which checks failed, not which rows, and quarantine
needs the rows. A Python UDF over every input row is a job's costliest step after the model,
and Spark cannot push a filter through it or share it between two branches of a plan: each
job applies its filters (a period, new trips only) before the contract, and the rows that
leave the contract are computed once (``computed_once``), then split.

Importing pandera where PySpark is installed also imports PySpark's pandas API
(about a second) and, under PySpark 3.5 with numpy 2, restores numpy 1's aliases that PySpark
3.5 needs (pandera's ``_patch_numpy2``); neither changes what this module computes.

"Now" is a parameter: the contract judges a pick-up in the future against the run's timestamp
(``model_spec.contract.as_of``). A caller that passes none gets the clock read once, on the
driver, when it calls (``run_time``), so every batch of a Spark job uses that one instant.

Quarantined rows are kept: they are written with the predictions, ``prediction`` null and
the broken rules in ``quarantine_reason``, counted and reported, and never fail the run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional

import pandas as pd
import pandera.pandas as pa

from model_spec import contract as model_contract
from model_spec.contract import INPUT_CONTRACT

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

REASON_COLUMN = "quarantine_reason"


def run_time(now: Optional[datetime] = None) -> datetime:
    """``now`` itself, or (None) the current time in UTC: the instant a run judges rows against."""
    return now if now is not None else datetime.now(timezone.utc)


def _as_of(contract: pa.DataFrameSchema, now: datetime) -> pa.DataFrameSchema:
    """``contract`` with the model's rules that need "now" (``model_spec.contract.as_of``), if it has any.

    A model package without ``as_of`` (its rules never read the clock) gets its contract as it is.
    """
    dated = getattr(model_contract, "as_of", None)
    return dated(contract, now) if dated is not None else contract


def _reason(failure: pd.Series) -> str:
    """The reason a row gives for one of pandera's failure cases."""
    if failure["check"] == "column_in_dataframe":
        return f"missing {failure['failure_case']}"
    if failure["check"] == "not_nullable":
        return f"missing {failure['column']}"
    return str(failure["check"])


def _rule_order(contract: pa.DataFrameSchema) -> dict[str, int]:
    """Each reason's rank: missing columns first, then the columns' checks, then frame-wide checks."""
    rules = [f"missing {name}" for name in contract.columns]
    rules += [check.name for column in contract.columns.values() for check in column.checks]
    rules += [check.name for check in contract.checks]
    return {rule: rank for rank, rule in enumerate(rules)}


def row_problems(
    trips: pd.DataFrame, contract: pa.DataFrameSchema = INPUT_CONTRACT, now: Optional[datetime] = None
) -> pd.Series:
    """Per row of ``trips``: None when it meets ``contract`` at ``now``, else the broken rules joined by '; '.

    ``now`` is the run's timestamp (``run_time``; ``model_spec.contract.as_of``). Rules are
    listed in ``_rule_order``; a missing column breaks its rule for every row. The result has
    ``trips``' index. Never raises for a bad row: that is what the reason is for.
    """
    contract = _as_of(contract, run_time(now))
    frame = trips.reset_index(drop=True)  # pandera reports failing rows by index label
    try:
        contract.validate(frame, lazy=True)
        return pd.Series(None, index=trips.index, dtype=object)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    per_row: list[set[str]] = [set() for _ in range(len(frame))]
    for _, failure in failures.iterrows():
        rows = range(len(frame)) if pd.isna(failure["index"]) else [int(failure["index"])]
        for row in rows:
            per_row[row].add(_reason(failure))
    order = _rule_order(contract)
    reasons = ["; ".join(sorted(row, key=lambda reason: order.get(reason, len(order)))) or None for row in per_row]
    return pd.Series(reasons, index=trips.index, dtype=object)


def with_problems(
    trips: DataFrame, contract: pa.DataFrameSchema = INPUT_CONTRACT, now: Optional[datetime] = None
) -> DataFrame:
    """Spark ``trips`` plus STRING ``quarantine_reason`` (null for a row that meets ``contract`` at ``now``).

    ``now`` (``run_time``) is fixed here, on the driver: every batch is judged against it.
    """
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([*trips.schema.fields, StructField(REASON_COLUMN, StringType())])
    instant = run_time(now)

    def check(batches):
        for batch in batches:
            yield batch.assign(**{REASON_COLUMN: row_problems(batch, contract, instant).to_numpy()})

    return trips.mapInPandas(check, schema=schema)


def computed_once(frame: DataFrame) -> DataFrame:
    """``frame``, computed now (one Spark job) and kept, so the contract behind it runs once per row.

    Every action on the result, and on any frame derived from it, reads the kept rows instead of
    running ``frame``'s plan (the contract's Python UDF) again: scoring splits the checked rows
    into scored and quarantined, training counts, splits and collects the plausible ones.
    A local checkpoint, kept on the executors (memory, spilling to disk) until the frame is
    garbage-collected; Spark Connect supports it from Spark 4.0. ``cache()`` is not used: it
    is lazy on a classic cluster and, on serverless compute, needs environment version 5 and a
    workspace preview (Databricks docs, "Cache DataFrames on serverless compute"). A lost
    executor loses its kept rows and fails the job, which the job's retry runs again.
    """
    return frame.localCheckpoint(eager=True)


def quarantine_report(reasons: pd.Series) -> str:
    """``counts_report`` of a column of ``quarantine_reason`` values (pandas, one per row)."""
    return counts_report(reasons.value_counts(dropna=False))


def counts_report(counts: pd.Series) -> str:
    """``"N of M rows quarantined"`` and the rows per broken rule, from rows per reason (NaN/None: scored)."""
    flagged = counts[[reason is not None and reason == reason for reason in counts.index]]
    lines = [f"{int(flagged.sum())} of {int(counts.sum())} rows quarantined (not scored, kept with {REASON_COLUMN})"]
    lines += [f"  {int(count):>8}  {reason}" for reason, count in flagged.sort_values(ascending=False).items()]
    return "\n".join(lines)


def score_valid_rows(
    trips: DataFrame, score: Callable[[DataFrame], DataFrame], now: Optional[datetime] = None
) -> DataFrame:
    """``score`` applied to the rows of ``trips`` that meet the contract at ``now`` (``run_time``); the others quarantined.

    ``score`` takes and returns a Spark DataFrame (the rows plus its prediction columns).
    Quarantined rows come back with those columns null and ``quarantine_reason`` set; scored
    rows have ``quarantine_reason`` null. Nothing is dropped and nothing here raises for a bad row.
    Checks every row of ``trips`` once, when called (``computed_once``): filter ``trips`` first.
    """
    from pyspark.sql import functions as F

    checked = computed_once(with_problems(trips, now=now))
    scored = score(checked.where(F.col(REASON_COLUMN).isNull()).drop(REASON_COLUMN))
    added = [field for field in scored.schema.fields if field.name not in trips.columns]
    held = checked.where(F.col(REASON_COLUMN).isNotNull())
    for field in added:
        held = held.withColumn(field.name, F.lit(None).cast(field.dataType))
    return scored.withColumn(REASON_COLUMN, F.lit(None).cast("string")).unionByName(held)


def quarantine_counts(scored: DataFrame) -> pd.Series:
    """Rows per ``quarantine_reason`` of a scored Spark DataFrame (null: scored), as a small pandas Series."""
    counts = scored.groupBy(REASON_COLUMN).count().toPandas()
    return pd.Series(counts["count"].to_numpy(), index=counts[REASON_COLUMN].to_numpy(), dtype="int64")

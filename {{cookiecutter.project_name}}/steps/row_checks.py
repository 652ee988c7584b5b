"""The input contract of a trip row: which rows a model may score, and why a row may not.

One pandas function, ``row_problems``, states the rules; training drops the rows it flags
(``steps.trips.clean_trips``) and scoring quarantines them (``quarantine``), so a model never
scores a row of a kind it was not trained on. On Spark the same function runs per batch
(``mapInPandas``), so there is no second rendering of the rules to drift.

Quarantined rows are kept: they are written with the predictions, ``prediction`` null and
the broken rules in ``quarantine_reason``, counted and reported, and never fail the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pandas as pd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

PICKUP, DROPOFF = "tpep_pickup_datetime", "tpep_dropoff_datetime"
INPUT_COLUMNS = (PICKUP, DROPOFF, "trip_distance", "pickup_zip", "dropoff_zip")
REASON_COLUMN = "quarantine_reason"
# Open interval of plausible meter distances in miles: 0 is a cancelled trip, beyond 400 an
# odometer glitch (the training data's rule, steps.trips.DISTANCE_RANGE, reads it from here).
DISTANCE_RANGE = (0.0, 400.0)


def row_problems(trips: pd.DataFrame) -> pd.Series:
    """Per row of ``trips``: None when it meets the input contract, else the broken rules joined by '; '.

    Rules: every input column present and not missing, ``trip_distance`` strictly inside
    ``DISTANCE_RANGE``, drop-off not before pick-up. Other columns are ignored.
    """
    checks: list[tuple[pd.Series, str]] = []
    for column in INPUT_COLUMNS:
        missing = trips[column].isna() if column in trips else pd.Series(True, index=trips.index)
        checks.append((missing, f"missing {column}"))
    if "trip_distance" in trips:
        distance = pd.to_numeric(trips["trip_distance"], errors="coerce")
        checks.append((distance.notna() & ~distance.between(*DISTANCE_RANGE, inclusive="neither"),
                       f"trip_distance outside {DISTANCE_RANGE}"))  # fmt: skip
    if PICKUP in trips and DROPOFF in trips:
        checks.append((pd.to_datetime(trips[DROPOFF]) < pd.to_datetime(trips[PICKUP]), "drop-off before pick-up"))
    reasons = pd.Series("", index=trips.index, dtype=object)
    for mask, label in checks:
        mask = mask.fillna(False).astype(bool)
        reasons[mask] = reasons[mask] + "; " + label
    reasons = reasons.str.removeprefix("; ").astype(object)
    return reasons.where(reasons != "", None)


def with_problems(trips: DataFrame) -> DataFrame:
    """Spark ``trips`` plus STRING ``quarantine_reason`` (null for a row that may be scored)."""
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([*trips.schema.fields, StructField(REASON_COLUMN, StringType())])

    def check(batches):
        for batch in batches:
            yield batch.assign(**{REASON_COLUMN: row_problems(batch).to_numpy()})

    return trips.mapInPandas(check, schema=schema)


def quarantine_report(reasons: pd.Series) -> str:
    """``counts_report`` of a column of ``quarantine_reason`` values (pandas, one per row)."""
    return counts_report(reasons.value_counts(dropna=False))


def counts_report(counts: pd.Series) -> str:
    """``"N of M rows quarantined"`` and the rows per broken rule, from rows per reason (NaN/None: scored)."""
    flagged = counts[[reason is not None and reason == reason for reason in counts.index]]
    lines = [f"{int(flagged.sum())} of {int(counts.sum())} rows quarantined (not scored, kept with {REASON_COLUMN})"]
    lines += [f"  {int(count):>8}  {reason}" for reason, count in flagged.sort_values(ascending=False).items()]
    return "\n".join(lines)


def score_valid_rows(trips: DataFrame, score: Callable[[DataFrame], DataFrame]) -> DataFrame:
    """``score`` applied to the rows of ``trips`` that meet the contract; the others quarantined.

    ``score`` takes and returns a Spark DataFrame (the rows plus its prediction columns).
    Quarantined rows come back with those columns null and ``quarantine_reason`` set; scored
    rows have ``quarantine_reason`` null. Nothing is dropped and nothing here raises for a bad row.
    """
    from pyspark.sql import functions as F

    checked = with_problems(trips)
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

"""How many rows a job runs through the input contract: a contract that counts in a Spark accumulator.

The contract runs on Spark's Python workers (``steps.row_checks.with_problems``), out of reach
of a mock in the test process; an accumulator is added to on the workers and read on the driver.
"""

from __future__ import annotations

import copy

import pandas as pd
import pandera.pandas as pa
from pyspark import Accumulator


def counting(contract: pa.DataFrameSchema, rows: Accumulator) -> pa.DataFrameSchema:
    """``contract`` plus a frame-wide check that always passes and adds the rows it sees to ``rows``."""

    def count_rows(frame: pd.DataFrame) -> pd.Series:
        rows.add(len(frame))
        return pd.Series(True, index=frame.index)

    counted = copy.deepcopy(contract)
    counted.checks = [*counted.checks, pa.Check(count_rows, name="counted")]
    return counted

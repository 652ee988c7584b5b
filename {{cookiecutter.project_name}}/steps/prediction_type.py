"""Spark scoring by the model's prediction rule (``model_spec.prediction``), the same on every track.

Batch inference and validation score with Spark, the model running in a pandas UDF on the
workers. What such a UDF returns must be the rule's prediction: ``prediction_column`` (a
regressor's value, a classifier's predicted class, never its probabilities), typed as the
model predicts it (a classifier's classes have its label's type: LONG for 0/1, STRING for
named classes). So, before any row is scored, the rule is applied on the driver to the first
rows to score: it refuses a model whose output is not one value per row (a frame of class
scores) with its own error, and the type of what it returns is the UDF's result type. Spark
then computes ``model.predict`` per batch, which for a model that passed the rule is exactly
``prediction_column``'s values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from model_spec.prediction import prediction_column

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel
    from pyspark.sql import DataFrame
    from pyspark.sql.types import DataType

# Rows the rule is applied to on the driver before scoring: enough to see the output's shape
# and type, few enough to cost nothing.
PROBE_ROWS = 20


def prediction_type(model: PyFuncModel, rows: pd.DataFrame) -> DataType:
    """The Spark type of ``prediction_column(model, rows)``; raises the rule's ``ValueError`` for a model that breaks it.

    A float prediction (a regressor's) is DOUBLE; any other is the Arrow type of its values
    (LONG for int64 classes, STRING for text classes, BOOLEAN). With no ``rows`` (nothing
    valid to score), the type of the model signature's one output column, else DOUBLE.
    """
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import DoubleType

    if rows.empty:
        outputs = model.metadata.get_output_schema()
        if outputs is not None and len(outputs.inputs) == 1 and hasattr(outputs.inputs[0].type, "to_spark"):
            return outputs.inputs[0].type.to_spark()
        return DoubleType()
    predicted = prediction_column(model, rows)
    if pd.api.types.is_float_dtype(predicted):
        return DoubleType()
    return from_arrow_type(pa.Array.from_pandas(predicted).type)


def prediction_type_of_rows(model: PyFuncModel, inputs: DataFrame) -> DataType:
    """``prediction_type`` of the first ``PROBE_ROWS`` rows of ``inputs`` (Spark, the model's input columns)."""
    return prediction_type(model, inputs.limit(PROBE_ROWS).toPandas())

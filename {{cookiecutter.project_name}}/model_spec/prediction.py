"""The prediction column every track writes, and how a fitted model's output becomes it.

Batch inference, validation and the local pipeline all name the model's output
``PREDICTION_COLUMN`` and fill it with ``prediction_column``: a regressor's value or a
classifier's predicted class, one per row. A classifier's probabilities are never taken for
the prediction: code that needs them calls the fitted model's ``predict_proba`` explicitly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PREDICTION_COLUMN = "prediction"


def prediction_column(model: Any, rows: pd.DataFrame) -> pd.Series:
    """``model.predict(rows)`` as one value per row, named ``PREDICTION_COLUMN``, with ``rows``' index.

    ``model`` is a fitted scikit-learn estimator or an ``mlflow.pyfunc`` model (both predict a
    classifier's class by default). Raises ``ValueError`` when the output is not one value
    per row, e.g. a frame of class probabilities, which must never be taken for the prediction.
    """
    output = model.predict(rows)
    if isinstance(output, pd.DataFrame):
        if output.shape[1] != 1:
            raise ValueError(
                f"The model returned {output.shape[1]} columns ({', '.join(map(str, output.columns))}) per row; "
                f"{PREDICTION_COLUMN!r} takes one value per row (a classifier's class, not its probabilities)"
            )
        output = output.iloc[:, 0]
    values = np.asarray(output)
    if values.ndim != 1 or len(values) != len(rows):
        raise ValueError(
            f"The model returned an output of shape {values.shape} for {len(rows)} rows; "
            f"{PREDICTION_COLUMN!r} takes one value per row (a classifier's class, not its probabilities)"
        )
    return pd.Series(values, index=rows.index, name=PREDICTION_COLUMN)

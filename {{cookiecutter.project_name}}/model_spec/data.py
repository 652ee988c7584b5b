"""Where the example model's data comes from, what it predicts, and what kind of task it is.

Each value is defined here once: the local pipeline and the tests read ``SAMPLE_PATH``, the
notebooks default to ``DATABRICKS_INPUT_PATH`` (the jobs in ``databricks-config/`` pass the
same path; ``tests/test_model_spec.py`` keeps them equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

# The committed sample the local pipeline trains on, relative to the project root.
SAMPLE_PATH = Path("data") / "sample.parquet"
# The Delta table of raw trips the Databricks jobs read by default (a public Databricks dataset).
DATABRICKS_INPUT_PATH = "/databricks-datasets/nyctaxi-with-zipcodes/subsampled"
# The column the model learns to predict, and the column that orders rows in time (the most
# recent rows are held out for validation, and batch inference scores rows by it).
LABEL = "fare_amount"
TIME_COLUMN = "tpep_pickup_datetime"
# "regression" or "classification": how the tracks evaluate the model (MLflow's model type,
# the recipe template) and what kind of value ``model_spec.prediction`` must return.
TASK: Literal["regression", "classification"] = "regression"

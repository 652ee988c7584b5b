# Databricks notebook source
# MAGIC %md
# MAGIC # Generate and write features
# MAGIC
# MAGIC Computes one feature table from raw taxi trips over a time range and merges it into the
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# MAGIC Unity Catalog feature table of the environment (`catalog.schema.table`, created on the first
# MAGIC run as a time-series table keyed on `zip` and the window end). The write-feature-table job
# MAGIC runs it once per table (tasks `PickupFeatures` and `DropoffFeatures`); the feature logic lives
# MAGIC in `features/<module>.py`.
{%- else %}
# MAGIC Feature Store. The write-feature-table job runs it once per table (tasks `PickupFeatures`
# MAGIC and `DropoffFeatures`); the feature logic lives in `features/<module>.py`.
{%- endif %}
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: dev, test, staging or prod. Together with the module it decides the output
# MAGIC   table (see `features/feature_tables.py`), so the training notebook reads the same table.
# MAGIC * `input_table_path`: Delta path of the raw trips.
# MAGIC * `input_start_date`, `input_end_date`: time range of the trips to use, e.g.
# MAGIC   `2016-01-01`; the end is exclusive, an empty end means up to the newest trip less
# MAGIC   `FEATURE_AVAILABILITY_LAG`, when a window's trips have landed (`features/time_windows.py`).
# MAGIC   An empty start means incremental: only the windows of the last `lookback_days` before the table's newest
# MAGIC   window, and on, are recomputed and merged (on a table's first run: everything).
# MAGIC * `lookback_days`: how far back an incremental run recomputes, for trips that arrive late;
# MAGIC   empty: 7 days, batch inference's grace for late trips (`features/generate.py`).
# MAGIC * `backfill`: `yes` recomputes every window of the input (within the dates), e.g. after a change
# MAGIC   of a feature's definition; default `no`.
# MAGIC * `timestamp_column`: leave empty: the module's table definition names the trip column
# MAGIC   the windows are built on (a different value is refused).
# MAGIC * `features_transform_module`: `pickup_features` or `dropoff_features`.
# MAGIC * `primary_keys`: leave empty or `zip`: the table definition names the key.
# MAGIC * `ci_run_id`: empty, except in the CI integration test (`env=test`), which passes its CI
# MAGIC   run's id so that it writes and reads feature tables of its own (`features/feature_tables.py`),
# MAGIC   dropped at its end by `DropCiFeatureTables`.
# MAGIC
# MAGIC Time-series feature tables: {{ "machine-learning/feature-store/time-series.html" | generate_doc_link(cookiecutter.cloud) }}

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

dbutils.widgets.dropdown("env", "dev", {{ cookiecutter | environment_names("dev", "ci", "deploy") | tojson }}, "Environment Name")
dbutils.widgets.text("input_table_path", "/databricks-datasets/nyctaxi-with-zipcodes/subsampled", "Input Table Path")
dbutils.widgets.text("input_start_date", "", "Input Start Date")
dbutils.widgets.text("input_end_date", "", "Input End Date")
dbutils.widgets.text("lookback_days", "", "Lookback Days (empty: 7)")
dbutils.widgets.dropdown("backfill", "no", ["no", "yes"], "Full Backfill")
dbutils.widgets.text("timestamp_column", "", "Timestamp Column (empty: the table's)")
dbutils.widgets.dropdown(
    "features_transform_module", "pickup_features", ["pickup_features", "dropoff_features"], "Features Transform Module"
)
dbutils.widgets.text("primary_keys", "", "Primary Keys (empty: the table's)")
dbutils.widgets.text("ci_run_id", "", "CI Run ID (empty: the environment's feature tables)")

# COMMAND ----------

import os
import sys

# The notebook runs from notebooks/; the project root holds the features package.
sys.path.insert(0, os.path.abspath(os.pardir))

from features.databricks_store import DatabricksFeatureStore
from features.feature_tables import PRIMARY_KEY
from features.generate import generate_and_write_features, parse_lookback_days
from steps import dev_namespace

env = dbutils.widgets.get("env")
dev_namespace.enter(spark, env)  # dev: your own feature tables (steps/dev_namespace.py)
input_table_path = dbutils.widgets.get("input_table_path")
assert input_table_path, "input_table_path must be set"
primary_keys = [key.strip() for key in dbutils.widgets.get("primary_keys").split(",") if key.strip()]
assert primary_keys in ([], [PRIMARY_KEY]), f"primary_keys must be empty or {PRIMARY_KEY}, the tables' key"
lookback = parse_lookback_days(dbutils.widgets.get("lookback_days"))

# COMMAND ----------

# DBTITLE 1,Compute the features and merge them into the feature table
raw_trips = spark.read.format("delta").load(input_table_path)
table_name = generate_and_write_features(
    DatabricksFeatureStore(spark),
    raw_trips,
    module=dbutils.widgets.get("features_transform_module"),
    env=env,
    start_date=dbutils.widgets.get("input_start_date"),
    end_date=dbutils.widgets.get("input_end_date"),
    timestamp_column=dbutils.widgets.get("timestamp_column"),
    ci_run_id=dbutils.widgets.get("ci_run_id"),
    lookback=lookback,
    backfill=dbutils.widgets.get("backfill") == "yes",
)
print(f"Wrote features to {table_name}")
dbutils.notebook.exit(table_name)

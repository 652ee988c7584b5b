# Databricks notebook source
# MAGIC %md
# MAGIC # Drop a CI run's feature tables
# MAGIC
# MAGIC The last task of the CI integration test (`submit_integration_test.py`), run whatever the
# MAGIC other tasks' outcome (`run_if: ALL_DONE`): drops the feature tables that this CI run's
# MAGIC `GenerateAndWriteFeatures` tasks wrote and its `Train`, `ModelValidation` and
# MAGIC `BatchInference` tasks read (`features/feature_tables.py`: named after the CI run). A table
# MAGIC the run never wrote is skipped; the environment's long-lived tables are never touched.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `test`, the CI integration test's environment (the only one with per-run tables).
# MAGIC * `ci_run_id`: the CI run's id, as its other tasks got it.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

dbutils.widgets.dropdown("env", "{{ (cookiecutter | environment_names("ci"))[0] }}", ["{{ (cookiecutter | environment_names("ci"))[0] }}"], "Environment Name")
dbutils.widgets.text("ci_run_id", "", "CI Run ID")

# COMMAND ----------

import os
import sys

# The notebook runs from notebooks/; the project root holds the features package.
sys.path.insert(0, os.path.abspath(os.pardir))

from features.databricks_store import DatabricksFeatureStore
from features.generate import drop_ci_run_tables

env = dbutils.widgets.get("env")
ci_run_id = dbutils.widgets.get("ci_run_id")
dropped = drop_ci_run_tables(DatabricksFeatureStore(spark), env, ci_run_id)
print(f"Dropped the CI run's feature tables: {', '.join(dropped) or 'none (none was written)'}")
dbutils.notebook.exit(",".join(dropped))

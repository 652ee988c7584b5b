# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC
# MAGIC Checks the model version that the `Train` task registered before it is deployed: scores
# MAGIC `validation_input` with it and compares root mean squared error, mean absolute error and
# MAGIC the weighted mean squared error with the thresholds in `steps/validation.py`. The result
# MAGIC is logged to an MLflow run and appended to the model version's description.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `test`, `staging` or `prod`; the validation run goes to that environment's experiment.
# MAGIC * `run_mode`: `disabled` (skip), `dry_run` (report, never block) or `enabled` (a failure
# MAGIC   fails this task, so `TriggerModelDeploy` does not run).
# MAGIC * `validation_input`: a Spark SQL query returning raw trips including the true `fare_amount`.
# MAGIC
# MAGIC Reads the task values `model_uri`, `model_name` and `model_version` of the `Train` task.

# COMMAND ----------

# MAGIC %load_ext autoreload
# MAGIC %autoreload 2

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

dbutils.widgets.dropdown("env", "staging", ["test", "staging", "prod"], "Environment Name")
dbutils.widgets.dropdown("run_mode", "dry_run", ["disabled", "dry_run", "enabled"], "Run Mode")
dbutils.widgets.text(
    "validation_input",
    "SELECT * FROM delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`",
    "Validation Input Query",
)

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from steps.validation import RunMode

env = dbutils.widgets.get("env")
run_mode = RunMode.parse(dbutils.widgets.get("run_mode"))
validation_input = dbutils.widgets.get("validation_input")
if run_mode is RunMode.DISABLED:
    dbutils.notebook.exit("Model validation is disabled")

# COMMAND ----------

import mlflow

{% if cookiecutter.include_feature_store == "yes" -%}
from features.scoring import score_trips
{%- else -%}
from steps.predict import score_trips
{%- endif %}
from steps.model_validation import run_model_validation
from steps.utils import get_experiment_name

model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="")
model_name = dbutils.jobs.taskValues.get("Train", "model_name", debugValue="")
model_version = dbutils.jobs.taskValues.get("Train", "model_version", debugValue="")
assert model_uri and model_name and model_version, "Run this notebook as a task after the Train task"

mlflow.set_experiment(get_experiment_name(env))
run_model_validation(
    spark,
    score_trips,
    model_uri=model_uri,
    model_name=model_name,
    model_version=str(model_version),
    validation_input=validation_input,
    run_mode=run_mode,
)

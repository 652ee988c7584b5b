# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC
# MAGIC Checks the model version that the `Train` task registered before it may be deployed, with
# MAGIC `fare_model.validation` (MLflow 3's `mlflow.models.evaluate`): on the trips of
# MAGIC `validation_input` picked up from the version's training cutoff to at most `HELD_OUT_DAYS`
# MAGIC days after it (data training did not see, cleaned as in training; `fare_model/data.py`), each metric must stay within its threshold in
# MAGIC `model_spec/metrics.py` and must not be worse than the current `champion`'s by more than the
# MAGIC margin in `fare_model/validation.py`. The outcome is the version's `validation_status` tag;
# MAGIC a passing version becomes the `challenger`.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `dev`, `test`, `staging` or `prod`; the validation run goes to that environment's experiment.
# MAGIC * `run_mode`: `disabled` (skip; deployment is allowed), `dry_run` (record; a failed version is
# MAGIC   not deployed but this task succeeds) or `enabled` (a failure also fails this task).
# MAGIC * `validation_input`: a Spark SQL query returning raw trips including the true `fare_amount`.
# MAGIC
# MAGIC Reads the task values `model_name` and `model_version` of the `Train` task.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

{% include "ml/model_validation_widgets.py" %}

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import mlflow
from mlflow.tracking import MlflowClient

from fare_model.data import held_out_trips
from fare_model.registry import training_cutoff
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
from fare_model.unity_catalog import use_unity_catalog_registry
{%- endif %}
from fare_model.validation import validate_model_version
from steps import dev_namespace
from steps.utils import get_experiment_name
from steps.validation import RunMode

{% include "ml/validation_inputs.py" %}
# COMMAND ----------

mlflow.set_experiment(get_experiment_name(env))
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
use_unity_catalog_registry()
{%- endif %}
held_out = None
if run_mode is not RunMode.DISABLED:
    cutoff = training_cutoff(MlflowClient(), model_name, str(model_version))
    held_out = held_out_trips(spark.sql(validation_input), cutoff)
outcome = validate_model_version(model_name, str(model_version), held_out, run_mode)
print(outcome.report())
dbutils.notebook.exit(outcome.status.value)

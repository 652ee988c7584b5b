{% if cookiecutter | derived("ml_code") == "mlflow3" %}{% include "ml/mlflow3/ModelValidation.py" %}{% elif cookiecutter | derived("ml_code") == "feature_store" %}{% include "ml/feature_store/ModelValidation.py" %}{% else -%}
# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC
# MAGIC Checks the model version that the `Train` task registered before it is deployed: scores
# MAGIC the held-out period of `validation_input` (its trips from the version's `training_cutoff`
# MAGIC tag to at most `HELD_OUT_DAYS` days after it, which training left out; see `steps/trips.py`) with it and with the model deployed now, and compares root mean
# MAGIC squared error, mean absolute error and the weighted mean squared error with the thresholds
# MAGIC and the deployed model's (`model_spec/metrics.py`, `steps/validation.py`). The result is logged to an MLflow run and
# MAGIC recorded as the version's `model_validation_status` tag, which deployment checks.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `dev`, `test`, `staging` or `prod`; the validation run goes to that environment's experiment.
# MAGIC * `run_mode`: `disabled` (skip, and let deployment through), `dry_run` (report without
# MAGIC   failing this task; deployment still refuses a failed version) or `enabled` (a failure
# MAGIC   fails this task, so `TriggerModelDeploy` does not run).
# MAGIC * `validation_input`: a Spark SQL query returning raw trips including the true `fare_amount`.
# MAGIC
# MAGIC Reads the task values `model_uri`, `model_name` and `model_version` of the `Train` task.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

# MAGIC %load_ext autoreload
# MAGIC %autoreload 2

# COMMAND ----------

{% include "ml/model_validation_widgets.py" %}

# COMMAND ----------

import os
import sys

import mlflow

sys.path.insert(0, os.path.abspath(".."))

from steps import dev_namespace
from steps.deploy import deployed_model_uri
from steps.model_validation import run_model_validation
from steps.predict import score_trips
from steps.utils import get_experiment_name
from steps.validation import RunMode

{% include "ml/validation_inputs.py" -%}
model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="")
assert model_uri, "Run this notebook as a task after the Train task"

mlflow.set_experiment(get_experiment_name(env))
run_model_validation(
    spark,
    score_trips,
    model_uri=model_uri,
    model_name=model_name,
    model_version=str(model_version),
    validation_input=validation_input,
    run_mode=run_mode,
    baseline_model_uri=deployed_model_uri(model_name, env),
)
{% endif %}
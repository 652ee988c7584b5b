# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC
# MAGIC Checks the model version that the `Train` task registered before it may be deployed, with
# MAGIC `fare_model.validation` (MLflow 3's `mlflow.models.evaluate`), scoring through the Feature
# MAGIC Store (`features/validation.py`): on the trips of `validation_input` picked up at or after the
# MAGIC version's training cutoff (tag `training_cutoff`: the period training left out), each metric must stay within
# MAGIC its threshold in `model_spec/metrics.py` and must not be worse than the current `champion`'s
# MAGIC by more than the margin in `fare_model/validation.py`. The outcome is the version's
# MAGIC `validation_status` tag; a passing version becomes the `challenger`.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `dev`, `test`, `staging` or `prod`; the validation run goes to that environment's experiment.
# MAGIC * `run_mode`: `disabled` (skip; deployment is allowed), `dry_run` (record; a failed version is
# MAGIC   not deployed but this task succeeds) or `enabled` (a failure also fails this task).
# MAGIC * `validation_input`: a Spark SQL query returning raw trips including the true `fare_amount`.
# MAGIC * `ci_run_id`: empty, except in the CI integration test (`env=test`), which passes its CI
# MAGIC   run's id so that it writes and reads feature tables of its own (`features/feature_tables.py`),
# MAGIC   dropped at its end by `DropCiFeatureTables`.
# MAGIC
# MAGIC Reads the task values `model_name` and `model_version` of the `Train` task.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

{% include "ml/model_validation_widgets.py" %}
dbutils.widgets.text("ci_run_id", "", "CI Run ID (empty: the environment's feature tables)")

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import mlflow

{% if cookiecutter.include_models_in_unity_catalog == "yes" -%}
from fare_model.unity_catalog import use_unity_catalog_registry
{% endif -%}
from features.validation import validate_with_feature_store
from steps import dev_namespace
from steps.utils import get_experiment_name
from steps.validation import RunMode

{% include "ml/validation_inputs.py" %}
# COMMAND ----------

mlflow.set_experiment(get_experiment_name(env))
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
use_unity_catalog_registry()
{%- endif %}
ci_run_id = dbutils.widgets.get("ci_run_id")
outcome = validate_with_feature_store(spark, model_name, str(model_version), validation_input, run_mode, env, ci_run_id)
print(outcome.report())
dbutils.notebook.exit(outcome.status.value)

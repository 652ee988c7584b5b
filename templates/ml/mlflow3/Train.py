# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC
# MAGIC Trains the taxi-fare model with `fare_model.training` on MLflow 3 and registers it: of the
# MAGIC newest 2,000,000 trips (the training window, `fare_model.data.MAX_COLLECTED_ROWS`, logged as
# MAGIC run parameters), those before the most recent tenth (by pickup time, at most the newest 7 days,
# MAGIC `steps/trips.py`) train the model, the rest is held out for `ModelValidation`. The training
# MAGIC trips are logged as the run's dataset.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `dev`, `staging` or `prod`; selects the experiment and registered model (in `dev`
# MAGIC   your own, `steps/dev_namespace.py`).
# MAGIC * `test_mode`: `True` uses the `test` experiment and model (CI integration test) whatever `env` is.
# MAGIC
# MAGIC Outputs: task values `model_uri`, `model_name` and `model_version` for the next job tasks,
# MAGIC and `model_uri` as the notebook's exit value.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

dbutils.widgets.dropdown("env", "dev", {{ cookiecutter | environment_names("dev", "deploy") | tojson }}, "Environment Name")
dbutils.widgets.dropdown("test_mode", "False", ["True", "False"], "Test Mode")

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import mlflow

from fare_model.data import MAX_COLLECTED_ROWS, newest_trips
from fare_model.training import train_and_register
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
from fare_model.unity_catalog import use_unity_catalog_registry
{%- endif %}
from model_spec.data import DATABRICKS_INPUT_PATH
from steps import dev_namespace
from steps.utils import get_experiment_name, get_model_name

TRAINING_DATA = f"delta.`dbfs:{DATABRICKS_INPUT_PATH}`"

env = "test" if dbutils.widgets.get("test_mode").lower() == "true" else dbutils.widgets.get("env")
dev_namespace.enter(spark, env)  # dev: your own experiment and model (steps/dev_namespace.py)
mlflow.set_experiment(get_experiment_name(env))
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
use_unity_catalog_registry()
{%- endif %}

# COMMAND ----------

{% include "ml/utc_clock.py" %}
trips = newest_trips(spark.table(TRAINING_DATA), MAX_COLLECTED_ROWS)
model = train_and_register(trips, get_model_name(env), source=TRAINING_DATA, window_max_rows=MAX_COLLECTED_ROWS)
print(f"Registered {model.model_uri}; trips picked up from {model.training_cutoff} on are held out")

# COMMAND ----------

dbutils.jobs.taskValues.set("model_uri", model.model_uri)
dbutils.jobs.taskValues.set("model_name", model.model_name)
dbutils.jobs.taskValues.set("model_version", model.model_version)
dbutils.notebook.exit(model.model_uri)

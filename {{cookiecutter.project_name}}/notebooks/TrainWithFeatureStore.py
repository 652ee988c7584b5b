# Databricks notebook source
# MAGIC %md
# MAGIC # Train with the Feature Store
# MAGIC
# MAGIC Builds a training set from raw trips by point-in-time lookups of the pickup and dropoff
# MAGIC feature tables of `env`, trains the fare model, and logs it with its feature lookups
# MAGIC under `model_name`, so that batch scoring only needs raw trips. It runs as task `Train`
# MAGIC of the training job and of the CI integration test.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: dev, test, staging or prod; picks the feature tables (see `features/feature_tables.py`).
# MAGIC   In dev, the tables, experiment and model are your own (`steps/dev_namespace.py`).
# MAGIC * `training_data_path`: Delta path of the raw trips with `fare_amount`.
# MAGIC * `experiment_name`: MLflow experiment of the training run; empty: the experiment of `env`
# MAGIC   (`steps/utils.py`).
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# MAGIC * `model_name`: Unity Catalog model (`catalog.schema.model`) that receives the new version;
# MAGIC   empty: the model of `env` (`steps/utils.py`, from `databricks-config/unity-catalog.json`).
{%- else %}
# MAGIC * `model_name`: registered model that receives the new version; empty: the model of `env`
# MAGIC   (`steps/utils.py`).
{%- endif %}
# MAGIC * `ci_run_id`: empty, except in the CI integration test (`env=test`), which passes its CI
# MAGIC   run's id so that it writes and reads feature tables of its own (`features/feature_tables.py`),
# MAGIC   dropped at its end by `DropCiFeatureTables`.
# MAGIC
# MAGIC Result: the new version's `models:/<name>/<version>` URI, as the notebook exit value and as
# MAGIC task values `model_uri`, `model_name` and `model_version` (read by ModelValidation and
# MAGIC TriggerModelDeploy).
# MAGIC
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# MAGIC The feature tables are Unity Catalog tables and the model is registered in Unity Catalog
# MAGIC (registry URI `databricks-uc`) with a signature.
# MAGIC
{%- endif %}
# MAGIC Training with the Feature Store: {{ "machine-learning/feature-store/train-models-with-feature-store.html" | generate_doc_link(cookiecutter.cloud) }}

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

dbutils.widgets.dropdown("env", "dev", {{ cookiecutter | environment_names("dev", "ci", "deploy") | tojson }}, "Environment Name")
dbutils.widgets.text(
    "training_data_path", "/databricks-datasets/nyctaxi-with-zipcodes/subsampled", "Training Data Path"
)
dbutils.widgets.text("experiment_name", "", "Experiment Name (empty: the environment's)")
dbutils.widgets.text("model_name", "", "Model Name (empty: the environment's)")
dbutils.widgets.text("ci_run_id", "", "CI Run ID (empty: the environment's feature tables)")

# COMMAND ----------

import os
import sys

import mlflow

# The notebook runs from notebooks/; the project root holds the features package.
sys.path.insert(0, os.path.abspath(os.pardir))

{% if cookiecutter.include_models_in_unity_catalog == "yes" -%}
from fare_model.unity_catalog import use_unity_catalog_registry
{% endif -%}
from features.databricks_store import DatabricksFeatureStore
from features.training import train_and_register
from steps import dev_namespace
from steps.utils import get_experiment_name, get_model_name

env = dbutils.widgets.get("env")
dev_namespace.enter(spark, env)  # dev: your own feature tables, experiment and model (steps/dev_namespace.py)
training_data_path = dbutils.widgets.get("training_data_path")
assert training_data_path, "training_data_path must be set"
experiment_name = dbutils.widgets.get("experiment_name") or get_experiment_name(env)
model_name = dbutils.widgets.get("model_name") or get_model_name(env)
mlflow.set_experiment(experiment_name)
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
use_unity_catalog_registry()
{%- endif %}

# COMMAND ----------

# DBTITLE 1,Build the training set, train, log with feature lookups and register
{% include "ml/utc_clock.py" %}
raw_trips = spark.read.format("delta").load(training_data_path)
ci_run_id = dbutils.widgets.get("ci_run_id")
result = train_and_register(DatabricksFeatureStore(spark), raw_trips, env, model_name, ci_run_id)
print(f"Run {result.run_id} registered {result.model_uri}; held-out metrics: {result.metrics}")

# COMMAND ----------

# DBTITLE 1,Hand the model to ModelValidation and TriggerModelDeploy
dbutils.jobs.taskValues.set("model_uri", result.model_uri)
dbutils.jobs.taskValues.set("model_name", result.model_name)
dbutils.jobs.taskValues.set("model_version", result.model_version)
dbutils.notebook.exit(result.model_uri)

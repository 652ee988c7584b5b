{% if cookiecutter | derived("ml_code") in ("mlflow3", "feature_store") %}{% include "ml/mlflow3_batch_inference.py" %}{% else -%}
{%- from "ml/batch_inference_widgets.jinja" import widgets -%}
# Databricks notebook source
# MAGIC %md
# MAGIC # BatchInference
# MAGIC
# MAGIC Scores a table of trips with the model version deployed to this environment's registry
# MAGIC stage (staging: `Staging`, prod: `Production`) and appends to the output table the input
# MAGIC rows plus the model's `prediction` (`model_spec/prediction.py`: a regressor's DOUBLE value, a
# MAGIC classifier's predicted class, typed as its label) and the STRING column `model_version`, keyed
# MAGIC by `record_id`, `model_version` and `scoring_run_id` (`steps/predictions.py`): earlier runs stay.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `staging` or `prod` (`test`: the CI integration test, which must score rows and
# MAGIC   whose output table, one per CI run, is dropped at the end).
# MAGIC * `model_uri`: empty to score with the version deployed to `env`; the CI integration test
# MAGIC   passes the version it just trained (`models:/<name>/<version>`).
# MAGIC * `input_table_name`: a table name or ``delta.`<path>` `` with raw trips.
# MAGIC * `output_table_name`: the Delta table to write.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

# MAGIC %load_ext autoreload
# MAGIC %autoreload 2

# COMMAND ----------

{{ widgets(cookiecutter | environment_names("deploy", "ci"), "Model Version URI (empty: the deployed version)") }}

# COMMAND ----------

# DBTITLE 1,Define input and output variables
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from steps.batch_inference import deployed_model_version_uri, score_with_version
from steps.predict import score_trips
from steps.predictions import (
    append_predictions,
    check_ci_table_name,
    check_table_name,
    drop_table,
    run_report,
    trips_to_score,
)
from steps.utils import get_model_name

env = dbutils.widgets.get("env")
input_table_name = dbutils.widgets.get("input_table_name")
output_table_name = check_table_name(dbutils.widgets.get("output_table_name"))
assert input_table_name, "input_table_name must name the table of trips to score"
model_uri = dbutils.widgets.get("model_uri") or deployed_model_version_uri(get_model_name(env), env)

# COMMAND ----------

# DBTITLE 1,Load model and run inference
{% include "ml/utc_clock.py" %}
# env test (CI) drops its output table at the end: only a CI run's own table, refused before any write.
if env == "test":
    check_ci_table_name(output_table_name)

try:
    trips = spark.table(input_table_name)
    # Only trips of this run's window that no version has scored into the output table yet; the
    # write compares that window of the table only (steps/predictions.py).
    # late: trips older than the window that no version scored, printed and set as a task value.
    window, new_trips, late = trips_to_score(spark, trips, output_table_name, dbutils.jobs.taskValues)
    predictions = score_with_version(spark, score_trips, model_uri, new_trips)
    run_id = append_predictions(predictions, output_table_name, window=window)
    # env test (CI): this CI run's own table, which must get predictions (steps/predictions.py).
    print(run_report(spark.table(output_table_name), run_id, require_scored=env == "test", late=late))
finally:
    if env == "test":  # the CI integration test's table, dropped even when the test fails
        drop_table(spark, output_table_name)
dbutils.notebook.exit(output_table_name)
{% endif %}
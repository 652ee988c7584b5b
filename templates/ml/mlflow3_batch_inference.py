{#- notebooks/BatchInference of both MLflow 3 tracks: the plain one scores the trips' own columns,
    the feature store looks each trip's features up as of its pickup time. -#}
{%- import "ml/batch_inference_tables.jinja" as tables with context -%}
{%- from "ml/batch_inference_widgets.jinja" import widgets -%}
{%- set fs = cookiecutter | derived("ml_code") == "feature_store" -%}
# Databricks notebook source
# MAGIC %md
# MAGIC # BatchInference
# MAGIC
{%- if fs %}
# MAGIC Scores a table of raw trips with the `champion` version of this environment's model,
# MAGIC through the Feature Store (each trip's features are looked up as of its pickup time), and
{%- else %}
# MAGIC Scores a table of trips with the `champion` version of this environment's model and
{%- endif %}
{%- if fs %}
# MAGIC appends to the output table the input rows plus a DOUBLE column `prediction` and a
{%- else %}
# MAGIC appends to the output table the input rows plus the model's `prediction` (`model_spec/prediction.py`:
# MAGIC a regressor's DOUBLE value, a classifier's predicted class, typed as its label) and a
{%- endif %}
# MAGIC STRING column `model_version` (the version that made every prediction: the alias is
# MAGIC resolved once, when the job starts), keyed by `record_id`, `model_version` and
# MAGIC `scoring_run_id` (`steps/predictions.py`): earlier runs' predictions stay.
# MAGIC
# MAGIC Parameters:
{%- if fs %}
# MAGIC * `env`: `staging` or `prod` (`test`: the CI integration test, which must score rows and
# MAGIC   whose output table, one per CI run, is dropped at the end).
# MAGIC * `model_uri`: empty to score with the champion; the CI integration test passes the version
# MAGIC   it just trained (`models:/<name>/<version>`).
{%- else %}
# MAGIC * `env`: `dev`, `test` (the CI integration test, which must score rows and whose output
# MAGIC   table, one per CI run, is dropped at the end), `staging` or `prod`.
# MAGIC * `model_uri`: `models:/<name>/<version>` to score with a given version instead of the
# MAGIC   champion (the CI integration test scores the version it has just trained).
{%- endif %}
# MAGIC * `input_table_name`: a table name or ``delta.`<path>` `` with raw trips.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# MAGIC * `output_table_name`: the Unity Catalog table to write (`catalog.schema.table`); empty: the
# MAGIC   `predictions` table in the environment's catalog and schema (databricks-config/unity-catalog.json).
{%- else %}
# MAGIC * `output_table_name`: the Delta table to write.
{%- endif %}
{%- if fs %}
# MAGIC * `ci_run_id`: empty, except in the CI integration test (`env=test`), which passes its CI
# MAGIC   run's id so that it writes and reads feature tables of its own (`features/feature_tables.py`),
# MAGIC   dropped at its end by `DropCiFeatureTables`.
{%- endif %}

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

{{ widgets(cookiecutter | environment_names("dev", "ci", "deploy"), "Model Version URI (empty: the champion)" if fs else "Model URI (empty: the champion)") }}
{%- if fs %}
dbutils.widgets.text("ci_run_id", "", "CI Run ID (empty: the environment's feature tables)")
{%- endif %}

# COMMAND ----------

# DBTITLE 1,Define input and output variables
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

{% if fs -%}
from fare_model.registry import resolve_alias
{{ tables.inputs_and_outputs("from features.scoring import deferral_report, feature_store, score_trips, split_at_feature_freshness", dev=True) }}
{%- else -%}
from fare_model.batch_inference import resolve_alias, score_trips
{{ tables.inputs_and_outputs(dev=True) }}
{%- endif %}
model_uri = dbutils.widgets.get("model_uri") or resolve_alias(get_model_name(env))
print(f"Scoring with {model_uri}")

# COMMAND ----------

# DBTITLE 1,{{ "Look up the features and run inference" if fs else "Load model and run inference" }}
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
{%- if fs %}
    # Trips newer than the latest feature window wait for a later run (features/scoring.py).
    ci_run_id = dbutils.widgets.get("ci_run_id")
    new_trips, deferred = split_at_feature_freshness(feature_store(spark), new_trips, env, ci_run_id)
{%- endif %}
    predictions = score_trips(spark, model_uri, new_trips)
{%- if fs %}
    print(deferral_report(deferred))
{%- endif %}
    {{ tables.write_predictions() | indent(4) }}
finally:
    if env == "test":  # the CI integration test's table, dropped even when the test fails
        drop_table(spark, output_table_name)
dbutils.notebook.exit(output_table_name)

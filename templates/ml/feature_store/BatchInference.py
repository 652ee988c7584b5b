# Databricks notebook source
# MAGIC %md
# MAGIC # BatchInference
# MAGIC
# MAGIC Scores a table of raw trips with the `champion` version of this environment's model,
# MAGIC through the Feature Store (each trip's features are looked up as of its pickup time), and
# MAGIC overwrites the output table with the input rows plus a DOUBLE column `prediction` and a
# MAGIC STRING column `model_version` (the version that made every prediction: the alias is
# MAGIC resolved once, when the job starts).
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `staging` or `prod` (`test`: the CI integration test).
# MAGIC * `model_uri`: empty to score with the champion; the CI integration test passes the version
# MAGIC   it just trained (`models:/<name>/<version>`).
# MAGIC * `input_table_name`: a table name or ``delta.`<path>` `` with raw trips.
# MAGIC * `output_table_name`: the Delta table to write.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.dropdown("env", "staging", ["staging", "prod", "test"], "Environment Name")
dbutils.widgets.text("model_uri", "", "Model Version URI (empty: the champion)")
dbutils.widgets.text(
    "input_table_name", "delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`", "Input Table Name"
)
dbutils.widgets.text("output_table_name", "", "Output Table Name")

# COMMAND ----------

# DBTITLE 1,Define input and output variables
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from fare_model.registry import resolve_alias
from features.scoring import score_trips
from steps.utils import get_model_name

env = dbutils.widgets.get("env")
input_table_name = dbutils.widgets.get("input_table_name")
output_table_name = dbutils.widgets.get("output_table_name")
assert input_table_name, "input_table_name must name the table of trips to score"
assert output_table_name, "output_table_name must name the table to write"
model_uri = dbutils.widgets.get("model_uri") or resolve_alias(get_model_name(env))
print(f"Scoring with {model_uri}")

# COMMAND ----------

# DBTITLE 1,Look up the features and run inference
predictions = score_trips(spark, model_uri, spark.table(input_table_name))
predictions.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(output_table_name)
dbutils.notebook.exit(output_table_name)

{% if cookiecutter | derived("ml_code") == "mlflow3" %}{% include "ml/mlflow3/Train.py" %}{% else -%}
# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC
# MAGIC Runs the MLflow Recipe (ingest, split, transform, train, evaluate, register) on Databricks.
# MAGIC
# MAGIC Parameters:
# MAGIC * `env`: `dev`, `staging` or `prod`; selects the profile `profiles/databricks-<env>.yaml`.
# MAGIC   `dev` registers your own model and experiment (`steps/dev_namespace.py`).
# MAGIC * `test_mode`: `True` uses the `databricks-test` profile (CI integration test) whatever `env` is.
# MAGIC
# MAGIC Outputs: task values `model_uri`, `model_name` and `model_version` for the next job tasks,
# MAGIC and `model_uri` as the notebook's exit value. The version's tag `training_cutoff` is the
# MAGIC first pickup time of the split's test period, the trips ModelValidation scores.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

# MAGIC %load_ext autoreload
# MAGIC %autoreload 2

# COMMAND ----------

dbutils.widgets.dropdown("env", "dev", {{ cookiecutter | environment_names("dev", "deploy") | tojson }}, "Environment Name")
dbutils.widgets.dropdown("test_mode", "False", ["True", "False"], "Test Mode")

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from steps import dev_namespace
from steps.utils import TERRAFORM_ENVS, get_experiment_name, write_dev_profile_names

env = dbutils.widgets.get("env")
test_mode = dbutils.widgets.get("test_mode").lower() == "true"
profile = "databricks-test" if test_mode else f"databricks-{env}"
if not test_mode and env in TERRAFORM_ENVS:
    # The staging and prod profiles include Terraform's outputs; without them MLflow only
    # reports that it failed to read the recipe configuration. This names the missing file.
    get_experiment_name(env)
if not test_mode and env == "dev":
    # Your own experiment and model (steps/dev_namespace.py), which the dev profile reads.
    dev_namespace.enter(spark, env)
    write_dev_profile_names()

# COMMAND ----------

from mlflow.recipes import Recipe

{% include "ml/utc_clock.py" %}
# Recipe.run runs each step in a process of its own, whose Spark session the line above does not
# reach: the steps take their zone from the environment, which they inherit.
os.environ["TZ"] = "UTC"
recipe = Recipe(profile=profile)

# COMMAND ----------

recipe.clean()

# COMMAND ----------

recipe.inspect()

# COMMAND ----------

recipe.run("ingest")

# COMMAND ----------

recipe.run("split")

# COMMAND ----------

recipe.run("transform")

# COMMAND ----------

recipe.run("train")

# COMMAND ----------

recipe.run("evaluate")

# COMMAND ----------

recipe.run("register")

# COMMAND ----------

recipe.inspect("train")

# COMMAND ----------

recipe.get_artifact("test_data").describe()

# COMMAND ----------

from steps.split import recipe_held_out_cutoff
from steps.validation import record_training_cutoff

model_version = recipe.get_artifact("registered_model_version")
# Where the split's test period starts: ModelValidation scores the trips from it on.
cutoff = recipe_held_out_cutoff(recipe)
record_training_cutoff(model_version.name, str(model_version.version), cutoff)
model_uri = f"models:/{model_version.name}/{model_version.version}"
dbutils.jobs.taskValues.set("model_uri", model_uri)
dbutils.jobs.taskValues.set("model_name", model_version.name)
dbutils.jobs.taskValues.set("model_version", str(model_version.version))
dbutils.notebook.exit(model_uri)
{% endif %}
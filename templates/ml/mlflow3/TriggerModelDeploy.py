# Databricks notebook source
# MAGIC %md
# MAGIC # TriggerModelDeploy
# MAGIC
{% if cookiecutter | derived("cicd_platform_key") == "gitHub" -%}
# MAGIC Starts the GitHub Actions workflow `deploy-model-<env>.yml` on the branch this job runs
# MAGIC from, which moves the `champion` alias to the model version that the `Train` task
# MAGIC registered. The repository and a token come from the secret scope
# MAGIC `<env>-{{ cookiecutter.project_name }}-cd-credentials` (keys `github_repo` and `token`).
{%- elif cookiecutter | derived("cicd_platform_key") == "gitLab" -%}
# MAGIC Starts a GitLab pipeline whose `deploy-model-<env>` job moves the `champion` alias to the
# MAGIC model version that the `Train` task registered. The GitLab API URL, project id, trigger
# MAGIC token and branch come from the secret scope `<env>-{{ cookiecutter.project_name }}-cd-credentials`
# MAGIC (keys `gitlab_api_url`, `gitlab_project_id`, `token`, `ref`).
{%- else -%}
# MAGIC Moves the `champion` alias of this environment's model to the version that the `Train`
# MAGIC task registered.
{%- endif %}
# MAGIC A version that did not pass `ModelValidation` (in `dry_run` mode) is not deployed: the
# MAGIC notebook says why and ends without failing. You rarely need to edit this notebook.
# MAGIC
# MAGIC Parameters: `env` (`staging` or `prod`) and `git_branch` (the branch the job runs from).
# MAGIC Reads the task value `model_uri` of the `Train` task.

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

# Modules imported before the install above would keep their old versions: restart Python.
dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.dropdown("env", "None", ["None", "staging", "prod"], "Environment Name")
dbutils.widgets.text("git_branch", "{{ cookiecutter.default_branch }}", "Git Branch")

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from mlflow.tracking import MlflowClient

from fare_model.deployment import reasons_to_refuse
from steps.utils import get_model_name

env = dbutils.widgets.get("env")
git_branch = dbutils.widgets.get("git_branch")
model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="")
assert env != "None", "Choose the environment (staging or prod) to deploy to"
assert model_uri, "Run this notebook as a task after the Train task"
reasons = reasons_to_refuse(MlflowClient(), model_uri, get_model_name(env))
if reasons:
    dbutils.notebook.exit(f"Not deploying {model_uri}: " + "; ".join(reasons))

# COMMAND ----------

{% if cookiecutter | derived("cicd_platform_key") == "gitHub" -%}
{% include "cicd/github/trigger_deploy_workflow.py" %}
{%- elif cookiecutter | derived("cicd_platform_key") == "gitLab" -%}
{% include "cicd/gitlab/trigger_deploy_pipeline.py" %}
{%- else -%}
from fare_model.deployment import promote_to_champion

promote_to_champion(model_uri, get_model_name(env))
{%- endif %}

{% if cookiecutter | derived("ml_code") == "mlflow3" %}{% include "ml/mlflow3/TriggerModelDeploy.py" %}{% else -%}
# Databricks notebook source
# MAGIC %md
# MAGIC # TriggerModelDeploy
# MAGIC
{% if cookiecutter | derived("cicd_platform_key") == "gitHub" -%}
# MAGIC Starts the GitHub Actions workflow `deploy-model-<env>.yml`, which promotes the model version
# MAGIC that the `Train` task registered (after `ModelValidation`) to this environment's registry
# MAGIC stage. The repository and a token come from the secret scope `<env>-{{ cookiecutter.project_name }}-cd-credentials`
# MAGIC (keys `github_repo` and `token`). You rarely need to edit this notebook.
{%- elif cookiecutter | derived("cicd_platform_key") == "gitLab" -%}
# MAGIC Starts a GitLab pipeline whose job `deploy-model-<env>` (.gitlab/ci/deploy-model.gitlab-ci.yml)
# MAGIC promotes the model version that the `Train` task registered (after `ModelValidation`) to this
# MAGIC environment's registry stage. The pipeline trigger token, the API URL, the project id and the
# MAGIC branch come from the secret scope `<env>-{{ cookiecutter.project_name }}-cd-credentials` (keys `token`,
# MAGIC `gitlab_api_url`, `gitlab_project_id`, `ref`). You rarely need to edit this notebook.
{%- else -%}
# MAGIC Promotes the model version that the `Train` task registered (after `ModelValidation`) to the
# MAGIC registry stage this environment serves from (staging: `Staging`, prod: `Production`).
{%- endif %}
# MAGIC
# MAGIC Parameter `env`: `staging` or `prod`. Reads the task value `model_uri` of the `Train` task.
# MAGIC Deployment refuses a version that did not pass validation (see `steps/deploy.py`).

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.dropdown("env", "None", ["None", "staging", "prod"], "Environment Name")

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

env = dbutils.widgets.get("env")
model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="")
assert env != "None", "Choose the environment (staging or prod) to deploy to"
assert model_uri, "Run this notebook as a task after the Train task"

# COMMAND ----------

{% if cookiecutter | derived("cicd_platform_key") == "gitHub" -%}
import requests

JOB_BRANCH = {"staging": "{{ cookiecutter.default_branch }}", "prod": "{{ cookiecutter.release_branch }}"}
scope = f"{env}-{{ cookiecutter.project_name }}-cd-credentials"
github_repo = dbutils.secrets.get(scope, "github_repo")
token = dbutils.secrets.get(scope, "token")
url = f"https://api.github.com/repos/{github_repo}/actions/workflows/deploy-model-{env}.yml/dispatches"
response = requests.post(
    url,
    # The branch this environment's jobs run from, so the deployment uses the same code.
    json={"ref": JOB_BRANCH[env], "inputs": {"modelUri": model_uri}},
    headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
    timeout=30,
)
assert response.ok, f"Triggering {url} for model {model_uri} failed with status {response.status_code}: {response.text}"
print(f"Started the deploy-model-{env} workflow for {model_uri}; follow it in the repository's Actions tab.")
{%- elif cookiecutter | derived("cicd_platform_key") == "gitLab" -%}
{% include "cicd/gitlab/trigger_deploy_pipeline.py" %}
{%- else -%}
from steps.deploy import deploy
from steps.utils import get_model_name

stage = deploy(model_uri, env, expected_name=get_model_name(env))
print(f"Deployed {model_uri} to the {stage} stage of {env}.")
{%- endif %}
{% endif %}
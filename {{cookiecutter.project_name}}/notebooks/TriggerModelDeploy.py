{#- aliases: MLflow 3 code moves `champion`; the MLflow Recipes code moves registry stages. -#}
{%- set aliases = cookiecutter | derived("mlflow_major_version") == "3" -%}
{#- The MLflow 3 track's job passes the branch it runs from; the others know it per env. -#}
{%- set branch_widget = cookiecutter | derived("ml_code") == "mlflow3" -%}
{%- set platform = cookiecutter | derived("cicd_platform_key") -%}
# Databricks notebook source
# MAGIC %md
# MAGIC # TriggerModelDeploy
# MAGIC
{% if aliases -%}
{% if platform == "gitHub" -%}
# MAGIC Starts the GitHub Actions workflow `deploy-model-<env>.yml` on the branch this job runs
# MAGIC from, which moves the `champion` alias to the model version that the `Train` task
# MAGIC registered. The repository and a token come from the secret scope
# MAGIC `<env>-{{ cookiecutter.project_name }}-cd-credentials` (keys `github_repo` and `token`).
{%- elif platform == "gitLab" -%}
# MAGIC Starts a GitLab pipeline whose `deploy-model-<env>` job moves the `champion` alias to the
# MAGIC model version that the `Train` task registered. The GitLab API URL, project id, trigger
# MAGIC token and branch come from the secret scope `<env>-{{ cookiecutter.project_name }}-cd-credentials`
# MAGIC (keys `gitlab_api_url`, `gitlab_project_id`, `token`, `ref`).
{%- else -%}
# MAGIC Staging: moves the `champion` alias of staging's model to the version that the `Train` task
# MAGIC registered. Prod: ends with that version's URI, for the Azure DevOps pipeline
# MAGIC `Deploy model (prod)`, which moves the alias once the `prod` environment's approvers approved.
{%- endif %}
# MAGIC A version that did not pass `ModelValidation` (in `dry_run` mode) is not deployed: the
# MAGIC notebook says why and ends without failing. You rarely need to edit this notebook.
# MAGIC
{% if branch_widget -%}
# MAGIC Parameters: `env` (`staging` or `prod`) and `git_branch` (the branch the job runs from).
{% else -%}
# MAGIC Parameter `env`: `staging` or `prod`.
{% endif -%}
# MAGIC Reads the task value `model_uri` of the `Train` task.
{%- else -%}
{% if platform == "gitHub" -%}
# MAGIC Starts the GitHub Actions workflow `deploy-model-<env>.yml`, which promotes the model version
# MAGIC that the `Train` task registered (after `ModelValidation`) to this environment's registry
# MAGIC stage. The repository and a token come from the secret scope `<env>-{{ cookiecutter.project_name }}-cd-credentials`
# MAGIC (keys `github_repo` and `token`). You rarely need to edit this notebook.
{%- elif platform == "gitLab" -%}
# MAGIC Starts a GitLab pipeline whose job `deploy-model-<env>` (.gitlab/ci/deploy-model.gitlab-ci.yml)
# MAGIC promotes the model version that the `Train` task registered (after `ModelValidation`) to this
# MAGIC environment's registry stage. The pipeline trigger token, the API URL, the project id and the
# MAGIC branch come from the secret scope `<env>-{{ cookiecutter.project_name }}-cd-credentials` (keys `token`,
# MAGIC `gitlab_api_url`, `gitlab_project_id`, `ref`). You rarely need to edit this notebook.
{%- else -%}
# MAGIC Staging: promotes the model version that the `Train` task registered (after `ModelValidation`)
# MAGIC to the `Staging` registry stage. Prod: ends with that version's URI, for the Azure DevOps
# MAGIC pipeline `Deploy model (prod)`, which promotes it to `Production` once the `prod`
# MAGIC environment's approvers approved.
{%- endif %}
# MAGIC
# MAGIC Parameter `env`: `staging` or `prod`. Reads the task value `model_uri` of the `Train` task.
# MAGIC Deployment refuses a version that did not pass validation (see `steps/deploy.py`).
{%- endif %}

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

{% include "ml/restart_python.jinja" %}

# COMMAND ----------

dbutils.widgets.dropdown("env", "None", ["None"{% for env in cookiecutter | environment_names("deploy") %}, "{{ env }}"{% endfor %}], "Environment Name")
{%- if branch_widget %}
dbutils.widgets.text("git_branch", "{{ cookiecutter.default_branch }}", "Git Branch")
{%- endif %}

# COMMAND ----------

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
{%- if aliases %}

from mlflow.tracking import MlflowClient

from fare_model.deployment import reasons_to_refuse
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
from fare_model.unity_catalog import use_unity_catalog_registry
{%- endif %}
from steps.utils import get_model_name
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

use_unity_catalog_registry()
{%- endif %}
{%- endif %}

env = dbutils.widgets.get("env")
{%- if branch_widget %}
git_branch = dbutils.widgets.get("git_branch")
{%- endif %}
model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="")
assert env != "None", "Choose the environment (staging or prod) to deploy to"
assert model_uri, "Run this notebook as a task after the Train task"
{%- if aliases %}
reasons = reasons_to_refuse(MlflowClient(), model_uri, get_model_name(env))
if reasons:
    dbutils.notebook.exit(f"Not deploying {model_uri}: " + "; ".join(reasons))
{%- endif %}
{%- if platform == "gitHub" and not branch_widget %}
# Prod's jobs run from the release branch: the deployment runs the same code.
git_branch = "{{ cookiecutter.release_branch }}"
{%- endif %}

# COMMAND ----------

{% set deploy_here -%}
{% if aliases -%}
from fare_model.deployment import promote_to_champion

promote_to_champion(model_uri, get_model_name(env))
{%- else -%}
from steps.deploy import deploy
from steps.utils import get_model_name

stage = deploy(model_uri, env, expected_name=get_model_name(env))
print(f"Deployed {model_uri} to the {stage} stage of {env}.")
{%- endif %}
{%- endset -%}
{#- Protected environments (hooks/environments.py) deploy behind an approval, the others here. -#}
{%- set protected = cookiecutter | environments("deploy") | selectattr("protected") | map(attribute="name") | list -%}
{%- set protected_env_test = "env == " ~ protected[0] | tojson if protected | length == 1 else "env in " ~ protected | tojson -%}
{% if platform in ("gitHub", "gitLab") -%}
{% if platform == "gitHub" %}{% include "cicd/github/trigger_deploy_workflow.py" %}{% else %}{% include "cicd/gitlab/trigger_deploy_pipeline.py" %}{% endif %}

# COMMAND ----------

# Staging deploys here, as staging's own service principal. Prod's deployment waits for the
# approvers of the `prod` environment, started with a token that only the prod workspace holds.
{% for env in protected -%}
{{ "if" if loop.first else "elif" }} env == {{ env | tojson }}:
    start_{{ env }}_deployment(model_uri{% if platform == "gitHub" %}, git_branch{% endif %})
{% endfor -%}
else:
{{ deploy_here | indent(4, true) }}
{%- elif protected | length == 1 -%}
# Staging deploys here, as staging's own service principal. Prod deploys only through the Azure
# DevOps pipeline `Deploy model (prod)`, after the `prod` environment's approvers approved its run
# for exactly this model URI: the job names the candidate and stops.
if {{ protected_env_test }}:
    dbutils.notebook.exit(
        f"{model_uri} awaits approval: run the Azure DevOps pipeline 'Deploy model ({{ protected[0] }})' on "
        f"{{ (cookiecutter | environments("deploy") | selectattr("protected") | first).branch }} with modelUri={model_uri}"
    )
else:
{{ deploy_here | indent(4, true) }}
{%- else -%}
# Unprotected environments deploy here, as their own service principals. Each protected one ({{ protected | join(", ") }})
# deploys only through its Azure DevOps pipeline `Deploy model (<env>)`, after that environment's
# approvers approved its run for exactly this model URI: the job names the candidate and stops.
# The branch each protected environment's deployment pipeline runs from:
deploy_branches = {{ "{" }}{% for env in cookiecutter | environments("deploy") | selectattr("protected") %}{{ env.name | tojson }}: {{ env.branch | tojson }}{{ ", " if not loop.last }}{% endfor %}{{ "}" }}
if {{ protected_env_test }}:
    dbutils.notebook.exit(
        f"{model_uri} awaits approval: run the Azure DevOps pipeline 'Deploy model ({env})' on "
        f"{deploy_branches[env]} with modelUri={model_uri}"
    )
else:
{{ deploy_here | indent(4, true) }}
{%- endif %}

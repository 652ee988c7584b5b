{%- import "cicd/credentials.jinja" as credentials with context -%}
{%- import "cicd/gitlab/gitlab.jinja" as gl with context -%}
{%- set protected_environments = credentials.protected_environments -%}
{#- An HCL test of an environment's name against the protected environments (hooks/environments.py). -#}
{%- macro is_protected(key) %}{{ key ~ " == " ~ protected_environments[0] | tojson if protected_environments | length == 1 else "contains(" ~ protected_environments | tojson ~ ", " ~ key ~ ")" }}{% endmacro -%}
# GitLab: the environments the pipelines deploy to (prod protected), the project variables
# that .gitlab-ci.yml and .gitlab/ci/ read, the token CI/CD pushes the Terraform outputs with, and
# the pipeline trigger that the training jobs' TriggerModelDeploy task starts deployments with.

terraform {
  required_providers {
    gitlab = {
      source  = "gitlabhq/gitlab"
      version = ">= 18.0, < 19.0"
    }
  }
}

# As the user whose token is in GITLAB_TOKEN (a Maintainer of the project, scope `api`).
provider "gitlab" {
  base_url = "${var.gitlab_url}/api/v4"
}

data "gitlab_project" "project" {
  path_with_namespace = var.gitlab_project_path

  # Pipeline variables (of Run pipeline, the API, triggers, schedules, push options, manual jobs)
  # outrank a job's own: CI_DEBUG_TRACE prints every variable and ID token to the job log. Only
  # Maintainers, who alone deploy to and approve prod, may set them; not Owners alone or no one,
  # because the deploy bot (a Maintainer) passes MODEL_URI to deploy-model-prod as one.
  # The provider reads this project setting but cannot set it without managing the whole project.
  lifecycle {
    postcondition {
      condition     = self.restrict_user_defined_variables && coalesce(self.ci_pipeline_variables_minimum_override_role, "unset") == "maintainer"
      error_message = "GitLab project ${var.gitlab_project_path} lets role \"${self.restrict_user_defined_variables ? coalesce(self.ci_pipeline_variables_minimum_override_role, "unset") : "developer"}\" set pipeline variables; it must be \"maintainer\": Settings, CI/CD, Variables, Minimum role to use pipeline variables: Maintainer (API: ci_pipeline_variables_minimum_override_role=maintainer). Then run this setup again."
    }
    # With "Allow pipeline triggerer to approve deployment" on, whoever triggers a prod
    # deployment (the push that runs terraform-plan-prod, "Run job" of terraform-apply-prod) may
    # approve it, and GitLab approves it for them: a single person would read, start and approve.
    postcondition {
      condition     = self.allow_pipeline_trigger_approve_deployment != true
      error_message = "GitLab project ${var.gitlab_project_path} lets whoever triggers a deployment approve it; turn that off: Settings, CI/CD, Protected environments, Approval options, clear \"Allow pipeline triggerer to approve deployment\" (API: allow_pipeline_trigger_approve_deployment=false). Then run this setup again."
    }
  }
}

locals {
  environments = toset([{% for env in gl.environments %}"{{ env }}"{{ ", " if not loop.last }}{% endfor %}])

  # Branch each environment deploys from, and the workspace it deploys to.
  deploy_branch = {
{%- for env in gl.environments %}
    {{ "%-7s" | format(env) }} = "{{ gl.deploy_branch[env] }}"
{%- endfor %}
  }
  workspace_host = {
{%- for env in gl.environments %}
    {{ "%-7s" | format(env) }} = "{{ gl.host[env] }}"
{%- endfor %}
  }
}

# ---------------------------------------------------------------- environments

resource "gitlab_project_environment" "deploy" {
  for_each = local.environments

  project      = data.gitlab_project.project.id
  name         = each.key
  tier         = each.key == "prod" ? "production" : "staging"
  external_url = local.workspace_host[each.key]
}

{%- for env in protected_environments %}

# Only Maintainers may run {{ env }} jobs, and each needs the approvals set here (GitLab Premium).
resource "gitlab_project_protected_environment" "{{ env }}" {
  project     = data.gitlab_project.project.id
  environment = gitlab_project_environment.deploy["{{ env }}"].name

  deploy_access_levels_attribute = [
    { access_level = "maintainer" },
  ]
  approval_rules = [
    { access_level = "maintainer", required_approvals = var.{{ credentials.reviewers[env] }}_required_approvals },
  ]
}
{%- endfor %}

# The branches that deploy ({{ cookiecutter.default_branch }}: Terraform; {{ cookiecutter.release_branch }}: prod's model deployments) change only
# by merge requests that Maintainers merge after the approvals below: no one pushes to them,
# Maintainers included, except the output bot (GITLAB_PUSH_TOKEN), whose [skip ci] commits carry
# the Terraform outputs (.gitlab/ci/scripts/commit-terraform-output.sh). Naming a user who may
# push needs GitLab Premium; on the Free tier the bot's push is refused and the script leaves
# its commit on a terraform-output/ branch for a merge request instead. The provider takes over
# the protection GitLab gave the default branch when the project was created.
resource "gitlab_branch_protection" "deployed" {
  for_each = toset([{% for branch in [cookiecutter.default_branch, cookiecutter.release_branch] | unique %}"{{ branch }}"{{ ", " if not loop.last }}{% endfor %}])

  project            = data.gitlab_project.project.id
  branch             = each.key
  push_access_level  = "no one"
  merge_access_level = "maintainer"
  allow_force_push   = false

  allowed_to_push {
    user_id = gitlab_project_access_token.ci["GITLAB_PUSH_TOKEN"].user_id
  }
}
{%- if cookiecutter.default_branch != cookiecutter.release_branch %}

# Projects bootstrapped when only {{ cookiecutter.release_branch }} was managed here keep its protection.
moved {
  from = gitlab_branch_protection.release
  to   = gitlab_branch_protection.deployed["{{ cookiecutter.release_branch }}"]
}
{%- endif %}

# Merge requests need approvals by someone who neither wrote nor pushed to them, again after
# every push (GitLab Premium; merge_request_approvals = 0 on the Free tier).
resource "gitlab_project_level_mr_approvals" "review" {
  count = var.merge_request_approvals > 0 ? 1 : 0

  project                                        = data.gitlab_project.project.id
  merge_requests_author_approval                 = false
  merge_requests_disable_committers_approval     = true
  reset_approvals_on_push                        = true
  disable_overriding_approvers_per_merge_request = true
}

resource "gitlab_project_approval_rule" "review" {
  count = var.merge_request_approvals > 0 ? 1 : 0

  project            = data.gitlab_project.project.id
  name               = "Review"
  rule_type          = "any_approver"
  approvals_required = var.merge_request_approvals
}

# ---------------------------------------------------------------- variables

# Not a secret: which service principal a job signs in as, per environment. Prod's only
# reaches jobs on protected branches.
resource "gitlab_project_variable" "databricks_client_id" {
  for_each = local.environments

  project           = data.gitlab_project.project.id
  key               = "DATABRICKS_CLIENT_ID"
  value             = local.service_principals[each.key].application_id
  environment_scope = each.key
  protected         = {{ is_protected("each.key") }}
  raw               = true
  description       = "Application id of the ${each.key} CI/CD service principal (.mlops-setup-scripts/cicd)."
}

# Who hears of a failed staging or prod job: Terraform reads the variable from the environment
# of the environment's Terraform jobs.
resource "gitlab_project_variable" "failure_alert_emails" {
  for_each = local.environments

  project           = data.gitlab_project.project.id
  key               = "{{ credentials.failure_alerts_setting }}"
  value             = jsonencode(var.failure_alert_emails)
  environment_scope = each.key
  protected         = {{ is_protected("each.key") }}
  raw               = true
  description       = "Addresses told when a ${each.key} job fails (.mlops-setup-scripts/cicd, failure_alert_emails)."
}

resource "gitlab_project_variable" "state_login" {
  for_each = local.state_login_entries

  project           = data.gitlab_project.project.id
  key               = each.value.name
  value             = each.value.value
  environment_scope = each.value.env
  protected         = {{ is_protected("each.value.env") }}
  raw               = true
  description       = "Cloud identity of the ${each.value.env} Terraform state, signed in to with the job's ID token (.mlops-setup-scripts/cicd/state-access.tf)."
}

# Only with databricks_auth = "client_secret": each service principal's Databricks OAuth
# secret, and the auth type that uses it. GitLab gives project variables precedence over the
# job variables that name env-oidc, so the jobs stay the same.
resource "gitlab_project_variable" "databricks_auth_type" {
  for_each = local.federation ? toset([]) : local.environments

  project           = data.gitlab_project.project.id
  key               = "DATABRICKS_AUTH_TYPE"
  value             = "oauth-m2m"
  environment_scope = each.key
  protected         = {{ is_protected("each.key") }}
  raw               = true
  description       = "Sign in with the OAuth secret instead of the GitLab ID token (.mlops-setup-scripts/cicd, databricks_auth = \"client_secret\")."
}

resource "gitlab_project_variable" "databricks_client_secret" {
  for_each = local.federation ? toset([]) : local.environments

  project           = data.gitlab_project.project.id
  key               = "DATABRICKS_CLIENT_SECRET"
  value             = local.service_principals[each.key].client_secret
  environment_scope = each.key
  protected         = {{ is_protected("each.key") }}
  masked            = true
  raw               = true
  description       = "OAuth secret of the ${each.key} CI/CD service principal (.mlops-setup-scripts/cicd)."
}

# Project access tokens of CI/CD's two bots, by the variable that holds each one.
locals {
  ci_tokens = {
    # Pushes the Terraform outputs from the terraform-output-<env> jobs of the protected default
    # branch: only jobs of the environment `terraform-output` get it (those jobs run git alone).
    # Git push is all it does: `write_repository`, and Developer, the least role that a protected
    # branch's allowed_to_push may name (the job token cannot push where "No one" may).
    GITLAB_PUSH_TOKEN = {
      name              = "{{ cookiecutter.project_name }} Terraform output bot"
      purpose           = "Pushes databricks-config/output/<env>.json from the terraform-output jobs"
      access_level      = "developer"
      scopes            = ["write_repository"]
      protected         = true
      environment_scope = "terraform-output"
    }
    # (Merge request pipelines get no token: their plan shows in GitLab's Terraform widget.)
  }
}

resource "gitlab_project_access_token" "ci" {
  for_each = local.ci_tokens

  project      = data.gitlab_project.project.id
  name         = each.value.name
  description  = "${each.value.purpose}; managed by .mlops-setup-scripts/cicd."
  access_level = each.value.access_level
  scopes       = each.value.scopes

  rotation_configuration = {
    expiration_days    = var.ci_token_lifetime_days
    rotate_before_days = 30
  }
}

resource "gitlab_project_variable" "ci_token" {
  for_each = local.ci_tokens

  project   = data.gitlab_project.project.id
  key       = each.key
  value     = gitlab_project_access_token.ci[each.key].token
  protected = each.value.protected
  # The environment of the jobs that read it ("*": every job).
  environment_scope = each.value.environment_scope
  masked            = true
  raw               = true
  description       = "Project access token of the ${each.value.name} (.mlops-setup-scripts/cicd/gitlab.tf)."
}

# ---------------------------------------------------------------- model deployment

# What notebooks/TriggerModelDeploy.py starts prod's deployment pipeline with. Only the prod
# workspace holds it, in a scope that prod's CI/CD service principal creates and so alone may
# read (no ACL grants anyone else): the staging principal, which runs merge requests'
# integration tests, cannot start a prod deployment. Staging deploys inside its own job.
#
# A bot owns the trigger, not whoever runs this setup: GitLab lets no one approve a deployment
# they triggered, so a trigger of the only prod approver's own could never deploy, and a
# person's trigger stops working when they leave the project. The bot's token is used by this
# setup alone (the provider below, to manage the trigger) and stays in this setup's state: no job
# and no workspace holds it. It lives var.ci_token_lifetime_days (90 at most) and running the
# setup in its last 30 days rotates it; GitLab removes the bot, and so its trigger, when it expires.
resource "gitlab_project_access_token" "deploy_bot" {
  project     = data.gitlab_project.project.id
  name        = "{{ cookiecutter.project_name }} deploy bot"
  description = "Owns the pipeline trigger of the prod model deployment; managed by .mlops-setup-scripts/cicd."
  # Each the least that works: the pipelines its trigger starts run on the protected
  # {{ cookiecutter.release_branch }} branch (merges: Maintainers), deploy to the protected `prod` environment
  # (Maintainers) and pass MODEL_URI (pipeline variables: Maintainers); GitLab lets only
  # Maintainers create triggers, and only with the api scope (read_api cannot create one).
  access_level = "maintainer"
  scopes       = ["api"]

  rotation_configuration = {
    expiration_days    = var.ci_token_lifetime_days
    rotate_before_days = 30
  }
}

provider "gitlab" {
  alias    = "deploy_bot"
  base_url = "${var.gitlab_url}/api/v4"
  token    = gitlab_project_access_token.deploy_bot.token
  # The token exists only once the first apply created it: no sign-in check while planning.
  early_auth_check = false
}

{%- for env in protected_environments %}

# (A new name: a trigger of the person who ran an earlier bootstrap is deleted, the bot's created.)
resource "gitlab_pipeline_trigger" "{{ env }}_model_deployment" {
  provider = gitlab.deploy_bot

  project     = data.gitlab_project.project.id
  description = "{{ env | capitalize }} model deployment from the {{ cookiecutter.project_name }} {{ env }} training job (.mlops-setup-scripts/cicd)"
}

resource "databricks_secret_scope" "{{ env }}_cd_credentials" {
  provider = databricks.{{ env }}_sp
  name     = "{{ env }}-{{ cookiecutter.project_name }}-cd-credentials"
}

{%- if env == "prod" %}

# Projects bootstrapped when both workspaces had a scope keep prod's; staging's is deleted.
moved {
  from = databricks_secret_scope.cd_credentials_prod
  to   = databricks_secret_scope.prod_cd_credentials
}

moved {
  from = databricks_secret.cd_credentials_prod
  to   = databricks_secret.prod_cd_credentials
}
{%- endif %}

locals {
  # Secret scope key -> value: what TriggerModelDeploy.py reads.
  {{ env }}_cd_credentials = {
    token             = gitlab_pipeline_trigger.{{ env }}_model_deployment.token
    gitlab_api_url    = "${var.gitlab_url}/api/v4"
    gitlab_project_id = tostring(data.gitlab_project.project.id)
    ref               = local.deploy_branch["{{ env }}"]
  }
}

resource "databricks_secret" "{{ env }}_cd_credentials" {
  # The keys: for_each may not carry the token, which is sensitive.
  for_each = toset(["token", "gitlab_api_url", "gitlab_project_id", "ref"])
  provider = databricks.{{ env }}_sp

  scope        = databricks_secret_scope.{{ env }}_cd_credentials.id
  key          = each.key
  string_value = local.{{ env }}_cd_credentials[each.key]
}
{%- endfor %}

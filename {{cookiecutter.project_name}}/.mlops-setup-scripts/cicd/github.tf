{%- import "cicd/credentials.jinja" as credentials with context -%}
# GitHub: the `staging` and `prod` environments the workflows run their Databricks jobs in,
# with what CI/CD signs in with. Nothing here is a secret unless databricks_auth is
# "client_secret". The github provider signs in as you: export GITHUB_TOKEN="$(gh auth token)".

locals {
  github_owner     = split("/", local.github_repository)[0]
  github_repo_name = split("/", local.github_repository)[1]
  # Branches that may deploy to prod: the ones the prod jobs and the deploy workflow run on.
  prod_branches = toset(["{{ cookiecutter.default_branch }}", "{{ cookiecutter.release_branch }}"])
}

provider "github" {
  owner = local.github_owner
}

# The deployed branches change only through a reviewed pull request: prod's Terraform and model
# deployments run their code as the prod service principal. No one bypasses the rule, GitHub
# Actions included (commit-terraform-output.sh falls back to a pull request of its own).
resource "github_repository_ruleset" "deployed_branches" {
  name        = "{{ cookiecutter.project_name }} deployed branches"
  repository  = local.github_repo_name
  target      = "branch"
  enforcement = "active"

  conditions {
    ref_name {
      include = [for branch in local.prod_branches : "refs/heads/${branch}"]
      exclude = []
    }
  }

  rules {
    deletion         = true
    non_fast_forward = true

    pull_request {
      required_approving_review_count = var.required_approving_review_count
      dismiss_stale_reviews_on_push   = true
      require_last_push_approval      = true
    }

    dynamic "required_status_checks" {
      for_each = length(var.required_status_checks) > 0 ? [var.required_status_checks] : []
      content {
        # The push that creates the release branch (docs/mlops-setup.md, step 5) has no checks of its own.
        do_not_enforce_on_create = true
        dynamic "required_check" {
          for_each = required_status_checks.value
          content {
            context = required_check.value
          }
        }
      }
    }
  }
}

{% for env in credentials.environments if not credentials.protected[env] -%}
resource "github_repository_environment" "{{ env }}" {
  repository  = local.github_repo_name
  environment = "{{ env }}"
}

{% endfor -%}
{% for env in credentials.protected_environments -%}
{% set reviewers = credentials.reviewers[env] -%}
# Every {{ env }} job waits for a required reviewer and runs only from the prod branches, so a
# pull request or a pushed branch never gets a {{ env }} login.
resource "github_repository_environment" "{{ env }}" {
  repository          = local.github_repo_name
  environment         = "{{ env }}"
  prevent_self_review = true
  can_admins_bypass   = false

  reviewers {
    teams = var.{{ reviewers }}_reviewer_team_ids
    users = var.{{ reviewers }}_reviewer_user_ids
  }

  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }

  lifecycle {
    precondition {
      condition     = length(var.{{ reviewers }}_reviewer_team_ids) + length(var.{{ reviewers }}_reviewer_user_ids) > 0
      error_message = "Name at least one {{ env }} reviewer: TF_VAR_{{ reviewers }}_reviewer_team_ids='[<team id>]' or TF_VAR_{{ reviewers }}_reviewer_user_ids='[<user id>]'."
    }
    # The model deployments that TriggerModelDeploy starts are runs of the deploy trigger token's
    # owner, which prevent_self_review keeps that owner from approving: someone else must be able
    # to, named as a user or as a member of a reviewer team.
    precondition {
      condition     = length(setsubtract(var.{{ reviewers }}_reviewer_user_ids, [tonumber(data.github_user.deploy_trigger.id)])) > 0 || length(setsubtract(local.{{ reviewers }}_reviewer_team_members, [data.github_user.deploy_trigger.login])) > 0
      error_message = "The deploy trigger token belongs to ${data.github_user.deploy_trigger.login}, who may not approve the {{ env }} deployments it starts, and no other {{ env }} reviewer is named (reviewer teams' members: ${jsonencode(local.{{ reviewers }}_reviewer_team_members)}): name another {{ env }} reviewer, or create the token as a machine user (docs/mlops-setup.md, Prerequisites)."
    }
  }
}

{% endfor -%}
# Who the deploy trigger token acts as (GitHub's "authenticated user", which every token may read).
provider "github" {
  alias = "deploy_trigger"
  owner = local.github_owner
  token = var.deploy_trigger_token
}

data "github_user" "deploy_trigger" {
  provider = github.deploy_trigger
  username = ""
}

{% for reviewers in credentials.reviewer_variables -%}
# The members of the {{ reviewers }} reviewer teams (your token lists the organisation's teams; a secret
# team's members are visible to its members and the organisation's owners only).
data "github_organization_teams" "{{ reviewers }}_reviewers" {
  count = length(var.{{ reviewers }}_reviewer_team_ids) > 0 ? 1 : 0
}

locals {
  {{ reviewers }}_reviewer_team_members = toset(flatten([
    for team in flatten(data.github_organization_teams.{{ reviewers }}_reviewers[*].teams) : team.members if contains(var.{{ reviewers }}_reviewer_team_ids, team.id)
  ]))
}

{% endfor -%}
{% for env in credentials.protected_environments -%}
resource "github_repository_environment_deployment_policy" "{{ env }}" {
  for_each = local.prod_branches

  repository     = local.github_repo_name
  environment    = github_repository_environment.{{ env }}.environment
  branch_pattern = each.value
}

{% endfor -%}
locals {
  github_environments = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = github_repository_environment.{{ env }}.environment
{%- endfor %}
  }
}

resource "github_actions_environment_variable" "databricks_client_id" {
  for_each = local.github_environments

  repository    = local.github_repo_name
  environment   = each.value
  variable_name = "DATABRICKS_CLIENT_ID"
  value         = local.service_principals[each.key].application_id
}

# Who hears of a failed staging or prod job: the Terraform jobs pass it to databricks-config.
resource "github_actions_environment_variable" "failure_alert_emails" {
  for_each = local.github_environments

  repository    = local.github_repo_name
  environment   = each.value
  variable_name = "{{ credentials.failure_alerts_setting }}"
  value         = jsonencode(var.failure_alert_emails)
}

# How the workflows sign in to the cloud for the environment's Terraform state (state-access.tf).
resource "github_actions_environment_variable" "state_login" {
  for_each = local.state_login_entries

  repository    = local.github_repo_name
  environment   = local.github_environments[each.value.env]
  variable_name = each.value.name
  value         = each.value.value
}

# Only for organisations that cannot use federation (databricks_auth = "client_secret").
resource "github_actions_environment_variable" "databricks_auth_type" {
  for_each = local.federation ? {} : local.github_environments

  repository    = local.github_repo_name
  environment   = each.value
  variable_name = "DATABRICKS_AUTH_TYPE"
  value         = "oauth-m2m"
}

resource "github_actions_environment_secret" "databricks_client_secret" {
  for_each = local.federation ? {} : local.github_environments

  repository      = local.github_repo_name
  environment     = each.value
  secret_name     = "DATABRICKS_CLIENT_SECRET"
  plaintext_value = local.service_principals[each.key].client_secret
}

# ---------------------------------------------------------------- model deployment

{% for env in credentials.protected_environments -%}
# What notebooks/TriggerModelDeploy.py starts .github/workflows/deploy-model-{{ env }}.yml with. Only
# the {{ env }} workspace holds it, in a scope that {{ env }}'s CI/CD service principal creates and so
# alone may read (no ACL grants anyone else): the staging principal, which runs pull requests'
# integration tests, cannot start a {{ env }} deployment. Staging deploys inside its own job.
resource "databricks_secret_scope" "{{ env }}_cd_credentials" {
  provider   = databricks.{{ env }}_sp
  name       = "{{ env }}-{{ cookiecutter.project_name }}-cd-credentials"
  depends_on = [module.{{ env }}_service_principal]
}

{% if env == "prod" -%}
# Projects bootstrapped before the scope left the per-workspace module keep prod's scope (a new
# scope of the same name could not be created while the old one exists); staging's is deleted.
moved {
  from = module.prod_workspace_cicd.databricks_secret_scope.cd_credentials
  to   = databricks_secret_scope.prod_cd_credentials
}

moved {
  from = module.prod_workspace_cicd.databricks_secret.cd_token
  to   = databricks_secret.prod_cd_token
}

moved {
  from = module.prod_workspace_cicd.databricks_secret.cd_github_repo
  to   = databricks_secret.prod_cd_github_repo
}

{% endif -%}
resource "databricks_secret" "{{ env }}_cd_token" {
  provider = databricks.{{ env }}_sp

  scope        = databricks_secret_scope.{{ env }}_cd_credentials.id
  key          = "token"
  string_value = var.deploy_trigger_token
}

resource "databricks_secret" "{{ env }}_cd_github_repo" {
  provider = databricks.{{ env }}_sp

  scope        = databricks_secret_scope.{{ env }}_cd_credentials.id
  key          = "github_repo"
  string_value = local.github_repository
}
{% if not loop.last %}
{% endif %}{% endfor -%}

{%- import "cicd/gitlab/gitlab.jinja" as gl with context -%}
# How GitLab jobs sign in to Databricks as the CI/CD service principals, set up in the
# Databricks account (as the account admin of var.databricks_account_profile).
#
# With workload identity federation (the default), a job presents its GitLab ID token
# (id_tokens: in .gitlab/ci/) and Databricks exchanges it for a short-lived OAuth token
# when a federation policy of the service principal matches the token's issuer, audience
# and subject. No Databricks secret exists anywhere:
# - staging: any pipeline of the project (merge requests test their branch on staging);
# - prod: only pipelines of the protected branches that deploy to prod, {{ cookiecutter.default_branch }} (Terraform)
#   and {{ cookiecutter.release_branch }} (model deployment).
# Without federation (use_workload_identity_federation = false), each service principal
# gets a Databricks OAuth secret instead, stored as a masked variable of its environment.

provider "databricks" {
  alias   = "account"
  profile = var.databricks_account_profile
}

locals {
  # The service principals that service-principal/ added to each workspace.
  cicd_application_ids = {
    staging = module.staging_service_principal.application_id
    prod    = module.prod_service_principal.application_id
  }

  # Policy id -> what GitLab ID tokens it accepts. GitLab's `sub` claim is
  # project_path:<path>:ref_type:branch:ref:<branch>.
  federation_policies = {
    gitlab-staging = {
      environment   = "staging"
      subject_claim = "project_path"
      subject       = var.gitlab_project_path
    }
{%- for branch in [cookiecutter.default_branch, cookiecutter.release_branch] | unique %}
    gitlab-prod-{{ branch | lower | regex_replace('[^a-z0-9]+', '-') }} = {
      environment   = "prod"
      subject_claim = "sub"
      subject       = "project_path:${var.gitlab_project_path}:ref_type:branch:ref:{{ branch }}"
    }
{%- endfor %}
  }
}

# The account's view of each workspace's service principal (its numeric account id).
data "databricks_service_principal" "cicd" {
  for_each = local.cicd_application_ids
  provider = databricks.account

  application_id = each.value
}

resource "databricks_service_principal_federation_policy" "gitlab" {
  for_each = var.use_workload_identity_federation ? local.federation_policies : {}
  provider = databricks.account

  service_principal_id = tonumber(data.databricks_service_principal.cicd[each.value.environment].sp_id)
  policy_id            = each.key
  description          = "GitLab CI/CD of {{ cookiecutter.project_name }} (${var.gitlab_project_path}); managed by .mlops-setup-scripts/cicd."
  oidc_policy = {
    issuer        = var.gitlab_url
    audiences     = [local.workspace_host[each.value.environment]]
    subject_claim = each.value.subject_claim
    subject       = each.value.subject
  }
}

# ---------------------------------------------------------------- without federation

resource "databricks_service_principal_secret" "cicd" {
  for_each = var.use_workload_identity_federation ? toset([]) : local.environments
  provider = databricks.account

  service_principal_id = data.databricks_service_principal.cicd[each.key].sp_id
}

# GitLab gives project variables precedence over the job variables that name env-oidc.
resource "gitlab_project_variable" "databricks_auth_type" {
  for_each = var.use_workload_identity_federation ? toset([]) : local.environments

  project           = data.gitlab_project.project.id
  key               = "DATABRICKS_AUTH_TYPE"
  value             = "oauth-m2m"
  environment_scope = each.key
  protected         = each.key == "prod"
  raw               = true
  description       = "Sign in with the OAuth secret instead of the GitLab ID token (.mlops-setup-scripts/cicd, use_workload_identity_federation = false)."
}

resource "gitlab_project_variable" "databricks_client_secret" {
  for_each = var.use_workload_identity_federation ? toset([]) : local.environments

  project           = data.gitlab_project.project.id
  key               = "DATABRICKS_CLIENT_SECRET"
  value             = databricks_service_principal_secret.cicd[each.key].secret
  environment_scope = each.key
  protected         = each.key == "prod"
  masked            = true
  raw               = true
  description       = "OAuth secret of the ${each.key} CI/CD service principal (.mlops-setup-scripts/cicd)."
}

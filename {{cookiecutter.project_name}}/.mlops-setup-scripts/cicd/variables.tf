{%- from "terraform/variables.jinja" import required_string -%}
{%- import "cicd/credentials.jinja" as credentials with context -%}
# Secrets come through the environment (TF_VAR_<name>), never the command line: bootstrap.py
# asks for any that is not set, so no token lands in the shell history.
variable "git_token" {
  type        = string
  sensitive   = true
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
  description = "Read-only GitHub token (fine-grained: Contents read on this repository only): the jobs check code out with it."
{%- elif cookiecutter.cicd_platform == "GitLab" %}
  description = "Read-only GitLab token (a project access token with the Reporter role and the read_repository scope): the jobs check code out with it."
{%- else %}
  description = "Read-only Azure DevOps personal access token (scope Code: Read): the jobs check code out with it."
{%- endif %}

  validation {
    condition     = length(var.git_token) > 0
    error_message = "Set a Git token: export TF_VAR_git_token, or let bootstrap.py ask for it."
  }
}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

variable "deploy_trigger_token" {
  type        = string
  sensitive   = true
  description = "GitHub token (fine-grained: Actions read and write on this repository only) that prod's TriggerModelDeploy task starts the prod deploy workflow with; only the prod workspace holds it."

  validation {
    condition     = length(var.deploy_trigger_token) > 0
    error_message = "Set the deploy trigger token: export TF_VAR_deploy_trigger_token, or let bootstrap.py ask for it."
  }
}
{%- endif %}

variable "delete_prod_experiments" {
  type        = bool
  default     = false
  description = "Let a destroy of this bootstrap, or a changed mlflow_experiment_parent_dir, delete {{ credentials.protected_environments | join("'s and ") }}'s experiment folder with every MLflow experiment in it. Set it for one apply, then destroy (docs/mlops-setup.md, What the bootstrap creates)."
}

variable "failure_alert_emails" {
  type        = list(string)
  description = "Group mailbox (or addresses) told when a staging or prod job fails or runs past its timeout, e.g. [\"ml-team@example.com\"]; CI/CD passes it to databricks-config as failure_alert_emails."

  validation {
    condition     = length(var.failure_alert_emails) > 0 && alltrue([for address in var.failure_alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "Name who hears of failed jobs: TF_VAR_failure_alert_emails='[\"ml-team@example.com\"]'."
  }
}

variable "databricks_auth" {
  type        = string
  default     = "federation"
  description = "How CI/CD signs in to Databricks: \"federation\" (workload identity federation, no stored secret) or \"client_secret\" (a Databricks OAuth secret stored in CI/CD, for organisations that cannot use federation)."

  validation {
    condition     = contains(["federation", "client_secret"], var.databricks_auth)
    error_message = "databricks_auth must be \"federation\" or \"client_secret\", e.g. TF_VAR_databricks_auth=client_secret."
  }
}

variable "client_secret_lifetime_days" {
  type        = number
  default     = 90
  description = "Lifetime of the service principals' Databricks OAuth secrets (used by this bootstrap, and by CI/CD only with databricks_auth = \"client_secret\"); rotate them with bootstrap.py --rotate-databricks-secrets (docs/mlops-setup.md)."
}

variable "git_provider" {
  type        = string
  default     = "{{ cookiecutter | derived("cicd_platform_key") }}"
  description = "Git provider of the repository, as the Databricks Git credentials API names it: {{ "dev-tools/api/latest/gitcredentials.html" | generate_doc_link(cookiecutter.cloud) }}"
}

{% for env in cookiecutter | environment_names("deploy") -%}
variable "{{ env }}_profile" {
  type        = string
  default     = "{{ cookiecutter.project_name }}-{{ env }}"
  description = "Databricks CLI profile of a workspace admin of the {{ env }} workspace."
}

{% endfor -%}

variable "account_profile" {
  type        = string
  default     = "{{ cookiecutter.project_name }}-account"
  description = "Databricks CLI profile of an account admin of the Databricks account (creates the federation policies)."
}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

variable "github_repo_url" {
  type        = string
  description = "URL of the project's GitHub repository, e.g. https://github.com/my-org/my-repo."

  validation {
    condition     = can(regex("^https://github.com/[^/]+/[^/]+/?$", var.github_repo_url))
    error_message = "Pass the repository URL: TF_VAR_github_repo_url=https://github.com/<org>/<repo>."
  }
}

{%- for reviewers in credentials.reviewer_variables %}
{%- set envs = credentials.reviewed[reviewers] | join(" and ") %}

variable "{{ reviewers }}_reviewer_team_ids" {
  type        = list(number)
  default     = []
  description = "Ids of the GitHub teams whose approval every {{ envs }} job waits for (gh api orgs/<org>/teams/<team> --jq .id)."
}


variable "{{ reviewers }}_reviewer_user_ids" {
  type        = list(number)
  default     = []
  description = "Ids of GitHub users whose approval every {{ envs }} job waits for (gh api users/<login> --jq .id)."
}
{%- endfor %}

variable "required_approving_review_count" {
  type        = number
  default     = 1
  description = "Approvals, by someone other than the last pusher, that a pull request into the deployed branches needs."

  validation {
    condition     = var.required_approving_review_count >= 1
    error_message = "Every change to a deployed branch needs a review: TF_VAR_required_approving_review_count=1 or more."
  }
}

variable "required_status_checks" {
  type = list(string)
  # The jobs of the ML code tests workflow (run-tests*.yml), which runs on every pull request; a
  # skipped job (the integration test of a Terraform-only pull request) counts as passed.
  default     = ["Unit tests", "Integration test on staging"]
  description = "Check (job) names that must pass before a pull request into the deployed branches merges; name only checks that run on every pull request. [] merges untested code."
}
{%- elif cookiecutter.cicd_platform == "Azure DevOps" %}

variable "azure_devops_org_url" {
  type        = string
  description = "URL of the Azure DevOps organization, e.g. https://dev.azure.com/my-org."

  validation {
    condition     = can(regex("^https://dev.azure.com/[^/]+/?$", var.azure_devops_org_url))
    error_message = "Pass the organization URL: TF_VAR_azure_devops_org_url=https://dev.azure.com/<organization>."
  }
}

variable "azure_devops_organization_id" {
  type        = string
  description = "GUID of the Azure DevOps organization, the issuer of its OIDC tokens (docs/mlops-setup.md shows how to read it)."

  validation {
    condition     = can(regex("^[0-9a-fA-F-]{36}$", var.azure_devops_organization_id))
    error_message = "Pass the organization GUID, e.g. TF_VAR_azure_devops_organization_id=7f1078d6-b20d-4a20-9d88-05a2f0d645a3."
  }
}

variable "azure_devops_project_name" {
  type        = string
  description = "Azure DevOps project that holds the repository."
}

variable "azure_devops_repo_name" {
  type        = string
  description = "Name of the project's Azure Repos Git repository."
}
{%- for reviewers in credentials.reviewer_variables %}
{%- set envs = credentials.reviewed[reviewers] | join(" and ") %}

variable "{{ reviewers }}_approver_ids" {
  type        = list(string)
  description = "Origin ids of the Azure DevOps users or groups who approve every {{ envs }} deployment."

  validation {
    condition     = length(var.{{ reviewers }}_approver_ids) > 0
    error_message = "Name at least one {{ envs }} approver: TF_VAR_{{ reviewers }}_approver_ids='[\"<origin id>\"]'."
  }
}
{%- endfor %}

variable "required_reviewer_count" {
  type        = number
  default     = 1
  description = "Approvals, by someone other than the author and the last pusher, that a pull request into the deployed branches needs."

  validation {
    condition     = var.required_reviewer_count >= 1
    error_message = "Every change to a deployed branch needs a review: TF_VAR_required_reviewer_count=1 or more."
  }
}
{%- endif %}
{%- if cookiecutter.cloud == "aws" %}
{%- set ci = "azure_devops" if cookiecutter.cicd_platform == "Azure DevOps" else cookiecutter | derived("cicd_platform_key") | lower %}

variable "aws_{{ ci }}_oidc_provider_arn" {
  type        = string
  default     = ""
  description = "ARN of the AWS account's existing {{ {"github": "GitHub", "gitlab": "GitLab", "azure_devops": "Azure DevOps organization's (vstoken.dev.azure.com/<organization GUID>)"}[ci] }} OIDC identity provider (aws iam list-open-id-connect-providers); empty: the bootstrap creates it."
}
{%- elif cookiecutter.cloud == "azure" %}

{{ required_string("azure_subscription_id", "Azure subscription of the state storage account (az account show --query id -o tsv).", "Pass the subscription id: TF_VAR_azure_subscription_id=<id>.") }}
{%- endif %}
{%- if cookiecutter.cloud == "gcp" %}

{{ required_string("gcp_project_id", "Google Cloud project of the state buckets; the bootstrap creates the CI/CD workload identity pool and the per-environment service accounts there.", "Pass the project id: TF_VAR_gcp_project_id=<project>.") }}
{%- endif %}


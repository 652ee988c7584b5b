{%- import "cicd/credentials.jinja" as credentials with context -%}
# Inputs of the GitLab part of this setup (gitlab.tf, and the GitLab federation policies of
# main-{{ cookiecutter.cloud }}.tf). The GitLab provider reads its token from the GITLAB_TOKEN
# environment variable (docs/mlops-setup.md).

variable "gitlab_url" {
  type        = string
  default     = "https://gitlab.com"
  description = "URL of the GitLab instance: the issuer of the CI/CD ID tokens and the base of its API."

  validation {
    condition     = can(regex("^https://[^/]+$", var.gitlab_url))
    error_message = "Pass the instance URL without a path: --var gitlab_url=https://gitlab.example.com."
  }
}

variable "gitlab_project_path" {
  type        = string
  description = "Full path of the project's GitLab repository, e.g. my-group/my-project."

  validation {
    condition     = can(regex("^[\\w.-]+(/[\\w.-]+)+$", var.gitlab_project_path))
    error_message = "Pass the project path: --var gitlab_project_path=<group>/<project>."
  }
}
{%- for reviewers in credentials.reviewer_variables %}
{%- set envs = credentials.reviewed[reviewers] | join(" and ") %}

variable "{{ reviewers }}_required_approvals" {
  type        = number
  default     = 1
  description = "Approvals a {{ envs }} deployment (Terraform apply, model deployment) needs in GitLab before it runs: at least 1."

  # With none, a model deployment that TriggerModelDeploy starts would reach {{ envs }} with no human step.
  validation {
    condition     = var.{{ reviewers }}_required_approvals >= 1
    error_message = "{{ reviewers }}_required_approvals must be at least 1, so that a person approves every {{ envs }} deployment: e.g. --var {{ reviewers }}_required_approvals=1."
  }
}
{%- endfor %}

variable "merge_request_approvals" {
  type        = number
  default     = 1
  description = "Approvals every merge request needs from someone who neither wrote nor pushed to it (GitLab Premium); 0 on the Free tier, where the default branch's protection and review by convention remain."
}

variable "ci_token_lifetime_days" {
  type        = number
  default     = 90
  description = "Lifetime of the project access tokens of the output bot and the deploy bot; running this setup in their last 30 days rotates them."

  # The tokens rotate in their last 30 days; the Databricks OAuth secrets ask for a run every 90 days anyway.
  validation {
    condition     = var.ci_token_lifetime_days > 30 && var.ci_token_lifetime_days <= 90
    error_message = "ci_token_lifetime_days must be 31 to 90 (the tokens rotate in their last 30 days): e.g. --var ci_token_lifetime_days=90."
  }
}

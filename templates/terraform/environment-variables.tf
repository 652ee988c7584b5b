{#- Rendered once per deploy environment (hooks/environment_folders.py), with `tf_env` its name.
    The policy and cost-tag defaults are the company's, from templates/compute_policy.jinja. -#}
{%- import "compute_policy.jinja" as compute_policy with context -%}
variable "git_repo_url" {
  type        = string
  description = "HTTPS URL of this project's Git repository; CI/CD passes it with -var git_repo_url=..."
}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

variable "job_compute" {
  type        = string
  default     = "serverless"
  description = "Compute of every job task of this environment: \"serverless\" (serverless jobs compute with a pinned environment version) or \"classic\" (job clusters on an LTS ML runtime, for workspaces without serverless compute)."

  validation {
    condition     = contains(["serverless", "classic"], var.job_compute)
    error_message = "job_compute must be \"serverless\" or \"classic\", for example job_compute = \"classic\"."
  }
}
{%- endif %}

variable "cluster_policy_id" {
  type        = string
  default     = {{ compute_policy.hcl(compute_policy.cluster_policy_id) }}
  description = "ID of a cluster policy (Compute > Policies) that every job cluster of this environment uses, for example \"0123456789ABCDEF\"; null: none. The CI/CD service principal needs CAN_USE on it."
}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

variable "budget_policy_id" {
  type        = string
  default     = {{ compute_policy.hcl(compute_policy.budget_policy_id) }}
  description = "ID of a serverless budget policy that every serverless job of this environment uses (its usage carries the policy's tags); null: none. The CI/CD service principal needs permission to use it."
}

variable "allow_schema_destroy" {
  type        = bool
  default     = false
  description = "true only for a deliberate destroy of prod (databricks-config/README.md, \"Protect prod data\"): lets Terraform delete the prod schema with every table in it. Staging's schema may always be deleted."
}
{%- endif %}

variable "failure_alert_emails" {
  type        = list(string)
  default     = []
  description = "Addresses (a team's group mailbox, for example ml-team@example.com) told when a job of this environment fails or runs past its timeout. CI/CD can set it with TF_VAR_failure_alert_emails='[\"ml-team@example.com\"]'."

  validation {
    condition     = alltrue([for address in var.failure_alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "failure_alert_emails must hold e-mail addresses, for example [\"ml-team@example.com\"]."
  }
}

variable "cost_tags" {
  type        = map(string)
  default     = {{ compute_policy.hcl(compute_policy.cost_tags) }}
  description = "Tags added to every job of this environment and its compute, for cost reports (billing usage records carry them), for example { cost_center = \"ml-42\" }. The project and environment tags are always set."
}

{%- set deploy_environments = cookiecutter | environments("deploy") -%}
{#- "the default branch in staging", ...: the branch answer each environment's jobs run. -#}
{%- set branches = [] -%}
{%- for env in deploy_environments %}{% set _ = branches.append("the " ~ env.branch_answer.split("_")[0] ~ " branch in " ~ env.name) %}{% endfor -%}
# What differs between {{ deploy_environments | map(attribute="name") | join(" and ") }}. The root modules in
{%- for env in deploy_environments %}{% if not loop.first %}{{ "," if loop.revindex > 1 else " and" }}{{ "\n#" if loop.last }}{% endif %} ../../{{ env.name }}{% endfor %} set these from their locals.tf.

variable "env" {
  type        = string
  description = "Environment name, used as the prefix of every resource name and passed to the notebooks."

  validation {
{%- set deploy_names = cookiecutter | environment_names("deploy") %}
    condition     = contains({{ deploy_names | tojson }}, var.env)
    error_message = "env must be {% for name in deploy_names %}\"{{ name }}\"{{ ", " if loop.revindex > 2 else (" or " if not loop.last) }}{% endfor %}."
  }
}
{%- for name, description in {
  "git_repo_url": "HTTPS URL of the project's Git repository; jobs check their notebooks out from it.",
  "git_branch": "Branch whose code the jobs run: " ~ branches | join(", ") ~ ".",
  "workspace_host": "URL of the environment's workspace, for links in the registered model's description.",
  "mlflow_experiment_parent_dir": "Workspace folder that holds the MLflow experiment.",
  "read_user_group": "Workspace group that gets read access to the jobs, the experiment and the model.",
}.items() %}

variable "{{ name }}" {
  type        = string
  description = "{{ description }}"
}
{%- endfor %}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

variable "serverless" {
  type        = bool
  description = "true: every job task runs on serverless jobs compute; false: on job clusters (the environment's job_compute, databricks-config/README.md, \"Compute\")."
}

variable "budget_policy_id" {
  type        = string
  default     = null
  description = "ID of the serverless budget policy of every job (serverless jobs compute only), or null for none."
}

variable "allow_schema_destroy" {
  type        = bool
  default     = false
  description = "true lets Terraform delete the prod schema with every table in it (staging's always may): only for a deliberate destroy of prod."
}
{%- endif %}

variable "cluster_policy_id" {
  type        = string
  default     = null
  description = "ID of the cluster policy of every job cluster, or null for none."
}

variable "failure_alert_emails" {
  type        = list(string)
  description = "Addresses told when a job fails or runs past its timeout."
}

variable "cost_tags" {
  type        = map(string)
  description = "Tags added to every job and its compute, for cost reports."
}

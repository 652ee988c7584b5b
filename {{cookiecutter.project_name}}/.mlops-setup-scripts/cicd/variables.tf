variable "git_token" {
  type        = string
  sensitive   = true
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
  description = "GitHub token with read and write access to the repository: jobs check code out with it and the training job's TriggerModelDeploy task starts the deploy workflow with it."
{%- elif cookiecutter.cicd_platform == "GitLab" %}
  description = "GitLab token with the read_repository scope (a project access token with the Reporter role): jobs check code out with it."
{%- else %}
  description = "Azure DevOps personal access token (scopes in docs/mlops-setup.md): Terraform manages the pipelines with it and jobs check code out with it."
{%- endif %}

  validation {
    condition     = length(var.git_token) > 0
    error_message = "Pass a Git token: --var git_token=<token>."
  }
}

variable "git_provider" {
  type        = string
  default     = "{{ cookiecutter | derived("cicd_platform_key") }}"
  description = "Git provider of the repository, as the Databricks Git credentials API names it: {{ "dev-tools/api/latest/gitcredentials.html" | generate_doc_link(cookiecutter.cloud) }}"
}

variable "staging_profile" {
  type        = string
  default     = "{{ cookiecutter.project_name }}-staging"
  description = "Databricks CLI profile of a workspace admin of the staging workspace."
}

variable "prod_profile" {
  type        = string
  default     = "{{ cookiecutter.project_name }}-prod"
  description = "Databricks CLI profile of a workspace admin of the prod workspace."
}
{%- if cookiecutter.cloud != "azure" %}

variable "token_lifetime_days" {
  type        = number
  default     = 100
  description = "Lifetime of the service principals' workspace tokens; re-run the bootstrap to rotate them."
}
{%- endif %}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

variable "github_repo_url" {
  type        = string
  description = "URL of the project's GitHub repository, e.g. https://github.com/my-org/my-repo."

  validation {
    condition     = startswith(var.github_repo_url, "https://github.com/")
    error_message = "Pass the repository URL: --var github_repo_url=https://github.com/<org>/<repo>."
  }
}
{%- endif %}
{%- if cookiecutter.cloud == "azure" %}

variable "azure_tenant_id" {
  type        = string
  description = "Entra ID tenant of the Azure Databricks workspaces."

  validation {
    condition     = length(var.azure_tenant_id) > 0
    error_message = "Pass the tenant id: --var azure_tenant_id=<tenant id>."
  }
}
{%- endif %}
{%- if cookiecutter.cicd_platform == "Azure DevOps" %}

variable "azure_devops_org_url" {
  type        = string
  description = "URL of the Azure DevOps organization, e.g. https://dev.azure.com/my-org."
}

variable "azure_devops_project_name" {
  type        = string
  description = "Azure DevOps project that holds the repository."
}

variable "azure_devops_repo_name" {
  type        = string
  description = "Name of the project's Azure Repos Git repository."
}
{%- endif %}

variable "git_username" {
  type        = string
  description = "User name recorded with the Git credentials."
}

variable "git_provider" {
  type        = string
  description = "Git provider of the repository: gitHub or azureDevOpsServices."
}

variable "git_token" {
  type        = string
  sensitive   = true
  description = "Read-only token the service principal checks the repository out with."
}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

variable "env" {
  type        = string
  description = "Environment of the workspace: staging or prod."
}

variable "github_repo_url" {
  type        = string
  description = "URL of the project's GitHub repository, e.g. https://github.com/my-org/my-repo."
}

variable "deploy_trigger_token" {
  type        = string
  sensitive   = true
  description = "GitHub token with Actions write access that starts the deploy workflow."
}
{%- endif %}

{%- import "terraform_state_names.jinja" as state with context -%}
{%- import "terraform/versions.jinja" as versions -%}
{%- set provider_names = ["databricks"]
    + (["github"] if cookiecutter.cicd_platform == "GitHub Actions" else [])
    + {"aws": ["aws"], "gcp": ["google"], "azure": ["azurerm", "azuread"]}[cookiecutter.cloud]
    + (["azuredevops"] if cookiecutter.cicd_platform == "Azure DevOps" else []) -%}
# Terraform and provider versions, where this setup's state lives, and how Terraform
# signs in: as you (Databricks CLI profiles with workspace-admin and account-admin rights,
# {% if cookiecutter.cicd_platform == "Azure DevOps" %}the Azure DevOps token in AZDO_PERSONAL_ACCESS_TOKEN{% elif cookiecutter.cicd_platform == "GitLab" %}the GitLab token in GITLAB_TOKEN{% else %}the GitHub token in GITHUB_TOKEN{% endif %}). No CI/CD identity can read this state.
terraform {
  {{ versions.requirements(*provider_names) }}

  # Created by ../terraform (run its bootstrap.py first); you reach it with your own cloud login.
  {{ state.backend("cicd_setup") }}
}

# Workspace-admin access to each workspace, from `databricks auth login --profile ...`.
{%- for env in cookiecutter | environment_names("deploy") %}
provider "databricks" {
  alias   = "{{ env }}"
  profile = var.{{ env }}_profile
}{{ "\n" if not loop.last }}
{%- endfor %}
{%- if cookiecutter.cicd_platform == "Azure DevOps" %}

# Reads your token from AZDO_PERSONAL_ACCESS_TOKEN; the jobs' read-only git_token is another.
provider "azuredevops" {
  org_service_url = var.azure_devops_org_url
}
{%- endif %}

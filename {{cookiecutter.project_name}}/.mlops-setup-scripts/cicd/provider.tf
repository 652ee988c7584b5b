{%- import "terraform_state_names.jinja" as state with context -%}
# Terraform and provider versions, where this setup's state lives, and how Terraform
# signs in: as you (Databricks CLI profiles with workspace-admin and account-admin rights,
# {% if cookiecutter.cicd_platform == "Azure DevOps" %}the Azure DevOps token in AZDO_PERSONAL_ACCESS_TOKEN{% elif cookiecutter.cicd_platform == "GitLab" %}the GitLab token in GITLAB_TOKEN{% else %}the GitHub token in GITHUB_TOKEN{% endif %}). No CI/CD identity can read this state.
terraform {
  required_version = ">= 1.11, < 2.0"

  required_providers {
    # 1.90: service principal federation policies and workspace-level OAuth secrets.
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.90, < 2.0"
    }
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
    github = {
      source  = "integrations/github"
      version = ">= 6.6, < 7.0"
    }
{%- endif %}
{%- if cookiecutter.cloud == "aws" %}
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
{%- elif cookiecutter.cloud == "gcp" %}
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0, < 7.0"
    }
{%- else %}
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.9, < 5.0"
    }
    # 3.4: flexible federated identity credentials (GitLab's staging state identity).
    azuread = {
      source  = "hashicorp/azuread"
      version = ">= 3.4, < 4.0"
    }
{%- endif %}
{%- if cookiecutter.cicd_platform == "Azure DevOps" %}
    azuredevops = {
      source  = "microsoft/azuredevops"
      version = ">= 1.0, < 2.0"
    }
{%- endif %}
  }

  # Created by ../terraform (run its bootstrap.py first); you reach it with your own cloud login.
  {{ state.backend("cicd_setup") }}
}

# Workspace-admin access to each workspace, from `databricks auth login --profile ...`.
provider "databricks" {
  alias   = "staging"
  profile = var.staging_profile
}

provider "databricks" {
  alias   = "prod"
  profile = var.prod_profile
}
{%- if cookiecutter.cicd_platform == "Azure DevOps" %}

# Reads your token from AZDO_PERSONAL_ACCESS_TOKEN; the jobs' read-only git_token is another.
provider "azuredevops" {
  org_service_url = var.azure_devops_org_url
}
{%- endif %}

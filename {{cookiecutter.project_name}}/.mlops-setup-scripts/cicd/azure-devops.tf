# Azure DevOps: the variable group the pipelines read their credentials from, the two
# pipelines, and build-validation policies (Azure DevOps runs no pipeline on a pull
# request unless a branch policy asks for it).

data "azuredevops_project" "project" {
  name = var.azure_devops_project_name
}

data "azuredevops_git_repository" "repo" {
  project_id = data.azuredevops_project.project.id
  name       = var.azure_devops_repo_name
}

# The state-storage credentials that ../terraform/bootstrap.py created, read from that
# folder's local state, so they need not be copied by hand.
data "terraform_remote_state" "state_storage" {
  backend = "local"
  config = {
    path = "${path.module}/../terraform/terraform.tfstate"
  }
}

locals {
  default_branch_ref = "refs/heads/{{ cookiecutter.default_branch }}"

  # The pipelines of .azure/devops-pipelines/ and the changes each one validates.
  pipelines = {
    tests_ci = {
      name              = "Tests CI"
      yml_path          = ".azure/devops-pipelines/tests-ci.yml"
      filename_patterns = ["*", "!/databricks-config/**"]
    }
    terraform_cicd = {
      name              = "Terraform CICD"
      yml_path          = ".azure/devops-pipelines/terraform-cicd.yml"
      filename_patterns = ["/databricks-config/**"]
    }
  }
}

# Variable names are what the pipelines use; secret values stay hidden in Azure DevOps.
resource "azuredevops_variable_group" "cicd" {
  project_id   = data.azuredevops_project.project.id
  name         = "{{ cookiecutter.project_name }} CI/CD"
  description  = "Workspace hosts and credentials for the {{ cookiecutter.project_name }} pipelines; managed by .mlops-setup-scripts/cicd."
  allow_access = true

  variable {
    name  = "stagingDatabricksHost"
    value = "{{ cookiecutter | derived("staging_host") }}"
  }

  variable {
    name  = "prodDatabricksHost"
    value = "{{ cookiecutter | derived("prod_host") }}"
  }
{%- if cookiecutter.cloud == "azure" %}

  variable {
    name         = "stagingAzureSpApplicationId"
    secret_value = azuread_application.cicd["staging"].client_id
    is_secret    = true
  }

  variable {
    name         = "stagingAzureSpClientSecret"
    secret_value = azuread_application_password.cicd["staging"].value
    is_secret    = true
  }

  variable {
    name  = "stagingAzureSpTenantId"
    value = var.azure_tenant_id
  }

  variable {
    name         = "prodAzureSpApplicationId"
    secret_value = azuread_application.cicd["prod"].client_id
    is_secret    = true
  }

  variable {
    name         = "prodAzureSpClientSecret"
    secret_value = azuread_application_password.cicd["prod"].value
    is_secret    = true
  }

  variable {
    name  = "prodAzureSpTenantId"
    value = var.azure_tenant_id
  }

  variable {
    name         = "armAccessKey"
    secret_value = data.terraform_remote_state.state_storage.outputs.ARM_ACCESS_KEY
    is_secret    = true
  }
{%- else %}

  variable {
    name         = "stagingWorkspaceToken"
    secret_value = module.staging_service_principal.token
    is_secret    = true
  }

  variable {
    name         = "prodWorkspaceToken"
    secret_value = module.prod_service_principal.token
    is_secret    = true
  }
{%- endif %}
{%- if cookiecutter.cloud == "aws" %}

  variable {
    name         = "awsAccessKeyId"
    secret_value = data.terraform_remote_state.state_storage.outputs.AWS_ACCESS_KEY_ID
    is_secret    = true
  }

  variable {
    name         = "awsSecretAccessKey"
    secret_value = data.terraform_remote_state.state_storage.outputs.AWS_SECRET_ACCESS_KEY
    is_secret    = true
  }
{%- elif cookiecutter.cloud == "gcp" %}

  variable {
    name         = "googleCredentials"
    secret_value = data.terraform_remote_state.state_storage.outputs.GOOGLE_CREDENTIALS
    is_secret    = true
  }
{%- endif %}
}

resource "azuredevops_build_definition" "pipeline" {
  for_each = local.pipelines

  project_id      = data.azuredevops_project.project.id
  name            = "${each.value.name} (${var.azure_devops_repo_name})"
  variable_groups = [azuredevops_variable_group.cicd.id]

  ci_trigger {
    use_yaml = true
  }

  repository {
    repo_type   = "TfsGit"
    repo_id     = data.azuredevops_git_repository.repo.id
    branch_name = local.default_branch_ref
    yml_path    = each.value.yml_path
  }
}

resource "azuredevops_branch_policy_build_validation" "pipeline" {
  for_each = local.pipelines

  project_id = data.azuredevops_project.project.id
  enabled    = true
  blocking   = true

  settings {
    display_name        = "${each.value.name} build validation (${var.azure_devops_repo_name})"
    build_definition_id = azuredevops_build_definition.pipeline[each.key].id
    valid_duration      = 720
    filename_patterns   = each.value.filename_patterns

    scope {
      repository_id  = data.azuredevops_git_repository.repo.id
      repository_ref = local.default_branch_ref
      match_type     = "Exact"
    }
  }
}

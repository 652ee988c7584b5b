# One CI/CD service principal per workspace, then, signed in as that principal, the Git
# credentials it checks code out with{% if cookiecutter.cicd_platform == "GitHub Actions" %} and the secrets its deploy task uses{% endif %}. How CI/CD signs
# in as the principals is in main-{{ cookiecutter.cloud }}.tf (federation policies) and {{ {"GitHub Actions": "github.tf", "Azure DevOps": "azure-devops.tf", "GitLab": "gitlab.tf"}[cookiecutter.cicd_platform] }}.

module "staging_service_principal" {
  source    = "./service-principal"
  providers = { databricks = databricks.staging }

  display_name                 = "{{ cookiecutter.project_name }}-cicd"
  group_name                   = "{{ cookiecutter | derived("service_principal_group") }}"
  mlflow_experiment_parent_dir = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"
  folder_co_managers           = local.single_workspace ? [module.prod_service_principal.application_id] : []
  client_secret_lifetime_days  = var.client_secret_lifetime_days
}

module "prod_service_principal" {
  source    = "./service-principal"
  providers = { databricks = databricks.prod }

  display_name                 = "{{ cookiecutter.project_name }}-cicd"
  group_name                   = "{{ cookiecutter | derived("service_principal_group") }}"
  mlflow_experiment_parent_dir = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"
  folder_co_managers           = local.single_workspace ? [module.staging_service_principal.application_id] : []
  client_secret_lifetime_days  = var.client_secret_lifetime_days
}

locals {
  # Staging and prod in one workspace (the README's single-workspace setup): both modules manage
  # the same experiment folder, so each grants both principals CAN_MANAGE on it.
  single_workspace = lower("{{ cookiecutter | derived("staging_host") }}") == lower("{{ cookiecutter | derived("prod_host") }}")

  service_principals = {
    staging = module.staging_service_principal
    prod    = module.prod_service_principal
  }
}

# Signed in as each service principal, with its OAuth secret, so that what follows is its own.
provider "databricks" {
  alias         = "staging_sp"
  host          = "{{ cookiecutter | derived("staging_host") }}"
  auth_type     = "oauth-m2m"
  client_id     = module.staging_service_principal.application_id
  client_secret = module.staging_service_principal.client_secret
}

provider "databricks" {
  alias         = "prod_sp"
  host          = "{{ cookiecutter | derived("prod_host") }}"
  auth_type     = "oauth-m2m"
  client_id     = module.prod_service_principal.application_id
  client_secret = module.prod_service_principal.client_secret
}

module "staging_workspace_cicd" {
  source     = "./common"
  providers  = { databricks = databricks.staging_sp }
  depends_on = [module.staging_service_principal]

  git_username = "{{ cookiecutter.project_name }}-cicd"
  git_provider = var.git_provider
  git_token    = var.git_token
}

module "prod_workspace_cicd" {
  source     = "./common"
  providers  = { databricks = databricks.prod_sp }
  depends_on = [module.prod_service_principal]

  git_username = "{{ cookiecutter.project_name }}-cicd"
  git_provider = var.git_provider
  git_token    = var.git_token
}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json for reference:
# the bootstrap already stored them where CI/CD reads them.
output "STAGING_DATABRICKS_CLIENT_ID" {
  value = module.staging_service_principal.application_id
}

output "PROD_DATABRICKS_CLIENT_ID" {
  value = module.prod_service_principal.application_id
}

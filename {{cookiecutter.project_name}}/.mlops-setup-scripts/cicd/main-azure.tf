# Azure: each CI/CD service principal is an Entra ID application with a client secret.
# CI/CD exchanges the secret for Entra ID tokens that Azure Databricks accepts.

locals {
  environments = toset(["staging", "prod"])
}

data "azuread_client_config" "current" {}

resource "azuread_application" "cicd" {
  for_each = local.environments

  display_name = "{{ cookiecutter.project_name }}-cicd-${each.key}"
  owners       = [data.azuread_client_config.current.object_id]
}

resource "azuread_service_principal" "cicd" {
  for_each = local.environments

  client_id                    = azuread_application.cicd[each.key].client_id
  app_role_assignment_required = false
  owners                       = [data.azuread_client_config.current.object_id]
}

# Valid for two years (the Entra ID default); re-run the bootstrap to rotate it.
resource "azuread_application_password" "cicd" {
  for_each = local.environments

  application_id = azuread_application.cicd[each.key].id
  display_name   = "{{ cookiecutter.project_name }} CI/CD"
}

provider "databricks" {
  alias               = "staging_sp"
  host                = "{{ cookiecutter | derived("staging_host") }}"
  azure_tenant_id     = var.azure_tenant_id
  azure_client_id     = azuread_application.cicd["staging"].client_id
  azure_client_secret = azuread_application_password.cicd["staging"].value
}

provider "databricks" {
  alias               = "prod_sp"
  host                = "{{ cookiecutter | derived("prod_host") }}"
  azure_tenant_id     = var.azure_tenant_id
  azure_client_id     = azuread_application.cicd["prod"].client_id
  azure_client_secret = azuread_application_password.cicd["prod"].value
}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json;
# store each one as a GitHub Actions secret of the same name.
{%- elif cookiecutter.cicd_platform == "GitLab" %}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json.
# GitLab CI/CD needs none of them: it signs in as shown in gitlab-federation.tf.
{%- else %}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json.
# The pipelines need no copy: azure-devops.tf puts them into the variable group.
{%- endif %}
output "stagingAzureSpApplicationId" {
  value     = azuread_application.cicd["staging"].client_id
  sensitive = true
}

output "stagingAzureSpClientSecret" {
  value     = azuread_application_password.cicd["staging"].value
  sensitive = true
}

output "stagingAzureSpTenantId" {
  value     = var.azure_tenant_id
  sensitive = true
}

output "prodAzureSpApplicationId" {
  value     = azuread_application.cicd["prod"].client_id
  sensitive = true
}

output "prodAzureSpClientSecret" {
  value     = azuread_application_password.cicd["prod"].value
  sensitive = true
}

output "prodAzureSpTenantId" {
  value     = var.azure_tenant_id
  sensitive = true
}

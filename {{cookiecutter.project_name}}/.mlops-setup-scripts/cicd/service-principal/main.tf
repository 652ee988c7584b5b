# Adds the CI/CD service principal to one workspace, as the workspace admin whose
# Databricks provider the caller passes in, and lets it manage the experiment folder.

resource "databricks_service_principal" "cicd" {
  display_name         = var.display_name
{%- if cookiecutter.cloud == "azure" %}
  application_id       = var.azure_application_id
{%- endif %}
  workspace_access     = true
  allow_cluster_create = true
}

data "databricks_group" "service_principals" {
  display_name = var.group_name
}

resource "databricks_group_member" "cicd" {
  group_id  = data.databricks_group.service_principals.id
  member_id = databricks_service_principal.cicd.id
}

# The experiments of staging and prod are created in this folder by Terraform, running
# as the service principal.
resource "databricks_directory" "experiment_parent" {
  path = var.mlflow_experiment_parent_dir
}

resource "databricks_permissions" "experiment_parent" {
  directory_path = databricks_directory.experiment_parent.path

  access_control {
    service_principal_name = databricks_service_principal.cicd.application_id
    permission_level       = "CAN_MANAGE"
  }
}
{%- if cookiecutter.cloud != "azure" %}

# A token the workspace admin creates on behalf of the service principal. The principal
# may use tokens through its group (see docs/mlops-setup.md).
resource "databricks_obo_token" "cicd" {
  depends_on = [databricks_group_member.cicd]

  application_id   = databricks_service_principal.cicd.application_id
  comment          = "CI/CD of ${var.display_name}"
  lifetime_seconds = var.token_lifetime_days * 24 * 60 * 60
}
{%- endif %}

# Adds the CI/CD service principal to one workspace, as the workspace admin whose
# Databricks provider the caller passes in, and lets it manage the experiment folder.

resource "databricks_service_principal" "cicd" {
  display_name         = var.display_name
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
  # False for a folder that holds prod's experiments: a destroy of the bootstrap or a changed
  # mlflow_experiment_parent_dir then fails on the non-empty folder instead of deleting them.
  delete_recursive = var.delete_experiments_with_folder
}

# Authoritative: in a single workspace both modules set the same list (folder_co_managers).
resource "databricks_permissions" "experiment_parent" {
  directory_path = databricks_directory.experiment_parent.path

  dynamic "access_control" {
    for_each = toset(concat([databricks_service_principal.cicd.application_id], var.folder_co_managers))
    content {
      service_principal_name = access_control.value
      permission_level       = "CAN_MANAGE"
    }
  }
}

# A Databricks OAuth secret of the principal. The bootstrap signs in with it to create what
# the principal itself must own (its Git credentials); CI/CD gets it only when the bootstrap
# runs with databricks_auth = "client_secret". It expires: rotate it with
# `bootstrap.py --rotate-databricks-secrets` (docs/mlops-setup.md).
resource "databricks_service_principal_secret" "cicd" {
  service_principal_id = databricks_service_principal.cicd.id
  lifetime             = "${var.client_secret_lifetime_days * 24 * 60 * 60}s"
}

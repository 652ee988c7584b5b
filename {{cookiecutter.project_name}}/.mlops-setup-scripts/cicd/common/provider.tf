# The caller passes a Databricks provider signed in as the workspace's CI/CD service
# principal, so everything here belongs to that principal.
terraform {
  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.90, < 2.0"
    }
  }
}

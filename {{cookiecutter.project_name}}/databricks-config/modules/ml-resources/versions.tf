terraform {
  required_version = ">= 1.11, < 2.0"

  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.50, < 2.0"
    }
  }
}

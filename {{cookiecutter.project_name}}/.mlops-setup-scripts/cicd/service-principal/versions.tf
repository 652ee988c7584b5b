terraform {
  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.50, < 2.0"
    }
  }
}

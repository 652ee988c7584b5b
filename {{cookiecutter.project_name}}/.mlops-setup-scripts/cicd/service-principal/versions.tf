terraform {
  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.90, < 2.0"
    }
  }
}

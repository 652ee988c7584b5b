{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on Azure: a resource group with one storage account and one
# private container per state (ML resources: staging and prod keys; CI/CD setup).
# CI/CD authenticates to it with the account's access key (ARM_ACCESS_KEY).
#
# This module keeps its own state locally, in this folder (git-ignored).
terraform {
  required_version = ">= 1.11, < 2.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.9, < 5.0"
    }
  }
}

locals {
  # The backends in databricks-config/*/provider.tf and cicd/provider.tf use these names.
  resource_group_name  = "{{ state.azure_resource_group }}"
  storage_account_name = "{{ state.azure_storage_account }}"
  containers = {
    ml_resources = "{{ state.azure_ml_resources_container }}"
    cicd_setup   = "{{ state.azure_cicd_setup_container }}"
  }
}

provider "azurerm" {
  features {}
  subscription_id = var.azure_subscription_id
}

resource "azurerm_resource_group" "tfstate" {
  name     = local.resource_group_name
  location = var.azure_location
}

resource "azurerm_storage_account" "tfstate" {
  name                            = local.storage_account_name
  resource_group_name             = azurerm_resource_group.tfstate.name
  location                        = azurerm_resource_group.tfstate.location
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false

  blob_properties {
    versioning_enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "azurerm_storage_container" "tfstate" {
  for_each = local.containers

  name                  = each.value
  storage_account_id    = azurerm_storage_account.tfstate.id
  container_access_type = "private"
}

# bootstrap.py writes this to ~/.{{ cookiecutter.project_name }}-cicd-terraform-secrets.json;
# store it as the CI/CD secret of the same name.
output "ARM_ACCESS_KEY" {
  value     = azurerm_storage_account.tfstate.primary_access_key
  sensitive = true
}

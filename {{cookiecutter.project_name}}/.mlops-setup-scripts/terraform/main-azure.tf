{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on Azure: a resource group with one geo-redundant, versioned
# storage account (TLS 1.2+, soft delete) and one private container per state (ML
# resources: staging and prod keys; CI/CD setup). The azurerm backend locks state with
# blob leases.
# The CI/CD bootstrap (../cicd) authenticates to it with the account's access key
# (ARM_ACCESS_KEY, output below); the pipelines sign in with Entra ID, one application per
# environment that may use only that environment's state blob (../cicd/state-access.tf).
#
# This module keeps its own state locally, in this folder (git-ignored).
terraform {
  {{ versions.requirements("azurerm") }}
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
  # checkov:skip=CKV_AZURE_59: CI/CD runners reach the state over the internet; every request needs the account key or Entra ID, and no container is public.
  # checkov:skip=CKV2_AZURE_33: a private endpoint needs runners inside your virtual network; add one (and disable public network access) if yours are.
  # checkov:skip=CKV2_AZURE_1: Microsoft-managed keys encrypt the state at rest; customer-managed keys need a Key Vault this bootstrap does not create.
  # checkov:skip=CKV2_AZURE_40: the CI/CD bootstrap's backend authenticates with the account key (ARM_ACCESS_KEY), so Shared Key authorization stays on.
  # checkov:skip=CKV_AZURE_33: the account has no queues.
  name                            = local.storage_account_name
  resource_group_name             = azurerm_resource_group.tfstate.name
  location                        = azurerm_resource_group.tfstate.location
  account_tier                    = "Standard"
  account_replication_type        = "GRS" # a copy in the paired region survives a regional outage
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  shared_access_key_enabled       = true # the CI/CD bootstrap signs in with the account key (ARM_ACCESS_KEY)
  allow_nested_items_to_be_public = false

  blob_properties {
    versioning_enabled = true

    # Deleted state blobs and containers can be restored for 30 days.
    delete_retention_policy {
      days = 30
    }
    container_delete_retention_policy {
      days = 30
    }
  }

  # Shared access signatures, should anyone create one, expire within a day.
  sas_policy {
    expiration_period = "01.00:00:00"
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "azurerm_storage_container" "tfstate" {
  # checkov:skip=CKV2_AZURE_21: blob read logging needs a Log Analytics workspace; add a diagnostic setting if your subscription has one.
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

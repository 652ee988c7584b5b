{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on Azure: a resource group with one geo-redundant, versioned
# storage account (TLS 1.2+, soft delete) and one private container per state (ML
# resources: staging and prod keys; CI/CD setup). The azurerm backend locks state with
# blob leases.
# Shared Key authorization is off, so no account key or SAS can reach the state: you sign in
# with your own Entra ID login (az login; the role assignment below), the pipelines with one
# Entra ID application per environment that may use only that environment's state blob
# (../cicd/state-access.tf). Every backend sets use_azuread_auth.
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
  # Shared Key is off (shared_access_key_enabled below): reach the storage data plane with Entra ID.
  storage_use_azuread = true
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "tfstate" {
  name     = local.resource_group_name
  location = var.azure_location
}

resource "azurerm_storage_account" "tfstate" {
  # checkov:skip=CKV_AZURE_59: CI/CD runners reach the state over the internet; every request needs an Entra ID login with a data role, and no container is public.
  # checkov:skip=CKV2_AZURE_33: a private endpoint needs runners inside your virtual network; add one (and disable public network access) if yours are.
  # checkov:skip=CKV2_AZURE_1: Microsoft-managed keys encrypt the state at rest; customer-managed keys need a Key Vault this bootstrap does not create.
  # checkov:skip=CKV_AZURE_33: the account has no queues.
  name                            = local.storage_account_name
  resource_group_name             = azurerm_resource_group.tfstate.name
  location                        = azurerm_resource_group.tfstate.location
  account_tier                    = "Standard"
  account_replication_type        = "GRS" # a copy in the paired region survives a regional outage
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  shared_access_key_enabled       = false # no account key or SAS: Entra ID only
  default_to_oauth_authentication = true
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

# You, who run this bootstrap, read and write every state (the CI/CD bootstrap's included) with
# your own login. Role assignments take effect within minutes; the CI/CD bootstrap comes later.
resource "azurerm_role_assignment" "state_operator" {
  scope                = azurerm_storage_account.tfstate.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = data.azurerm_client_config.current.object_id
}

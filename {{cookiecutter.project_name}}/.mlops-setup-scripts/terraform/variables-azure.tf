variable "azure_subscription_id" {
  type        = string
  description = "Azure subscription that will hold the state storage (az account show --query id -o tsv)."

  validation {
    condition     = length(var.azure_subscription_id) > 0
    error_message = "Pass the subscription id: --var azure_subscription_id=<id>."
  }
}

variable "azure_location" {
  type        = string
  description = "Azure region of the state storage, e.g. \"eastus\" or \"westeurope\"."

  validation {
    condition     = length(var.azure_location) > 0
    error_message = "Pass a region: --var azure_location=<region>."
  }
}

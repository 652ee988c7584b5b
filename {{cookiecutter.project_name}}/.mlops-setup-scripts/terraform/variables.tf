# The answers the state-storage bootstrap needs from you: pass them to bootstrap.py with --var.
{% if cookiecutter.cloud == "azure" -%}
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
{% else -%}
variable "gcp_project_id" {
  type        = string
  description = "Google Cloud project that will hold the state buckets and the CI service account."

  validation {
    condition     = length(var.gcp_project_id) > 0
    error_message = "Pass the project id: --var gcp_project_id=<project>."
  }
}

variable "gcp_location" {
  type        = string
  description = "Location of the state buckets: a region such as \"us-central1\" or a multi-region such as \"US\"."
  default     = "US"
}
{% endif -%}

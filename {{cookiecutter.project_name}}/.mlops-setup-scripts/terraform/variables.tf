{%- from "terraform/variables.jinja" import required_string -%}
# The answers the state-storage bootstrap needs from you: pass them to bootstrap.py with --var.
{% if cookiecutter.cloud == "azure" -%}
{{ required_string("azure_subscription_id", "Azure subscription that will hold the state storage (az account show --query id -o tsv).", "Pass the subscription id: --var azure_subscription_id=<id>.") }}

{{ required_string("azure_location", "Azure region of the state storage, e.g. \\\"eastus\\\" or \\\"westeurope\\\".", "Pass a region: --var azure_location=<region>.") }}
{% else -%}
{{ required_string("gcp_project_id", "Google Cloud project that will hold the state buckets and the CI service account.", "Pass the project id: --var gcp_project_id=<project>.") }}

variable "gcp_location" {
  type        = string
  description = "Location of the state buckets: a region such as \"us-central1\" or a multi-region such as \"US\"."
  default     = "US"
}
{% endif -%}

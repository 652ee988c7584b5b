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

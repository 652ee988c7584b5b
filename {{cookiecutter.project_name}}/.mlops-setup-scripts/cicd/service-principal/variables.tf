variable "display_name" {
  type        = string
  description = "Name of the service principal in the workspace."
}

variable "group_name" {
  type        = string
  description = "Existing workspace group the service principal joins{% if cookiecutter.cloud != "azure" %}; it must be allowed to use tokens{% endif %}."
}

variable "mlflow_experiment_parent_dir" {
  type        = string
  description = "Workspace folder of the project's MLflow experiments; the service principal gets CAN_MANAGE on it."
}
{%- if cookiecutter.cloud == "azure" %}

variable "azure_application_id" {
  type        = string
  description = "Client id of the Entra ID application to add to the workspace as the service principal."
}
{%- else %}

variable "token_lifetime_days" {
  type        = number
  description = "Lifetime of the service principal's workspace token."
}
{%- endif %}

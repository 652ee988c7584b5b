variable "display_name" {
  type        = string
  description = "Name of the service principal in the workspace."
}

variable "group_name" {
  type        = string
  description = "Existing account group of this environment alone, assigned to its workspace only, that the service principal joins."
}

variable "mlflow_experiment_parent_dir" {
  type        = string
  description = "Workspace folder of the project's MLflow experiments; the service principal gets CAN_MANAGE on it."
}

variable "delete_experiments_with_folder" {
  type        = bool
  description = "Whether destroying or moving the experiment folder deletes the experiments in it (delete_recursive); false keeps a non-empty folder, so the destroy fails."
}

variable "folder_co_managers" {
  type        = list(string)
  default     = []
  description = "Application IDs of other service principals that also get CAN_MANAGE on the experiment folder: the other environment's, when both share one workspace and so one folder (its permissions are authoritative, so each module must name every manager)."
}

variable "client_secret_lifetime_days" {
  type        = number
  description = "Lifetime of the service principal's Databricks OAuth secret."
}

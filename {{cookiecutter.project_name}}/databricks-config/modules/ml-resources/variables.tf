# What differs between staging and prod. The root modules in ../../staging and
# ../../prod set these from their locals.tf.

variable "env" {
  type        = string
  description = "Environment name, used as the prefix of every resource name and passed to the notebooks."

  validation {
    condition     = contains(["staging", "prod"], var.env)
    error_message = "env must be \"staging\" or \"prod\"."
  }
}

variable "git_repo_url" {
  type        = string
  description = "HTTPS URL of the project's Git repository; jobs check their notebooks out from it."
}

variable "git_branch" {
  type        = string
  description = "Branch whose code the jobs run: the default branch in staging, the release branch in prod."
}

variable "workspace_host" {
  type        = string
  description = "URL of the environment's workspace, for links in the registered model's description."
}

variable "mlflow_experiment_parent_dir" {
  type        = string
  description = "Workspace folder that holds the MLflow experiment."
}

variable "read_user_group" {
  type        = string
  description = "Workspace group that gets read access to the jobs, the experiment and the model."
}

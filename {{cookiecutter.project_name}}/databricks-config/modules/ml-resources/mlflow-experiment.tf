resource "databricks_mlflow_experiment" "experiment" {
  name        = local.experiment_name
  description = "Training runs of the {{ cookiecutter.project_name }} project in ${var.env}."
}

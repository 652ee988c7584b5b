# Training runs of the {{ cookiecutter.project_name }} project in this environment. (The provider
# deprecated the experiment's description argument: it is no longer stored.)
resource "databricks_mlflow_experiment" "experiment" {
  name = local.experiment_name
}

# Read access for the read_user_group. The deploying service principal owns every
# resource, so it needs no grant here.

resource "databricks_permissions" "training_job_permissions" {
  job_id = databricks_job.model_training_job.id

  access_control {
    group_name       = var.read_user_group
    permission_level = "CAN_VIEW"
  }
}

resource "databricks_permissions" "batch_job_permissions" {
  job_id = databricks_job.batch_inference_job.id

  access_control {
    group_name       = var.read_user_group
    permission_level = "CAN_VIEW"
  }
}

resource "databricks_permissions" "mlflow_experiment_permissions" {
  experiment_id = databricks_mlflow_experiment.experiment.id

  access_control {
    group_name       = var.read_user_group
    permission_level = "CAN_READ"
  }
}

resource "databricks_permissions" "mlflow_model_permissions" {
  registered_model_id = databricks_mlflow_model.registered_model.registered_model_id

  access_control {
    group_name       = var.read_user_group
    permission_level = "CAN_READ"
  }
}

output "experiment_name" {
  value = databricks_mlflow_experiment.experiment.name
}

output "experiment_id" {
  value = databricks_mlflow_experiment.experiment.id
}

output "model_name" {
  value = databricks_mlflow_model.registered_model.name
}

output "training_job_id" {
  value = databricks_job.model_training_job.id
}

output "batch_inference_job_id" {
  value = databricks_job.batch_inference_job.id
}

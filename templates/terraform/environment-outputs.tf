{#- Rendered once per environment, with `tf_env` ("staging" or "prod") set by the including file. -#}
# CI/CD saves `terraform output -json` to databricks-config/output/<env>.json, where the ML
# code (steps/utils.py, the MLflow profiles) reads the experiment and model names.
output "{{ cookiecutter.project_name }}_experiment_name" {
  value = module.ml_resources.experiment_name
}

output "{{ cookiecutter.project_name }}_experiment_id" {
  value = module.ml_resources.experiment_id
}

output "{{ cookiecutter.project_name }}_model_name" {
  value = module.ml_resources.model_name
}

output "{{ cookiecutter.project_name }}_training_job_id" {
  value = module.ml_resources.training_job_id
}

output "{{ cookiecutter.project_name }}_batch_inference_job_id" {
  value = module.ml_resources.batch_inference_job_id
}

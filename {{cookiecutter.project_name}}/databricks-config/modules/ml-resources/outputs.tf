{#- Each environment's outputs.tf passes these on under the project's prefix (templates/terraform/environment-outputs.tf). -#}
{%- for name, value in {
  "experiment_name": "databricks_mlflow_experiment.experiment.name",
  "experiment_id": "databricks_mlflow_experiment.experiment.id",
  "model_name": "local.registered_model_name" if cookiecutter.include_models_in_unity_catalog == "yes" else "databricks_mlflow_model.registered_model.name",
  "training_job_id": "databricks_job.model_training_job.id",
  "batch_inference_job_id": "databricks_job.batch_inference_job.id",
}.items() %}
{%- if not loop.first %}
{% endif -%}
output "{{ name }}" {
  value = {{ value }}
}
{% endfor -%}

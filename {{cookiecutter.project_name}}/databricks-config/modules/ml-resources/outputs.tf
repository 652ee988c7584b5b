{#- Each environment's outputs.tf passes these on under the project's prefix (templates/terraform/environment-outputs.tf). -#}
{%- for name, value in {
  "experiment_name": "databricks_mlflow_experiment.experiment.name",
  "experiment_id": "databricks_mlflow_experiment.experiment.id",
  "model_name": "local.model_name",
  "training_job_id": "databricks_job.model_training_job.id",
  "batch_inference_job_id": "databricks_job.batch_inference_job.id",
}.items() %}
{%- if not loop.first %}
{% endif -%}
output "{{ name }}" {
  value = {{ value }}
}
{% endfor -%}

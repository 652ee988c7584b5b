{#- Rendered once per deploy environment (hooks/environment_folders.py), with `tf_env` its name. -#}
# CI/CD saves `terraform output -json` to databricks-config/output/<env>.json, where the ML
# code (steps/utils.py, the MLflow profiles) reads the experiment and model names.
{%- for name in ["experiment_name", "experiment_id", "model_name", "training_job_id", "batch_inference_job_id"] %}
{%- if not loop.first %}
{% endif %}
output "{{ cookiecutter.project_name }}_{{ name }}" {
  value = module.ml_resources.{{ name }}
}
{%- endfor %}

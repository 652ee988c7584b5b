locals {
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
  # Every job and experiment name starts with the environment, so staging and prod could even
  # share one workspace. The model is named by its catalog instead (unity-catalog.tf).
{%- else %}
  # Every resource name starts with the environment, so staging and prod could even
  # share one workspace.
{%- endif %}
  name_prefix = "${var.env}-"
{% if cookiecutter.include_models_in_unity_catalog != "yes" %}
  model_name      = "${local.name_prefix}{{ cookiecutter | derived("model_name") }}"
{%- endif %}
  experiment_name = "${var.mlflow_experiment_parent_dir}/${local.name_prefix}{{ cookiecutter | derived("experiment_base_name") }}"

  # The cluster every job task runs on: a current LTS ML runtime, a single-user
  # (Unity Catalog capable) cluster owned by the deploying service principal.
  job_cluster_key = "ml_cluster"
  job_cluster = {
    spark_version      = "15.4.x-cpu-ml-scala2.12"
    node_type_id       = "{{ cookiecutter | derived("node_type_id") }}"
    num_workers        = 3
    data_security_mode = "SINGLE_USER"
    custom_tags        = { clusterSource = "mlops-stack" }
  }

  # Jobs run notebooks from the environment's branch of the project repository.
  git_provider = "{{ cookiecutter | derived("cicd_platform_key") }}"

  # Project root as seen from the root module (databricks-config/<env>), for the checks
  # that every notebook a job runs exists.
  project_root = "${path.root}/../.."
}

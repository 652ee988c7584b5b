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
{% if cookiecutter.include_models_in_unity_catalog == "yes" %}
  # The serverless environment of every task: a pinned environment version (Python 3.12,
  # Spark 4.0 through Databricks Connect 17.3). Notebook tasks name it with environment_key, so
  # it replaces the notebook's own environment (Jobs API 2.2, jobs/create "environments";
  # Databricks docs, "Configure the serverless environment", "Configure the environment by task
  # type").
  # Its dependencies are requirements.txt as Terraform reads it: the file of the branch that
  # Terraform CD applies ({{ cookiecutter.default_branch }}), one pip requirement per line (comments and blank lines left
  # out). Only jobs that run that branch's code get them (staging). Prod runs the code of
  # {{ cookiecutter.release_branch }}, whose requirements may differ, and {{ cookiecutter.default_branch }}'s would install unreleased packages with
  # prod's identity: its environment has none, and each notebook's first cell installs its own
  # checkout's requirements.txt (`%pip install -r ../requirements.txt`). The environment cannot
  # name that file: a dependency is one pip requirement line, from PyPI, an archive URL, a
  # workspace file or Unity Catalog volume path, or a VCS URL (Jobs API, jobs/create
  # "environments.spec.dependencies"), and the job's Git checkout is none of them.
  environment_key = "project"
  environment = {
    environment_version = "{{ cookiecutter | derived("serverless_environment_version") }}"
    dependencies = var.git_branch != "{{ cookiecutter.default_branch }}" ? null : [
      for line in split("\n", file("${path.module}/../../../requirements.txt")) :
      trimspace(split("#", line)[0]) if trimspace(split("#", line)[0]) != ""
    ]
  }

  # Classic job clusters (job_compute = "classic"): the LTS ML runtime with the same Spark
  # major version and Python as the serverless environment, a single-user (Unity Catalog
  # capable) cluster owned by the deploying service principal.
{%- else %}
  # The cluster every job task runs on: the LTS ML runtime whose Spark and MLflow fit the
  # project's code and tests (tests run the same Python and Spark), a single-user cluster
  # owned by the deploying service principal. Serverless jobs compute needs Unity Catalog.
{%- endif %}
  job_cluster_key = "ml_cluster"
  job_cluster = {
    spark_version      = "{{ cookiecutter | derived("classic_spark_version") }}"
    node_type_id       = "{{ cookiecutter | derived("node_type_id") }}"
    num_workers        = 3
    data_security_mode = "SINGLE_USER"
  }

  # Tags of every job and its compute, for cost reports: the environment's cost_tags plus
  # the project and the environment.
  tags = merge(var.cost_tags, {
    project     = "{{ cookiecutter.project_name }}"
    environment = var.env
    managed_by  = "mlops-stack"
  })

  # A run that takes longer than this is cancelled and reported as failed (the jobs take
  # minutes on the sample data: raise it for larger tables).
  job_timeout_seconds = 4 * 60 * 60

  # Jobs run notebooks from the environment's branch of the project repository.
  git_provider = "{{ cookiecutter | derived("cicd_platform_key") }}"

  # Project root as seen from the root module (databricks-config/<env>), for the checks
  # that every notebook a job runs exists.
  project_root = "${path.root}/../.."
}

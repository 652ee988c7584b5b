{%- import "terraform/job_blocks.jinja" as job with context -%}
# Trains a model, validates it, then deploys it {{ "to this environment's stage" if cookiecutter | derived("mlflow_major_version") == "2" else "(moves this environment's champion alias to it)" }}.
resource "databricks_job" "model_training_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-model-training-job"

  {{ job.compute() }}

  {% call job.notebook_task("Train", "notebooks/TrainWithFeatureStore" if cookiecutter.include_feature_store == "yes" else "notebooks/Train") %}
{%- if cookiecutter.include_feature_store == "yes" %}
        env                = var.env
        training_data_path = "/databricks-datasets/nyctaxi-with-zipcodes/subsampled"
        experiment_name    = databricks_mlflow_experiment.experiment.name
        model_name         = local.model_name
{%- else %}
        env = var.env
{%- endif %}
  {%- endcall %}

  {% call job.notebook_task("ModelValidation", "notebooks/ModelValidation", depends_on="Train") %}
        env = var.env
        # run_mode decides what a failed validation rule does:
        #   "enabled":  tag the version and fail this task, so the run fails, deployment does
        #               not start and failure_alert_emails hear of it;
        #   "dry_run":  tag the version without failing this task: deployment refuses the
        #               version but the run is green, so nobody hears (only for a trial);
        #   "disabled": skip validation (deployment then accepts the version).
        run_mode = "enabled"
  {%- endcall %}

  {% call job.notebook_task("TriggerModelDeploy", "notebooks/TriggerModelDeploy", depends_on="ModelValidation") %}
        env = var.env
{%- if cookiecutter | derived("ml_code") == "mlflow3" %}
        # The deployment runs on the branch this job runs from (the release branch in prod).
        git_branch = var.git_branch
{%- endif %}
  {%- endcall %}

  {{ job.source_schedule_and_checks("0 0 9 * * ?", "daily at 09:00", "training job") }}
}

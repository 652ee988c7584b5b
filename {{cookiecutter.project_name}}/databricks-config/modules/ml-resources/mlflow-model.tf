resource "databricks_mlflow_model" "registered_model" {
  name = local.model_name

  description = <<-EOT
    Model of the {{ cookiecutter.project_name }} project in ${var.env}, trained from [its Git repository](${var.git_repo_url}).

    Links:
    * [Recurring training job](${var.workspace_host}#job/${databricks_job.model_training_job.id}): trains, validates and deploys a new model version.
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
    * [Model deployment workflow](${var.git_repo_url}/actions/workflows/deploy-model-${var.env}.yml): moves a validated version to its stage.
{%- else %}
    * Model deployment: the TriggerModelDeploy task of the training job moves a validated version to its stage.
{%- endif %}
    * [Recurring batch inference job](${var.workspace_host}#job/${databricks_job.batch_inference_job.id}): scores data with the latest ${var.env} model version.
  EOT
}

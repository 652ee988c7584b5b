{%- set deploy_move = "moves a validated version to its stage" if cookiecutter | derived("mlflow_major_version") == "2" else "points the champion alias at a validated version" -%}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# The model in Unity Catalog: <catalog>.<schema>.<model> (unity-catalog.tf). Its aliases
# (champion, challenger) are set by the ML code, not by Terraform.
resource "databricks_registered_model" "registered_model" {
  catalog_name = local.catalog
  schema_name  = databricks_schema.project[local.catalog].name
  name         = local.unity_catalog.model

  comment = <<-EOT
{%- else %}
resource "databricks_mlflow_model" "registered_model" {
  name = local.model_name

  description = <<-EOT
{%- endif %}
    Model of the {{ cookiecutter.project_name }} project in ${var.env}, trained from [its Git repository](${var.git_repo_url}).

    Links:
    * [Recurring training job](${var.workspace_host}#job/${databricks_job.model_training_job.id}): trains, validates and deploys a new model version.
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
    * [Model deployment workflow](${var.git_repo_url}/actions/workflows/deploy-model-${var.env}.yml): {{ deploy_move }}.
{%- else %}
    * Model deployment: the TriggerModelDeploy task of the training job {{ deploy_move }}.
{%- endif %}
    * [Recurring batch inference job](${var.workspace_host}#job/${databricks_job.batch_inference_job.id}): scores data with the {{ 'latest ${var.env} model version' if cookiecutter | derived('mlflow_major_version') == '2' else 'champion version' }}.
  EOT
}

{#- Rendered once per deploy environment (hooks/environment_folders.py), with `tf_env` its name. -#}
# The ML resources of this environment. Staging and prod call the same module with their
# own locals, so a change made in ../modules/ml-resources reaches both environments.
module "ml_resources" {
  source = "../modules/ml-resources"

  env                          = local.env
  git_repo_url                 = var.git_repo_url
  git_branch                   = local.git_branch
  workspace_host               = local.workspace_host
  mlflow_experiment_parent_dir = local.mlflow_experiment_parent_dir
  read_user_group              = local.read_user_group
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
  serverless                   = var.job_compute == "serverless"
  budget_policy_id             = var.budget_policy_id
  allow_schema_destroy         = var.allow_schema_destroy
{%- endif %}
  cluster_policy_id            = var.cluster_policy_id
  failure_alert_emails         = var.failure_alert_emails
  cost_tags                    = var.cost_tags
}

# One CI/CD service principal per workspace, then, signed in as that principal, the Git
# credentials it checks code out with{% if cookiecutter.cicd_platform == "GitHub Actions" %} and the secrets its deploy task uses{% endif %}. The
# "*_sp" providers that sign in as the principals are defined in main-{{ "azure" if cookiecutter.cloud == "azure" else "aws-gcp" }}.tf.

module "staging_service_principal" {
  source    = "./service-principal"
  providers = { databricks = databricks.staging }

  display_name                 = "{{ cookiecutter.project_name }}-cicd"
  group_name                   = "{{ cookiecutter | derived("service_principal_group") }}"
  mlflow_experiment_parent_dir = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"
{%- if cookiecutter.cloud == "azure" %}
  azure_application_id         = azuread_application.cicd["staging"].client_id
{%- else %}
  token_lifetime_days          = var.token_lifetime_days
{%- endif %}
}

module "prod_service_principal" {
  source    = "./service-principal"
  providers = { databricks = databricks.prod }

  display_name                 = "{{ cookiecutter.project_name }}-cicd"
  group_name                   = "{{ cookiecutter | derived("service_principal_group") }}"
  mlflow_experiment_parent_dir = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"
{%- if cookiecutter.cloud == "azure" %}
  azure_application_id         = azuread_application.cicd["prod"].client_id
{%- else %}
  token_lifetime_days          = var.token_lifetime_days
{%- endif %}
}

module "staging_workspace_cicd" {
  source     = "./common"
  providers  = { databricks = databricks.staging_sp }
  depends_on = [module.staging_service_principal]

  git_username = "{{ cookiecutter.project_name }}-cicd"
  git_provider = var.git_provider
  git_token    = var.git_token
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

  env             = "staging"
  github_repo_url = var.github_repo_url
{%- endif %}
}

module "prod_workspace_cicd" {
  source     = "./common"
  providers  = { databricks = databricks.prod_sp }
  depends_on = [module.prod_service_principal]

  git_username = "{{ cookiecutter.project_name }}-cicd"
  git_provider = var.git_provider
  git_token    = var.git_token
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

  env             = "prod"
  github_repo_url = var.github_repo_url
{%- endif %}
}

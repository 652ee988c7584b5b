# Lets jobs owned by the service principal check code out from the repository (git_source);
# the token is read-only.
resource "databricks_git_credential" "service_principal" {
  git_username          = var.git_username
  git_provider          = var.git_provider
  personal_access_token = var.git_token
}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

# What notebooks/TriggerModelDeploy.py reads to start .github/workflows/deploy-model-<env>.yml.
resource "databricks_secret_scope" "cd_credentials" {
  name = "${var.env}-{{ cookiecutter.project_name }}-cd-credentials"
}

resource "databricks_secret" "cd_token" {
  scope        = databricks_secret_scope.cd_credentials.id
  key          = "token"
  string_value = var.deploy_trigger_token
}

resource "databricks_secret" "cd_github_repo" {
  scope        = databricks_secret_scope.cd_credentials.id
  key          = "github_repo"
  string_value = trimsuffix(trimprefix(var.github_repo_url, "https://github.com/"), "/")
}
{%- endif %}

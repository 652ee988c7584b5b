# {{ cookiecutter.cloud | upper }}: each CI/CD service principal is a Databricks service principal that CI/CD
# signs in as with a workspace token (DATABRICKS_TOKEN), created for it by a workspace
# admin (see service-principal/main.tf).

provider "databricks" {
  alias = "staging_sp"
  host  = "{{ cookiecutter | derived("staging_host") }}"
  token = module.staging_service_principal.token
}

provider "databricks" {
  alias = "prod_sp"
  host  = "{{ cookiecutter | derived("prod_host") }}"
  token = module.prod_service_principal.token
}
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json;
# store each one as a GitHub Actions secret of the same name.
{%- elif cookiecutter.cicd_platform == "GitLab" %}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json.
# GitLab CI/CD needs none of them: it signs in as shown in gitlab-federation.tf.
{%- else %}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json.
# The pipelines need no copy: azure-devops.tf puts them into the variable group.
{%- endif %}
output "STAGING_WORKSPACE_TOKEN" {
  value     = module.staging_service_principal.token
  sensitive = true
}

output "PROD_WORKSPACE_TOKEN" {
  value     = module.prod_service_principal.token
  sensitive = true
}

{%- import "cicd/credentials.jinja" as credentials with context -%}
# One CI/CD service principal per workspace, then, signed in as that principal, the Git
# credentials it checks code out with{% if cookiecutter.cicd_platform == "GitHub Actions" %} and the secrets its deploy task uses{% endif %}. How CI/CD signs
# in as the principals is in main-{{ cookiecutter.cloud }}.tf (federation policies) and {{ {"GitHub Actions": "github.tf", "Azure DevOps": "azure-devops.tf", "GitLab": "gitlab.tf"}[cookiecutter.cicd_platform] }}.
{%- set envs = credentials.environments %}
{%- for env in envs %}

module "{{ env }}_service_principal" {
  source    = "./service-principal"
  providers = { databricks = databricks.{{ env }} }

  # group_name: {{ env }}'s own group, assigned to {{ env }}'s workspace only (docs/mlops-setup.md).
  display_name                 = "{{ cookiecutter.project_name }}-cicd"
  group_name                   = "{{ cookiecutter | derived(env ~ "_service_principal_group") }}"
  mlflow_experiment_parent_dir = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"
  # {{ credentials.protected_environments | join(" and ") | capitalize }}'s experiments are deleted only deliberately (var.delete_prod_experiments); in one
  # workspace {{ credentials.pull_request_environments | join("'s and ") }}'s folder is {{ credentials.protected_environments | join(" and ") }}'s too.
  delete_experiments_with_folder = {% if credentials.protected[env] %}var.delete_prod_experiments{% else %}var.delete_prod_experiments || !local.single_workspace{% endif %}
  folder_co_managers             = local.single_workspace ? [{% for other in envs if other != env %}module.{{ other }}_service_principal.application_id{{ ", " if not loop.last }}{% endfor %}] : []
  client_secret_lifetime_days    = var.client_secret_lifetime_days
}
{%- endfor %}

locals {
  # {{ envs | join(" and ") | capitalize }} in one workspace (the README's single-workspace setup): {{ "both" if envs | length == 2 else "all" }} modules manage
  # the same experiment folder, so each grants {{ "both" if envs | length == 2 else "all" }} principals CAN_MANAGE on it.
  single_workspace = {% for env in envs[1:] %}lower("{{ credentials.host[envs[loop.index0]] }}") == lower("{{ credentials.host[env] }}"){{ " && " if not loop.last }}{% endfor %}

  service_principals = {
{%- set width = envs | map("length") | max %}
{%- for env in envs %}
    {{ env.ljust(width) }} = module.{{ env }}_service_principal
{%- endfor %}
  }
}

# Signed in as each service principal, with its OAuth secret, so that what follows is its own.
{%- for env in envs %}
provider "databricks" {
  alias         = "{{ env }}_sp"
  host          = "{{ credentials.host[env] }}"
  auth_type     = "oauth-m2m"
  client_id     = module.{{ env }}_service_principal.application_id
  client_secret = module.{{ env }}_service_principal.client_secret
}
{{ "" if loop.last }}
{%- endfor %}
{%- for env in envs %}
module "{{ env }}_workspace_cicd" {
  source     = "./common"
  providers  = { databricks = databricks.{{ env }}_sp }
  depends_on = [module.{{ env }}_service_principal]

  git_username = "{{ cookiecutter.project_name }}-cicd"
  git_provider = var.git_provider
  git_token    = var.git_token
}
{% endfor %}
# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json for reference:
# the bootstrap already stored them where CI/CD reads them.
{%- for env in envs %}
output "{{ env | upper }}_DATABRICKS_CLIENT_ID" {
  value = module.{{ env }}_service_principal.application_id
}
{{- "\n" if not loop.last }}
{%- endfor %}

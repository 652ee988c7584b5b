output "application_id" {
  value = databricks_service_principal.cicd.application_id
}
{%- if cookiecutter.cloud != "azure" %}

output "token" {
  value     = databricks_obo_token.cicd.token_value
  sensitive = true
}
{%- endif %}

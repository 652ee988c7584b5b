{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
{#- Rendered once per environment, with `tf_env` ("staging" or "prod") set by the including file. -#}
# Terraform and provider versions, and where the {{ tf_env }} state lives.
#
# The state storage is created once by .mlops-setup-scripts/terraform/ with the same
# names; staging and prod share it and differ only by the state key. The Databricks
# provider is configured by CI/CD through environment variables (DATABRICKS_HOST plus
# the credentials described in databricks-config/README.md), so there is no provider block.
terraform {
  {{ versions.requirements("databricks") }}

{%- if cookiecutter.cloud == "azure" %}

  backend "azurerm" {
    resource_group_name  = "{{ state.azure_resource_group }}"
    storage_account_name = "{{ state.azure_storage_account }}"
    container_name       = "{{ state.azure_ml_resources_container }}"
    key                  = "{{ state[tf_env ~ '_state_key'] }}"
  }
{%- elif cookiecutter.cloud == "aws" %}

  backend "s3" {
    bucket       = "{{ state.aws_ml_resources_bucket }}"
    key          = "{{ state[tf_env ~ '_state_key'] }}"
    region       = "{{ state.aws_region }}"
    encrypt      = true
    use_lockfile = true
  }
{%- else %}

  backend "gcs" {
    bucket = "{{ state.gcp_ml_resources_bucket }}"
    prefix = "{{ state['gcp_' ~ tf_env ~ '_prefix'] }}"
  }
{%- endif %}
}

{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
{#- Rendered once per deploy environment (hooks/environment_folders.py), with `tf_env` its name. -#}
# Terraform and provider versions, and where the {{ tf_env }} state lives.
#
# The state storage is created once by .mlops-setup-scripts/terraform/ with the same
# names; staging and prod share it and differ only by the state key. The Databricks
# provider is configured by CI/CD through environment variables (DATABRICKS_HOST plus
# the credentials described in databricks-config/README.md), so there is no provider block.
terraform {
  {{ versions.requirements("databricks") }}

  {{ state.backend(tf_env) }}
}

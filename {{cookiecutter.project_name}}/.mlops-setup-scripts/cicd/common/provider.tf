{%- import "terraform/versions.jinja" as versions -%}
# The caller passes a Databricks provider signed in as the workspace's CI/CD service
# principal, so everything here belongs to that principal.
terraform {
  {{ versions.provider_requirements("databricks") }}
}

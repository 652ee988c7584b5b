{%- import "terraform/versions.jinja" as versions -%}
terraform {
  {{ versions.provider_requirements("databricks") }}
}

{%- import "terraform/versions.jinja" as versions -%}
terraform {
  {{ versions.requirements("databricks") }}
}

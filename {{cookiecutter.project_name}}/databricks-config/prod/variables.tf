{%- set tf_env = "prod" -%}
{#- Staging and prod share one source: templates/terraform/environment-variables.tf in the template repo. -#}
{% include "terraform/environment-variables.tf" -%}

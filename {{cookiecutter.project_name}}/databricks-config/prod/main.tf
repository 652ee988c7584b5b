{%- set tf_env = "prod" -%}
{#- Staging and prod share one source: templates/terraform/environment-main.tf in the template repo. -#}
{% include "terraform/environment-main.tf" -%}

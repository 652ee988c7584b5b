{%- set tf_env = "prod" -%}
{#- Staging and prod share one source: templates/terraform/environment-outputs.tf in the template repo. -#}
{% include "terraform/environment-outputs.tf" -%}

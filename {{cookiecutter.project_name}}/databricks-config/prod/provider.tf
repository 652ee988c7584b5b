{%- set tf_env = "prod" -%}
{#- Staging and prod share one source: templates/terraform/environment-provider.tf in the template repo. -#}
{% include "terraform/environment-provider.tf" -%}

{%- set tf_env = "staging" -%}
{#- Staging and prod share one source: templates/terraform/environment-main.tf in the template repo. -#}
{% include "terraform/environment-main.tf" -%}

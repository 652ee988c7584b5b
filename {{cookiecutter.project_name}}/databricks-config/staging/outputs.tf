{%- set tf_env = "staging" -%}
{#- Staging and prod share one source: templates/terraform/environment-outputs.tf in the template repo. -#}
{% include "terraform/environment-outputs.tf" -%}

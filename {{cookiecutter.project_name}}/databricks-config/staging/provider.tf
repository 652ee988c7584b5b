{%- set tf_env = "staging" -%}
{#- Staging and prod share one source: templates/terraform/environment-provider.tf in the template repo. -#}
{% include "terraform/environment-provider.tf" -%}

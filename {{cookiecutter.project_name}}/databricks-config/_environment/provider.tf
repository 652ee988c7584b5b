{#- Every deploy environment's folder databricks-config/<env>/ gets this file, rendered by the
    post-generation hook (hooks/environment_folders.py) from one source: templates/terraform/environment-provider.tf. -#}
{% include "terraform/environment-provider.tf" -%}

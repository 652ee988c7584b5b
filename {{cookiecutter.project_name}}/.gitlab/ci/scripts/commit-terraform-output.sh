{#- Rendered from one source shared with the other platforms: see templates/cicd/commit-terraform-output.sh in the template repo. -#}
{% include "cicd/commit-terraform-output.sh" %}

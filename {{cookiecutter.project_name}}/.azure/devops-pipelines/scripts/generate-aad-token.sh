{#- Rendered from one source shared with the GitHub Actions workflows: see templates/cicd/generate-aad-token.sh in the template repo. -#}
{% include "cicd/generate-aad-token.sh" %}

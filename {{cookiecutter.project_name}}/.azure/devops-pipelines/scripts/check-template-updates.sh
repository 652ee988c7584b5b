{#- Rendered from one source shared by every CI/CD platform: see templates/cicd/check-template-updates.sh in the template repo. -#}
{% include "cicd/check-template-updates.sh" %}

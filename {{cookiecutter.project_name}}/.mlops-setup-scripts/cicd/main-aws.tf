{#- Rendered from one source shared by every cloud: templates/cicd/bootstrap-federation.tf in the template repo. -#}
{% include "cicd/bootstrap-federation.tf" %}

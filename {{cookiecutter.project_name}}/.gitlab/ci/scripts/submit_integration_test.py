{#- Rendered from one source shared with the other platforms: see templates/cicd/submit_integration_test.py in the template repo. -#}
{% include "cicd/submit_integration_test.py" %}
{%- import "setup/bootstrap_script.jinja" as script with context -%}
{{ script.bootstrap_script("terraform") }}
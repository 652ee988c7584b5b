{%- import "cicd/gitlab/gitlab.jinja" as gl with context -%}
{%- import "cicd/credentials.jinja" as credentials with context -%}
#!/bin/sh
# Usage: refuse-unreviewed-variables.sh <environment>
#
# Exits 1, before the job reads any token, when its environment holds a variable that nobody
# reviewed: whoever presses "Run job" on a manual job may add variables that outrank the job's
# own (rules are not evaluated again then), and the approver approves the plan, not them. So the
# job runs only with names from the list below, with the job's own values, and without debug
# tracing (which writes variables to the job log). POSIX sh: the Terraform image has no bash yet.
#
# If a runner or a group variable of yours adds a name here, add it to the list in review.
set -eu

readonly env="${1:?usage: refuse-unreviewed-variables.sh <{{ gl.environments | join("|") }}>}"

# Set by GitLab and its runner; CI_DEBUG_* are checked below.
predefined='CI|CI_[A-Z0-9_]+|GITLAB_[A-Z0-9_]+|FF_[A-Z0-9_]+|RUNNER_TEMP_PROJECT_DIR|HOME|HOSTNAME|PATH|PWD|OLDPWD|SHLVL|TERM|_'
# The job's own variables and ID tokens, and the project variables of its environment that the
# bootstrap writes (.mlops-setup-scripts/cicd/gitlab.tf).
own='DATABRICKS_HOST|DATABRICKS_AUTH_TYPE|TF_IN_AUTOMATION|{{ credentials.oidc_token_variable }}|{{ credentials.gitlab_state_login.token_variable }}
{%- if cookiecutter.cloud == "azure" %}|ARM_USE_OIDC|ARM_USE_AZUREAD{% elif cookiecutter.cloud == "aws" %}|AWS_ROLE_SESSION_NAME{% endif -%}
|DATABRICKS_CLIENT_ID|DATABRICKS_CLIENT_SECRET|{{ credentials.failure_alerts_setting }}|ALLOW_PROD_DATA_LOSS|{{ credentials.state_login.variables | join("|") }}'

unreviewed="$(awk 'BEGIN { for (name in ENVIRON) print name }' | grep -vxE "${predefined}|${own}" | sort || true)"
if [ -n "${unreviewed}" ]; then
  echo "Refusing to run: variables that no one reviewed were added to this job: $(echo "${unreviewed}" | tr '\n' ' ')" >&2
  echo "Run the job again without variables (Run job, with the variables list empty)." >&2
  exit 1
fi
for name in CI_DEBUG_TRACE CI_DEBUG_SERVICES; do
  case "$(printenv "${name}" || true)" in
    '' | false | FALSE | False | 0 | f | F) ;;
    *)
      echo "Refusing to run: ${name} is set; debug tracing writes the ${env} tokens to the job log. Run the job again without it." >&2
      exit 1
      ;;
  esac
done
# The job's own values, which a variable of the same name would replace.
case "${env}" in
{%- for name in gl.environments %}
  {{ name }}) host="{{ gl.host[name] }}" ;;
{%- endfor %}
  *) echo "Unknown environment ${env}: one of {{ gl.environments | join(", ") }}" >&2 && exit 2 ;;
esac
if [ "${DATABRICKS_HOST:-}" != "${host}" ] || [ "${TF_IN_AUTOMATION:-}" != "true" ]; then
  echo "Refusing to run: DATABRICKS_HOST or TF_IN_AUTOMATION differs from the job's own (${host}, true)." >&2
  exit 1
fi
case "${DATABRICKS_AUTH_TYPE:-}" in
  {{ credentials.federated_auth_type }} | oauth-m2m) ;;
  *) echo "Refusing to run: DATABRICKS_AUTH_TYPE=${DATABRICKS_AUTH_TYPE:-} is not the job's own ({{ credentials.federated_auth_type }}, or oauth-m2m from the bootstrap)." >&2 && exit 1 ;;
esac
echo "No variable outside the reviewed list; the ${env} job runs as its file says."

#!/usr/bin/env bash
# Sign the CI/CD service principal of one workspace in to Azure Databricks.
#
# Exchanges the Entra ID service principal's client secret for an access token of the
# Azure Databricks resource and hands it to the next steps as DATABRICKS_TOKEN, which the
# Databricks SDK, MLflow and the Databricks Terraform provider all read. The token lives
# about an hour, so call this in each job that needs it, right before the Databricks steps.
#
# Input (environment): AZURE_SP_TENANT_ID, AZURE_SP_APPLICATION_ID, AZURE_SP_CLIENT_SECRET.
set -euo pipefail

: "${AZURE_SP_TENANT_ID:?set AZURE_SP_TENANT_ID to the tenant of the service principal}"
: "${AZURE_SP_APPLICATION_ID:?set AZURE_SP_APPLICATION_ID to the application (client) ID}"
: "${AZURE_SP_CLIENT_SECRET:?set AZURE_SP_CLIENT_SECRET to the client secret}"

# Application ID of the Azure Databricks resource itself, the same in every tenant.
readonly AZURE_DATABRICKS_RESOURCE="2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

# The secret goes through stdin, so it never shows in the process list.
response="$(
  printf '%s' "${AZURE_SP_CLIENT_SECRET}" | curl --silent --show-error --fail --retry 3 \
    --data-urlencode "client_secret@-" \
    --data-urlencode "client_id=${AZURE_SP_APPLICATION_ID}" \
    --data-urlencode "grant_type=client_credentials" \
    --data-urlencode "scope=${AZURE_DATABRICKS_RESOURCE}/.default" \
    "https://login.microsoftonline.com/${AZURE_SP_TENANT_ID}/oauth2/v2.0/token"
)"
token="$(jq --raw-output '.access_token // empty' <<<"${response}")"
if [[ -z "${token}" ]]; then
  echo "Entra ID answered without an access token" >&2
  exit 1
fi
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

# Mask the token in the logs, then export it to the job's later steps.
echo "::add-mask::${token}"
echo "DATABRICKS_TOKEN=${token}" >>"${GITHUB_ENV}"
{%- else %}

# A secret pipeline variable: masked in the logs, mapped into later steps with env.
echo "##vso[task.setvariable variable=DATABRICKS_TOKEN;issecret=true]${token}"
{%- endif %}

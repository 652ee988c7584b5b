#!/usr/bin/env bash
# Sign Terraform in to the Google Cloud state of the job's environment, with no stored key.
#
# Azure DevOps issues the job an OIDC token for its pipeline (issuer
# https://vstoken.dev.azure.com/<organization GUID>, subject p://<organization>/<project>/<pipeline>,
# claim rpo_ref: the branch of the run). The environment's workload identity provider trades it
# for the environment's service account, which may read and write only that environment's state
# (.mlops-setup-scripts/cicd/state-access.tf): prod's only for runs of the default branch.
#
# Reads SYSTEM_ACCESSTOKEN, SYSTEM_OIDCREQUESTURI (set by Azure Pipelines),
# GCP_WORKLOAD_IDENTITY_PROVIDER and GCP_SERVICE_ACCOUNT (the environment's variable group), and
# writes the external account credential that GOOGLE_APPLICATION_CREDENTIALS names, next to the
# token it reads. The token lives ten minutes: run this at the start of every step that runs
# Terraform; each Terraform command exchanges it for a one-hour Google access token.
set -euo pipefail

readonly credentials="${GOOGLE_APPLICATION_CREDENTIALS:?set GOOGLE_APPLICATION_CREDENTIALS to the credential file to write}"
readonly token_file="${credentials%.json}.oidc-token"

token="$(
  curl --silent --show-error --fail --retry 3 --request POST \
    --header "Authorization: Bearer ${SYSTEM_ACCESSTOKEN:?map SYSTEM_ACCESSTOKEN: \$(System.AccessToken) in the step}" \
    --header "Content-Type: application/json" --header "X-TFS-FedAuthRedirect: Suppress" --data '{}' \
    "${SYSTEM_OIDCREQUESTURI:?not set: run inside an Azure Pipelines job}?api-version=7.1" | jq --raw-output --exit-status .oidcToken
)"
echo "##vso[task.setsecret]${token}"
(umask 077 && printf '%s' "${token}" >"${token_file}")

jq --null-input --arg provider "${GCP_WORKLOAD_IDENTITY_PROVIDER:?}" --arg token_file "${token_file}" \
  --arg service_account "${GCP_SERVICE_ACCOUNT:?}" '{
    type: "external_account",
    audience: "//iam.googleapis.com/\($provider)",
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    token_url: "https://sts.googleapis.com/v1/token",
    credential_source: {file: $token_file},
    service_account_impersonation_url:
      "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/\($service_account):generateAccessToken"
  }' >"${credentials}"

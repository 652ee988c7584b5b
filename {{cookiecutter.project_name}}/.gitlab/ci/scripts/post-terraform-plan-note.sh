#!/usr/bin/env bash
# Post the Terraform plan of one environment on a merge request, as one note per
# environment that later pipelines update in place.
#
# Usage (from the project root, in a GitLab CI job after terraform-plan-<env>):
#   post-terraform-plan-note.sh <staging|prod>
#
# Reads terraform-plan-<env>.txt and terraform-plan-<env>.status (the plan job's artifacts),
# and from the environment: MERGE_REQUEST_IID, GITLAB_NOTE_TOKEN (a project access token
# with the `api` scope and the Reporter role, which may comment and nothing more), and
# GitLab's CI_API_V4_URL, CI_PROJECT_ID, CI_PIPELINE_URL.
set -euo pipefail

readonly env="${1:?usage: post-terraform-plan-note.sh <staging|prod>}"
readonly plan_file="terraform-plan-${env}.txt"
readonly status_file="terraform-plan-${env}.status"
readonly marker="<!-- terraform-plan:{{ cookiecutter.project_name }}:${env} -->"
# GitLab notes hold up to a million characters; a plan this long is better read in the job log.
readonly max_plan_length=60000
: "${MERGE_REQUEST_IID:?set MERGE_REQUEST_IID to the merge request to comment on}"
: "${GITLAB_NOTE_TOKEN:?set GITLAB_NOTE_TOKEN (see .gitlab/ci/README.md)}"

readonly notes_url="${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/merge_requests/${MERGE_REQUEST_IID}/notes"

api() {
  curl --silent --show-error --fail --retry 3 --header "PRIVATE-TOKEN: ${GITLAB_NOTE_TOKEN}" "$@"
}

status="$(cat "${status_file}" 2>/dev/null || echo "unknown")"
if [[ -f "${plan_file}" ]]; then
  plan="$(cat "${plan_file}")"
else
  plan="No plan output: see the pipeline."
fi
plan_length="$(wc -c <<<"${plan}")"
if ((plan_length > max_plan_length)); then
  plan="${plan:0:max_plan_length}
... (cut: the job log has the whole plan)"
fi

body="${marker}
### Terraform plan for {{ cookiecutter.project_name }}: ${env}

Plan job: \`${status}\` · [pipeline](${CI_PIPELINE_URL})

<details><summary>Show the ${env} plan</summary>

~~~~text
${plan//\~\~\~\~/\~ \~ \~ \~}
~~~~
</details>"

# The note this script posted before, if any: the first 100 notes are searched, newest first.
note_id="$(
  api "${notes_url}?sort=desc&order_by=updated_at&per_page=100" |
    jq --raw-output --arg marker "${marker}" 'first(.[] | select(.body | startswith($marker)) | .id) // empty'
)"

if [[ -n "${note_id}" ]]; then
  api --request PUT "${notes_url}/${note_id}" --data-urlencode "body=${body}" >/dev/null
  echo "Updated the ${env} plan note on merge request !${MERGE_REQUEST_IID}"
else
  api --request POST "${notes_url}" --data-urlencode "body=${body}" >/dev/null
  echo "Posted the ${env} plan on merge request !${MERGE_REQUEST_IID}"
fi

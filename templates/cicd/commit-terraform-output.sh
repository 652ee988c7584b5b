#!/usr/bin/env bash
# Commit the Terraform outputs of one environment where the ML code and the jobs read them.
#
# Usage (from anywhere in the repository, after `terraform apply` in databricks-config/<env>):
#   commit-terraform-output.sh <{{ cookiecutter | environments("deploy") | map(attribute="name") | join("|") }}> [--from-artifact]
#
# With --from-artifact the output file is already in place (a job that ran `terraform output`
# passed it on), so that the job holding the push credential runs no Terraform.
#
# Writes `terraform output -json` to databricks-config/output/<env>.json, where steps/utils.py
# and the MLflow profiles read the experiment and model names, and commits it to
# {{ cookiecutter.default_branch }} when it changed{% if cookiecutter.default_branch != cookiecutter.release_branch %}, then to {{ cookiecutter.release_branch }}, which the prod jobs
# run from{% endif %}. Other commits may land meanwhile, so each push rebases onto the remote
# branch and retries.{% if cookiecutter.cicd_platform != "GitHub Actions" %} The commit message carries [skip ci]: it changes no code to test.{% else %} The commit message carries no [skip ci]: GitHub would then skip the
# checks of its pull request, which the branch ruleset requires (a push with the workflow's
# token starts no workflow anyway).{% endif %}
#
# Where the branch accepts no direct push (its protection asks for a reviewed pull request),
# the commit goes to the branch terraform-output/<env>-<branch> instead, for a pull request
# that someone reviews and merges; the script then exits 3, which the pipelines report as a
# warning without holding the deployment back.{% if cookiecutter.default_branch != cookiecutter.release_branch %} So it does when {{ cookiecutter.release_branch }} does not exist yet:
# creating it from {{ cookiecutter.default_branch }} later carries the file along.{% endif %} Any other failure exits 1.
set -euo pipefail

readonly env="${1:?usage: commit-terraform-output.sh <{{ cookiecutter | environments("deploy") | map(attribute="name") | join("|") }}>}"
readonly source="${2:-}"
readonly output_file="databricks-config/output/${env}.json"

# Commit the output file if it differs from the checked-out commit's.
commit_if_changed() {
  git add "${output_file}"
  if git diff --cached --quiet; then
    echo "${output_file} is already up to date here"
    return 1
  fi
  git -c user.name="Terraform output bot" -c user.email="terraform-output-bot@users.noreply.invalid" \
    commit --quiet --message "Update ${env} Terraform outputs{% if cookiecutter.cicd_platform != "GitHub Actions" %} [skip ci]{% endif %}"
}

# Rebase the current commit onto the remote branch and push it there; retry when another
# commit landed meanwhile (a race), ask for a review when the branch refused the push itself.
push_to() {
  local branch="$1" attempt tip
  for attempt in 1 2 3; do
    git fetch --quiet origin "${branch}"
    tip="$(git rev-parse "origin/${branch}")"
    if git rebase --quiet --autostash "origin/${branch}" && git push --quiet origin "HEAD:refs/heads/${branch}"; then
      echo "Pushed ${output_file} to ${branch}"
      return 0
    fi
    git rebase --abort 2>/dev/null || true
    git fetch --quiet origin "${branch}"
    if [[ "$(git rev-parse "origin/${branch}")" == "${tip}" ]]; then
      push_for_review "${branch}"
      return
    fi
    echo "Push to ${branch} lost a race (attempt ${attempt}); retrying" >&2
    sleep $((attempt * 5))
  done
  return 1
}

# Push the commit to a branch of its own, for a pull request into `$1` (see the top).
push_for_review() {
  local target="$1" review_branch="terraform-output/${env}-$1"
  if git push --quiet --force origin "HEAD:refs/heads/${review_branch}"; then
    warn "${target} accepts no direct push: open a pull request from ${review_branch} into ${target} to bring ${output_file} there"
    return 0
  fi
  return 1
}

# Report something a person must do: on stderr{% if cookiecutter.cicd_platform == "GitHub Actions" %} and as a warning annotation of the run{% elif cookiecutter.cicd_platform == "Azure DevOps" %} and as a warning of the run{% endif %}; the script exits 3.
warn() {
  echo "WARNING: $*" >&2
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
  echo "::warning title=Terraform outputs::$*"
{%- elif cookiecutter.cicd_platform == "Azure DevOps" %}
  echo "##vso[task.logissue type=warning]$*"
{%- endif %}
  needs_review=1
}

needs_review=0
cd "$(git rev-parse --show-toplevel)"
mkdir -p "$(dirname "${output_file}")"
if [[ "${source}" == "--from-artifact" ]]; then
  if [[ ! -s "${output_file}" ]]; then
    echo "${output_file} is missing or empty: the apply job passes it on as an artifact" >&2
    exit 1
  fi
else
  terraform -chdir="databricks-config/${env}" output -json >"${output_file}"
fi
saved_output="$(mktemp)"
cp "${output_file}" "${saved_output}"

if commit_if_changed; then
  push_to "{{ cookiecutter.default_branch }}"
fi
{%- if cookiecutter.default_branch != cookiecutter.release_branch %}

# The same file on the release branch (checked even when the default branch was up to date,
# so a rerun repairs a release branch that a failed run left behind). `ls-remote` exits 2
# when the remote has no such branch, 128 when it cannot be reached.
release_exists=0
git ls-remote --quiet --exit-code --heads origin "{{ cookiecutter.release_branch }}" >/dev/null || release_exists=$?
if ((release_exists == 2)); then
  warn "the branch {{ cookiecutter.release_branch }} does not exist yet, so ${output_file} was not committed there: create {{ cookiecutter.release_branch }} from {{ cookiecutter.default_branch }} once ${output_file} is on {{ cookiecutter.default_branch }} (docs/mlops-setup.md)"
elif ((release_exists != 0)); then
  echo "Could not list the branches of origin (git ls-remote exit code ${release_exists})" >&2
  exit 1
else
  git fetch --quiet origin "{{ cookiecutter.release_branch }}"
  git checkout --quiet --force --detach "origin/{{ cookiecutter.release_branch }}"
  mkdir -p "$(dirname "${output_file}")"
  cp "${saved_output}" "${output_file}"
  if commit_if_changed; then
    push_to "{{ cookiecutter.release_branch }}"
  fi
fi
{%- endif %}

if ((needs_review)); then
  exit 3
fi

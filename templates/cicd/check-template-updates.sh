#!/usr/bin/env bash
# Compare the project with its template's newest commit (`cruft check`), first making sure the
# template repository can be read, with a read-only credential when it is private.
#
# Usage (from the repository root, in the scheduled template-update job):
#   check-template-updates.sh
#
# Reads the template's git URL from the "template" entry of .cruft.json. Credentials, all optional:
#   TEMPLATE_REPO_TOKEN     a read-only token for the template repository (a CI secret; see
#                           README.md, "Pull template updates", for the kind of token per host)
#   TEMPLATE_REPO_USERNAME  the user name that goes with it, where the host needs one
#   CI_JOB_TOKEN_HOST, CI_JOB_TOKEN_USERNAME, CI_JOB_TOKEN_VALUE
#                           the CI platform's own short-lived job token and the one host it is
#                           for, used when TEMPLATE_REPO_TOKEN is empty and the template lives there
# git gets the token from a credential helper that reads it from the environment, for the
# template's host only: it is never written to a file, a URL or the log.
set -euo pipefail

readonly cruft_file=".cruft.json"
readonly docs='README.md, section "Pull template updates"'

template="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["template"])' "${cruft_file}")"
readonly template
case "${template}" in
  https://* | http://*) ;;
  *)
    echo "The template in ${cruft_file} is '${template}', which CI cannot clone: put the template's" >&2
    echo "https git URL there (the \"template\" entry), commit it and run the job again (see ${docs})." >&2
    exit 1
    ;;
esac
# scheme://host[:port], without any user name: the credential helper below serves only that.
origin="$(python3 -c 'import sys, urllib.parse; u = urllib.parse.urlsplit(sys.argv[1]); print(u.scheme + "://" + u.netloc.rpartition("@")[2])' "${template}")"
readonly origin
host="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).hostname)' "${template}")"
readonly host

# Azure DevOps passes "$(NAME)" itself when a mapped variable is not defined: no token then.
unset_macro() {
  case "$1" in
    "\$("*) ;;
    *) printf '%s' "$1" ;;
  esac
}
token="$(unset_macro "${TEMPLATE_REPO_TOKEN:-}")"
username="$(unset_macro "${TEMPLATE_REPO_USERNAME:-}")"
if [[ -z "${token}" && -n "${CI_JOB_TOKEN_HOST:-}" && "${host}" == "${CI_JOB_TOKEN_HOST}" ]]; then
  token="$(unset_macro "${CI_JOB_TOKEN_VALUE:-}")"
  username="${CI_JOB_TOKEN_USERNAME:-}"
fi
if [[ -n "${token}" ]]; then
  export TEMPLATE_GIT_USERNAME="${username:-token}" TEMPLATE_GIT_PASSWORD="${token}"
  # Single quotes on purpose: git's helper shell expands the variables when git asks, not now.
  # shellcheck disable=SC2016
  git config --global "credential.${origin}.helper" \
    '!f() { test "$1" = get && printf "username=%s\npassword=%s\n" "${TEMPLATE_GIT_USERNAME}" "${TEMPLATE_GIT_PASSWORD}"; }; f'
fi

if ! git_error="$(GIT_TERMINAL_PROMPT=0 git ls-remote --quiet "${template}" HEAD 2>&1 >/dev/null)"; then
  {
    echo "Cannot read the template repository ${template} (the \"template\" entry of ${cruft_file})."
    echo "git said: ${git_error}"
    # Only an answer from the host says anything about the token: tell a host that cannot be
    # reached (DNS, firewall, proxy) apart from a refused or missing credential.
    if grep -qiE "could not resolve|failed to connect|couldn't connect|connection refused|timed out" <<<"${git_error}"; then
      echo "The host ${host} could not be reached from this CI runner: check the URL and the runner's network."
    elif [[ -n "${token}" ]]; then
      echo "The token given was refused: check that it has not expired and that it may read that repository."
    else
      echo "If the repository is private, store a read-only token for it in the CI secret TEMPLATE_REPO_TOKEN."
    fi
    echo "If the template moved, put its new git URL in ${cruft_file}. See ${docs}."
  } >&2
  exit 1
fi
cruft check

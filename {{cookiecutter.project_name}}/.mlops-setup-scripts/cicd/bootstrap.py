"""Create the CI/CD service principals and their sign-in; usage:
python .mlops-setup-scripts/cicd/bootstrap.py [--rotate-databricks-secrets] [terraform apply args].

Run terraform/bootstrap.py first: this module keeps its state in the storage that one
creates. Tokens reach Terraform through the environment (TF_VAR_<name>), never the
command line; the script asks for any that is not set, without echoing it, so that no
token ends up in the shell history. Run it again with new tokens to rotate them, and with
--rotate-databricks-secrets to replace the service principals' Databricks OAuth secrets.
Writes the service principals' client ids to
~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json (see docs/mlops-setup.md).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(MODULE_DIR.parent))

from terraform_bootstrap import bootstrap, write_formatted_terraform_output  # noqa: E402

SECRETS_FILE = Path.home() / ".{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json"

# Terraform variable -> what to ask for when TF_VAR_<variable> is not set.
TOKEN_PROMPTS = {
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}
    "git_token": "Read-only GitHub token for checkouts (fine-grained, Contents: read): ",
    "deploy_trigger_token": "GitHub token that starts the prod deploy workflow (fine-grained, Actions: read and write): ",
{%- elif cookiecutter.cicd_platform == "GitLab" %}
    "git_token": "Read-only GitLab token for checkouts (project access token, Reporter, read_repository): ",
{%- else %}
    "git_token": "Read-only Azure DevOps token for checkouts (scope Code: Read): ",
{%- endif %}
}

# The service principals' Databricks OAuth secrets. The providers databricks.staging_sp and
# databricks.prod_sp (workspaces.tf) sign in with them, to create what the principals own.
OAUTH_SECRETS = (
{%- for env in cookiecutter | environment_names("deploy") %}
    "module.{{ env }}_service_principal.databricks_service_principal_secret.cicd",
{%- endfor %}
)
# Options of this script (the rest goes to terraform apply).
OPTIONS = ("--rotate-databricks-secrets",)

__all__ = [
    "OAUTH_SECRETS",
    "OPTIONS",
    "SECRETS_FILE",
    "TOKEN_PROMPTS",
    "apply_runs",
    "ask_for_missing_tokens",
    "write_formatted_terraform_output",
]


def apply_runs(arguments: list[str]) -> list[list[str]]:
    """The ``terraform apply`` argument lists to run, in order, for this script's ``arguments``.

    Without --rotate-databricks-secrets: one apply with ``arguments``. With it: first an apply
    that replaces only the OAuth secrets (-target, -replace), so that no provider signs in with a
    secret that is being replaced or has already expired (a plain -replace would make Terraform
    refresh what the principals own with the old secret, and configure their providers with an
    unknown one); then a full apply, signed in with the new secrets, which updates everything that
    holds them (the CI/CD variables with databricks_auth = "client_secret").
    """
    rest = [argument for argument in arguments if argument not in OPTIONS]
    if len(rest) == len(arguments):
        return [rest]
    secrets_only = [f"-target={secret}" for secret in OAUTH_SECRETS] + [
        f"-replace={secret}" for secret in OAUTH_SECRETS
    ]
    return [[*secrets_only, *rest], rest]


def ask_for_missing_tokens(environ: dict[str, str], prompt=getpass.getpass) -> dict[str, str]:
    """``environ`` plus ``TF_VAR_<name>`` for every token of TOKEN_PROMPTS it lacks, read with ``prompt``.

    Raises SystemExit when a token is left empty, naming the variable to set.
    """
    result = dict(environ)
    for variable, question in TOKEN_PROMPTS.items():
        name = f"TF_VAR_{variable}"
        if not result.get(name):
            result[name] = prompt(question).strip()
            if not result[name]:
                sys.exit(f"No {variable} given: set {name} or type the token when asked (see docs/mlops-setup.md).")
    return result


if __name__ == "__main__":
    os.environ.update(ask_for_missing_tokens(dict(os.environ)))
    for apply_arguments in apply_runs(sys.argv[1:]):
        bootstrap(MODULE_DIR, SECRETS_FILE, "CI/CD service principal client ids", apply_arguments)

"""Create the remote Terraform state storage; usage: python .mlops-setup-scripts/terraform/bootstrap.py [terraform apply args].

Writes the credentials CI/CD needs to reach the state to
~/.{{ cookiecutter.project_name }}-cicd-terraform-secrets.json (see docs/mlops-setup.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(MODULE_DIR.parent))

from terraform_bootstrap import bootstrap, write_formatted_terraform_output  # noqa: E402

SECRETS_FILE = Path.home() / ".{{ cookiecutter.project_name }}-cicd-terraform-secrets.json"

__all__ = ["SECRETS_FILE", "write_formatted_terraform_output"]

if __name__ == "__main__":
    bootstrap(MODULE_DIR, SECRETS_FILE, "Terraform state backend secrets for CI/CD", sys.argv[1:])

"""Create the CI/CD service principals and credentials; usage: python .mlops-setup-scripts/cicd/bootstrap.py [terraform apply args].

Run terraform/bootstrap.py first: this module keeps its state in the storage that one
creates. Writes the service principals' secrets to
~/.{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json (see docs/mlops-setup.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(MODULE_DIR.parent))

from terraform_bootstrap import bootstrap, write_formatted_terraform_output  # noqa: E402

SECRETS_FILE = Path.home() / ".{{ cookiecutter.project_name }}-cicd-service-principal-secrets.json"

__all__ = ["SECRETS_FILE", "write_formatted_terraform_output"]

if __name__ == "__main__":
    bootstrap(MODULE_DIR, SECRETS_FILE, "CI/CD service principal secrets", sys.argv[1:])

"""The command-line tools the tests run, installed into the template's venv by dev-requirements.txt."""

from __future__ import annotations

import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
ACTIONLINT = VENV_BIN / "actionlint"
CHECK_JSONSCHEMA = VENV_BIN / "check-jsonschema"
GITLAB_CI_VERIFY = VENV_BIN / "gitlab-ci-verify"
SHELLCHECK = VENV_BIN / "shellcheck"

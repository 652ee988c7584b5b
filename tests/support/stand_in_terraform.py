"""Run a bootstrap script of a generated project against a stand-in ``terraform``.

The stand-in records every call as ``<working folder> <arguments>`` and answers ``terraform
output -json`` with one sensitive output, so the scripts' own logic (which folder, which
arguments, what they save) runs for real while nothing reaches a cloud.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FAKE_TERRAFORM = """#!/bin/sh
echo "$PWD $*" >> "$TERRAFORM_LOG"
if [ "$1" = output ]; then echo '{"KEY": {"sensitive": true, "type": "string", "value": "v"}}'; fi
"""
# Tokens the CI/CD bootstrap would otherwise prompt for.
TOKENS = {"TF_VAR_git_token": "abc", "TF_VAR_deploy_trigger_token": "def"}


@dataclass(frozen=True)
class BootstrapRun:
    """What one run left: the copied ``.mlops-setup-scripts``, the HOME it wrote to, and the
    terraform calls in order (``"<folder> <arguments>"``)."""

    scripts: Path
    home: Path
    calls: list[str]


def run_bootstrap(project: Path, tmp_path: Path, script: str, *args: str) -> BootstrapRun:
    """Copy ``project``'s ``.mlops-setup-scripts`` into ``tmp_path`` and run ``script`` (relative
    to it, e.g. ``cicd/bootstrap.py``) with ``args`` from ``tmp_path``, as the guide runs it from
    another folder. Raises ``CalledProcessError`` if the script fails."""
    scripts = tmp_path / "project" / ".mlops-setup-scripts"
    shutil.copytree(project / ".mlops-setup-scripts", scripts)
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    home.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    log = tmp_path / "terraform.log"
    env = {**os.environ, **TOKENS, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(home),
           "TERRAFORM_LOG": str(log)}
    subprocess.run([sys.executable, str(scripts / script), *args],
                   cwd=tmp_path, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return BootstrapRun(scripts, home, log.read_text().splitlines())

"""Run a generated project's GitLab CI jobs on this machine with ``gitlab-ci-local``.

``gitlab-ci-local`` (npm) reads ``.gitlab-ci.yml`` like GitLab does (includes, rules,
``needs``, variables) and runs jobs with its shell executor, so a job's own scripts run
here, offline. The package is pinned in ``tests/gitlab-ci-local/package-lock.json``;
``ensure_gitlab_ci_local`` installs it with ``npm ci`` the first time and again when the
lock file changes, under a file lock so that pytest-xdist workers install it once.
Version 4.65.1 is the last release that declares Node.js 18+ support; 4.75 needs Node.js 22.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from tests.support.npm_package import NodeMissing, ensure_installed
from tests.support.variants import TEMPLATE_DIR

PACKAGE_DIR = TEMPLATE_DIR / "tests" / "gitlab-ci-local"
EXECUTABLE = PACKAGE_DIR / "node_modules" / ".bin" / "gitlab-ci-local"

__all__ = ["NodeMissing", "as_gitlab_checkout", "ensure_gitlab_ci_local", "gitlab_ci_local"]


def ensure_gitlab_ci_local() -> Path:
    """Path of the pinned ``gitlab-ci-local`` executable, installed if needed.

    Raises ``NodeMissing`` without Node.js and npm, ``RuntimeError`` when ``npm ci`` fails.
    """
    ensure_installed(PACKAGE_DIR, "run GitLab CI jobs locally")
    return EXECUTABLE


def as_gitlab_checkout(project: Path, branch: str) -> None:
    """Make ``project`` a git repository on ``branch`` that looks like a GitLab clone.

    gitlab-ci-local derives the project path from the ``origin`` URL and evaluates
    ``rules:changes`` against ``origin/<default branch>``, so both must exist; the remote
    is never contacted.
    """
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)

    git("init", "-q", "-b", branch, ".")
    git("add", "-A")
    git("-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "Generated project")
    git("remote", "add", "origin", "https://gitlab.example.invalid/ml-team/my-mlops-project.git")
    git("update-ref", f"refs/remotes/origin/{branch}", "HEAD")
    git("symbolic-ref", "refs/remotes/origin/HEAD", f"refs/remotes/origin/{branch}")


def gitlab_ci_local(
    project: Path, arguments: Sequence[str], variables: Mapping[str, str] = {}, env: Mapping[str, str] | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """Run ``gitlab-ci-local <arguments>`` in ``project`` with pipeline ``variables``."""
    command = [str(ensure_gitlab_ci_local()), *arguments]
    for name, value in variables.items():
        command += ["--variable", f"{name}={value}"]
    environment = {**(env or os.environ), "GCL_IGNORE_PREDEFINED_VARS": ",".join(variables)}
    return subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=timeout)

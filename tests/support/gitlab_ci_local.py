"""Run a generated project's GitLab CI jobs on this machine with ``gitlab-ci-local``.

``gitlab-ci-local`` (npm) reads ``.gitlab-ci.yml`` like GitLab does (includes, rules,
``needs``, variables) and runs jobs with its shell executor, so a job's own scripts run
here, offline. The package is pinned in ``tests/gitlab-ci-local/package-lock.json``;
``ensure_gitlab_ci_local`` installs it with ``npm ci`` the first time and again when the
lock file changes, under a file lock so that pytest-xdist workers install it once.
Version 4.65 is the newest that runs on Node.js 20 (later ones need Node.js 22).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from filelock import FileLock

from tests.support.variants import TEMPLATE_DIR

PACKAGE_DIR = TEMPLATE_DIR / "tests" / "gitlab-ci-local"
INSTALL_COMMAND = ["npm", "ci", "--prefix", str(PACKAGE_DIR), "--no-audit", "--no-fund"]
EXECUTABLE = PACKAGE_DIR / "node_modules" / ".bin" / "gitlab-ci-local"
_STAMP = PACKAGE_DIR / "node_modules" / ".installed-lock-sha256"


class NodeMissing(RuntimeError):
    """Node.js or npm is not on PATH, so gitlab-ci-local cannot run here."""


def _lock_digest() -> str:
    return hashlib.sha256((PACKAGE_DIR / "package-lock.json").read_bytes()).hexdigest()


def ensure_gitlab_ci_local() -> Path:
    """Path of the pinned ``gitlab-ci-local`` executable, installed if needed.

    Raises ``NodeMissing`` without Node.js and npm, ``RuntimeError`` when ``npm ci`` fails.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise NodeMissing("Node.js 18+ and npm are needed to run GitLab CI jobs locally; install them to run this check")
    with FileLock(str(PACKAGE_DIR / ".install.lock")):
        if not (_STAMP.exists() and _STAMP.read_text() == _lock_digest()):
            result = subprocess.run(INSTALL_COMMAND, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(INSTALL_COMMAND)} failed:\n{result.stdout}\n{result.stderr}")
            _STAMP.write_text(_lock_digest())
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

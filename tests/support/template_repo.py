"""A git repository holding the template as it is in this checkout, for cruft's tests.

cruft clones templates with git, so its tests need the template as a repository. The
checkout's own history lacks uncommitted work, so the tests commit a copy of the working
tree (tracked and new, unignored files) into a fresh repository instead of cloning.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.variants import TEMPLATE_DIR

# Commits in tests need an identity; the machine's git config may have none.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.com",
}


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder`` with a test identity; return its stdout."""
    result = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    return result.stdout


def commit_all(folder: Path, message: str) -> str:
    """Commit every change in ``folder``; return the new commit's hash."""
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)
    return git(folder, "rev-parse", "HEAD").strip()


def template_repository(destination: Path) -> Path:
    """A new git repository at ``destination`` with this checkout's template files, committed."""
    listed = subprocess.run(
        ["git", "-C", str(TEMPLATE_DIR), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = TEMPLATE_DIR / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(destination, "init", "-q", "-b", "main")
    commit_all(destination, "Template")
    return destination

"""What a generated project executes locally, reduced to one hash.

Variants differ in many files that local runs never execute (docs, Terraform, CI/CD
definitions) and in comments (cloud-specific documentation links). Two variants with
the same signature run exactly the same code and data locally, so a large test that
runs the project's own code needs to run for one of them only; see tests/conftest.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# .cruft.json records the answers for cruft; nothing runs it.
NOT_EXECUTED_LOCALLY = ("docs", ".github", ".azure", "databricks-config", ".mlops-setup-scripts", ".cruft.json")
COMMENTED_SUFFIXES = {".py", ".yaml", ".yml", ".txt", ".ini", ".cfg", ".toml"}


def _without_comment_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def code_signature(project: Path) -> str:
    """Hash of every file a local run can execute or read, comment lines left out."""
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if not path.is_file() or relative.parts[0] in NOT_EXECUTED_LOCALLY or path.suffix == ".md":
            continue
        content = path.read_bytes()
        if path.suffix in COMMENTED_SUFFIXES or path.name == "Makefile":
            content = _without_comment_lines(content.decode()).encode()
        digest.update(str(relative).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()

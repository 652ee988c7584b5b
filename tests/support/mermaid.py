"""Parse Mermaid diagrams with Mermaid's real parser, under Node.js, offline after one install.

The parser is the ``mermaid`` npm package pinned in ``tests/mermaid/package-lock.json``
(run by ``tests/mermaid/parse.mjs``). ``ensure_parser`` installs it with ``npm ci`` the
first time (the same command a Makefile may run up front:
``npm ci --prefix tests/mermaid --no-audit --no-fund``) and re-installs it when the lock
file changes. A file lock keeps pytest-xdist workers from installing it twice at once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from typing import Optional, Sequence

from filelock import FileLock

from tests.support.variants import TEMPLATE_DIR

PARSER_DIR = TEMPLATE_DIR / "tests" / "mermaid"
INSTALL_COMMAND = ["npm", "ci", "--prefix", str(PARSER_DIR), "--no-audit", "--no-fund"]
_STAMP = PARSER_DIR / "node_modules" / ".installed-lock-sha256"


class NodeMissing(RuntimeError):
    """Node.js or npm is not on PATH, so the diagrams cannot be parsed here."""


def _lock_digest() -> str:
    return hashlib.sha256((PARSER_DIR / "package-lock.json").read_bytes()).hexdigest()


def ensure_parser() -> str:
    """Path of the ``node`` executable, with the pinned parser installed next to ``parse.mjs``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeMissing("Node.js 20+ and npm are needed to parse Mermaid diagrams; install them to run this check")
    with FileLock(str(PARSER_DIR / ".install.lock")):
        if not (_STAMP.exists() and _STAMP.read_text() == _lock_digest()):
            result = subprocess.run(INSTALL_COMMAND, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(INSTALL_COMMAND)} failed:\n{result.stdout}\n{result.stderr}")
            _STAMP.write_text(_lock_digest())
    return node


def parse_errors(diagrams: Sequence[str]) -> list[Optional[str]]:
    """For each diagram, None when Mermaid parses it, else Mermaid's error message."""
    if not diagrams:
        return []
    node = ensure_parser()
    result = subprocess.run(
        [node, str(PARSER_DIR / "parse.mjs")],
        input=json.dumps(list(diagrams)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the Mermaid parser crashed:\n{result.stderr}")
    return json.loads(result.stdout)

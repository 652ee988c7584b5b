"""Parse Mermaid diagrams with Mermaid's real parser, under Node.js, offline after one install.

The parser is the ``mermaid`` npm package pinned in ``tests/mermaid/package-lock.json``
(run by ``tests/mermaid/parse.mjs``). ``ensure_parser`` installs it with ``npm ci`` the
first time (the same command a Makefile may run up front:
``npm ci --prefix tests/mermaid --no-audit --no-fund``) and re-installs it when the lock
file changes. A file lock keeps pytest-xdist workers from installing it twice at once.
"""

from __future__ import annotations

import json
import subprocess
from typing import Optional, Sequence

from tests.support.npm_package import NodeMissing, ensure_installed, install_command
from tests.support.variants import TEMPLATE_DIR

PARSER_DIR = TEMPLATE_DIR / "tests" / "mermaid"
INSTALL_COMMAND = install_command(PARSER_DIR)

__all__ = ["INSTALL_COMMAND", "NodeMissing", "PARSER_DIR", "ensure_parser", "parse_errors"]


def ensure_parser() -> str:
    """Path of the ``node`` executable, with the pinned parser installed next to ``parse.mjs``."""
    return ensure_installed(PARSER_DIR, "parse Mermaid diagrams")


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

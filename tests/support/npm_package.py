"""Node.js tools of the template's tests, each pinned by a package-lock.json under tests/.

``ensure_installed`` runs ``npm ci`` in such a folder the first time and again whenever its
lock file changes (a stamp in ``node_modules`` records the lock it installed), under a file
lock so that pytest-xdist workers install it only once. A fresh clone therefore needs only
Node.js and npm on PATH.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock


class NodeMissing(RuntimeError):
    """Node.js or npm is not on PATH, so a Node.js tool of the tests cannot run here."""


def install_command(package_dir: Path) -> list[str]:
    """The command that installs ``package_dir``'s locked packages."""
    return ["npm", "ci", "--prefix", str(package_dir), "--no-audit", "--no-fund"]


def ensure_installed(package_dir: Path, needed_for: str) -> str:
    """Install ``package_dir``'s locked packages if needed; returns the path of ``node``.

    ``needed_for`` completes the ``NodeMissing`` message ("Node.js and npm are needed to
    <needed_for>"). Raises ``RuntimeError`` with npm's output when ``npm ci`` fails.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeMissing(f"Node.js 20+ and npm are needed to {needed_for}; install them to run this check")
    digest = hashlib.sha256((package_dir / "package-lock.json").read_bytes()).hexdigest()
    stamp = package_dir / "node_modules" / ".installed-lock-sha256"
    with FileLock(str(package_dir / ".install.lock")):
        if not (stamp.exists() and stamp.read_text() == digest):
            command = install_command(package_dir)
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
            stamp.write_text(digest)
    return node

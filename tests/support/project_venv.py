"""One cached virtual environment in which generated projects run their own code.

Installing MLflow, scikit-learn and PySpark takes minutes, so every variant shares one
environment per Python version and set of requirement files. It lives under
``build/project-venvs/`` and is keyed by a hash of the requirement files, so a change
to the generated requirements builds a fresh one. A file lock makes it safe to ask for
it from several pytest-xdist workers at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from filelock import FileLock

from tests.support.variants import TEMPLATE_DIR

VENVS_DIR = TEMPLATE_DIR / "build" / "project-venvs"


def _key(python: str, requirement_files: Sequence[Path]) -> str:
    digest = hashlib.sha256(python.encode())
    for path in requirement_files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_project_venv(requirement_files: Sequence[Path], python: str = sys.executable) -> Path:
    """The Python executable of a venv made by ``python`` with every requirement file installed.

    The requirement files are copied into the venv folder so that the key stays
    meaningful after the generated projects are gone.
    """
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    # The real path: scripts' shebangs name the folder the venv was made in, so a venv made
    # through a symlink (a worktree sharing build/project-venvs) stays usable from every checkout.
    venv_dir = VENVS_DIR.resolve() / f"py{version}-{_key(version, requirement_files)}"
    venv_python = venv_dir / "bin" / "python"
    with FileLock(str(venv_dir) + ".lock"):
        if (venv_dir / ".complete").exists():
            return venv_python
        shutil.rmtree(venv_dir, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv_dir)], check=True)
        requirements_dir = venv_dir / "requirements"
        requirements_dir.mkdir()
        args = []
        for index, path in enumerate(requirement_files):
            copy = requirements_dir / f"{index}-{path.name}"
            shutil.copyfile(path, copy)
            args += ["-r", str(copy)]
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", *args], check=True, env=env)
        (venv_dir / ".complete").write_text("\n".join(str(p) for p in requirement_files) + "\n")
    return venv_python

"""A Debian command-line tool for the tests, unpacked without root when the machine lacks it.

``gitlab-ci-local`` copies the project with ``rsync``, which a fresh machine may not have, and
installing it needs root. ``apt-get download`` does not: it fetches the ``.deb`` of a package
(and here of each dependency that dpkg does not list as installed) into the current folder,
and ``dpkg -x`` unpacks each into a folder of ours. The tool then runs from there, with that
folder's libraries on ``LD_LIBRARY_PATH``. The unpacked tree lives in ``build/debian-tools/``
(git-ignored), made once under a file lock so pytest-xdist workers share it.

Needs ``apt-get`` and ``dpkg`` (Debian and Ubuntu) and the package lists apt already has
(``apt-get update`` run once by an administrator, as any Debian image ships them or its CI
runs it); elsewhere ``ToolMissing`` says what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from filelock import FileLock

from tests.support.variants import TEMPLATE_DIR

TOOLS_DIR = TEMPLATE_DIR / "build" / "debian-tools"


class ToolMissing(RuntimeError):
    """The tool is not on PATH and cannot be unpacked here (no apt-get/dpkg, or the download failed)."""


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def _installed(package: str) -> bool:
    """Whether dpkg lists ``package`` as installed (so its files are on this machine already)."""
    result = _run(["dpkg-query", "-W", "-f=${Status}", package])
    return result.returncode == 0 and result.stdout.strip().endswith(" installed")


def dependencies(deb: Path) -> list[str]:
    """Package names of a ``.deb``'s ``Depends`` (the first of each ``a | b`` choice, no versions)."""
    depends = _run(["dpkg-deb", "-f", str(deb), "Depends"]).stdout
    return [re.split(r"[\s(:]", choice.split("|")[0].strip())[0] for choice in depends.split(",") if choice.strip()]


def unpack(package: str, root: Path) -> None:
    """Download ``package`` and its dependencies that are not installed, and unpack them under ``root``.

    Raises ``ToolMissing`` with apt's message when a download fails.
    """
    with tempfile.TemporaryDirectory() as download:
        wanted, seen = [package], set()
        while wanted:
            name = wanted.pop()
            if name in seen:
                continue
            seen.add(name)
            result = _run(["apt-get", "download", "-q", name], cwd=Path(download))
            if result.returncode != 0:
                raise ToolMissing(f"apt-get download {name} failed: {result.stderr.strip() or result.stdout.strip()}")
            (deb,) = Path(download).glob(f"{name}_*.deb")
            wanted += [dependency for dependency in dependencies(deb) if not _installed(dependency)]
        for deb in sorted(Path(download).glob("*.deb")):
            result = _run(["dpkg", "-x", str(deb), str(root)])
            if result.returncode != 0:
                raise ToolMissing(f"dpkg -x {deb.name} failed: {result.stderr.strip()}")


def tool_environment(root: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` with the unpacked tree's programs first on PATH and its libraries on LD_LIBRARY_PATH."""
    libraries = [str(path) for path in (root / "usr/lib/x86_64-linux-gnu", root / "lib/x86_64-linux-gnu",
                                        root / "usr/lib/aarch64-linux-gnu", root / "usr/lib") if path.is_dir()]
    if env.get("LD_LIBRARY_PATH"):
        libraries.append(env["LD_LIBRARY_PATH"])
    return {**env, "PATH": os.pathsep.join([str(root / "usr/bin"), str(root / "bin"), env.get("PATH", "")]),
            "LD_LIBRARY_PATH": os.pathsep.join(libraries)}


def with_tool(command: str, package: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """An environment (``env``, default this process's) in which ``command`` runs.

    Unchanged when ``command`` is on PATH; otherwise with ``package`` unpacked into
    ``build/debian-tools/<package>`` (once) and put on PATH. Raises ``ToolMissing`` when
    it cannot be unpacked here or the unpacked ``command --version`` fails.
    """
    env = dict(os.environ if env is None else env)
    if shutil.which(command, path=env.get("PATH")):
        return env
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise ToolMissing(f"{command} is not on PATH and this is no Debian system to unpack {package} from: install {package}")
    root = TOOLS_DIR / package
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(TOOLS_DIR / f".{package}.lock")):
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            unpack(package, root)
            (root / ".complete").touch()
    env = tool_environment(root, env)
    check = subprocess.run([command, "--version"], env=env, capture_output=True, text=True)
    if check.returncode != 0:
        raise ToolMissing(f"{command} unpacked from {package} into {root} does not run: {check.stderr.strip()}")
    return env

"""Scan Terraform with checkov (a policy-as-code scanner), offline, from a venv of its own.

checkov pins an older ``packaging`` than pytest needs, so it cannot live in ``.venv``: it
gets a cached venv of its own from ``tests/checkov/requirements.txt`` (see
``tests/support/project_venv.py``). Offline runs need ``--skip-download`` (otherwise it
tries to fetch its guidelines and logs a traceback). It does not descend into hidden folders
such as ``.mlops-setup-scripts/``, so callers pass every Terraform folder explicitly.

A check that does not apply is skipped in the Terraform file itself, next to the resource,
with the reason (``# checkov:skip=CKV_XXX_1: why``), so a reviewer sees both together.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tests.support.project_venv import ensure_project_venv
from tests.support.variants import TEMPLATE_DIR

REQUIREMENTS = TEMPLATE_DIR / "tests" / "checkov" / "requirements.txt"


@dataclass(frozen=True)
class Finding:
    """One failed or skipped checkov check on one resource."""

    check_id: str
    check_name: str
    file: str  # absolute path of the .tf file
    resource: str
    guideline: str
    suppress_comment: str = ""

    def describe(self, root: Path | None = None) -> str:
        file = self.file
        if root is not None and Path(file).is_relative_to(root):
            file = Path(file).relative_to(root).as_posix()
        return f"{file}: {self.resource}: {self.check_id} {self.check_name}"


def ensure_checkov() -> Path:
    """Path of the ``checkov`` executable in its own cached venv (built on first use)."""
    return ensure_project_venv([REQUIREMENTS]).parent / "checkov"


def scan(folders: Sequence[Path], workdir: Path) -> tuple[list[Finding], list[Finding]]:
    """(failed, skipped) checkov findings for the ``.tf`` files directly in each of ``folders``.

    One checkov run covers them all: each folder's files are copied to ``workdir/<index>``
    (checkov ignores every path below a hidden folder such as ``.mlops-setup-scripts``), and
    findings name the original files. Raises RuntimeError when checkov itself fails.
    """
    if not folders:
        return [], []
    originals: dict[Path, Path] = {}
    for index, folder in enumerate(folders):
        copy = workdir / f"folder-{index}"
        copy.mkdir(parents=True)
        for path in folder.glob("*.tf"):
            shutil.copyfile(path, copy / path.name)
            originals[(copy / path.name).resolve()] = path
    command = [
        str(ensure_checkov()), "--framework", "terraform", "--skip-download", "--output", "json",
        "--directory", str(workdir),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    reports = []
    # One JSON document, a list of them, or (for folders without resources) several in a row.
    decoder, text, position = json.JSONDecoder(), result.stdout, 0
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        document, position = decoder.raw_decode(text, position)
        reports += document if isinstance(document, list) else [document]
    failed: dict[tuple, Finding] = {}
    skipped: dict[tuple, Finding] = {}
    for report in reports:
        results = report.get("results", {}) if isinstance(report, dict) else {}
        for kind, target in (("failed_checks", failed), ("skipped_checks", skipped)):
            for check in results.get(kind, []):
                finding = Finding(
                    check_id=check["check_id"],
                    check_name=check.get("check_name", ""),
                    file=str(originals.get(Path(check["file_abs_path"]).resolve(), check["file_abs_path"])),
                    resource=check.get("resource", ""),
                    guideline=check.get("guideline") or "",
                    suppress_comment=(check.get("check_result") or {}).get("suppress_comment", "") or "",
                )
                target[(finding.check_id, finding.file, finding.resource)] = finding
    return list(failed.values()), list(skipped.values())

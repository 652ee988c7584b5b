"""The distinct Terraform module folders of a set of generated projects.

Slow checks (provider schemas, checkov) run once per distinct folder content rather than
once per variant: most variants share most of their Terraform.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from tests.support.terraform_refs import module_folders

TERRAFORM_TREES = ("databricks-config", ".mlops-setup-scripts")


@dataclass(frozen=True)
class TerraformFolder:
    """One module folder, and the variants whose projects hold the same ``.tf`` files there."""

    path: Path  # inside the first project that has it
    relative: str  # e.g. ".mlops-setup-scripts/cicd"
    variant_ids: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.relative} ({', '.join(self.variant_ids)})"


def _content_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.tf")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def distinct_terraform_folders(projects: Mapping[str, Path]) -> list[TerraformFolder]:
    """Module folders of ``projects`` (variant id -> project root), one per distinct content.

    Two folders count as the same when their relative path and every ``.tf`` file in them
    (names and bytes) are equal; module calls between folders are covered because the called
    folder is itself one of the folders.
    """
    seen: dict[tuple[str, str], tuple[Path, list[str]]] = {}
    for variant_id, project in projects.items():
        for tree in TERRAFORM_TREES:
            for folder in module_folders(project / tree):
                relative = folder.relative_to(project).as_posix()
                key = (relative, _content_digest(folder))
                seen.setdefault(key, (folder, []))[1].append(variant_id)
    return [TerraformFolder(path, relative, tuple(ids)) for (relative, _), (path, ids) in sorted(seen.items())]

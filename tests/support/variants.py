"""The supported variants of the template, defined once for every test.

A variant is one combination of cloud, CI/CD platform and feature store. The choices
come from ``cookiecutter.json``; the refused ones from ``hooks/variants.py``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from hooks.variants import unsupported_reason

TEMPLATE_DIR = Path(__file__).resolve().parents[2]
COOKIECUTTER_JSON = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())

_CICD_IDS = {"GitHub Actions": "github", "Azure DevOps": "azuredevops", "GitLab": "gitlab"}


@dataclass(frozen=True)
class Variant:
    cloud: str
    cicd_platform: str
    include_feature_store: str

    @property
    def id(self) -> str:
        """Readable test id, e.g. ``aws-github-nofs``."""
        fs = "fs" if self.feature_store else "nofs"
        return f"{self.cloud}-{_CICD_IDS[self.cicd_platform]}-{fs}"

    @property
    def feature_store(self) -> bool:
        return self.include_feature_store == "yes"

    @property
    def github(self) -> bool:
        return self.cicd_platform == "GitHub Actions"

    def answers(self) -> dict[str, str]:
        return {
            "cloud": self.cloud,
            "cicd_platform": self.cicd_platform,
            "include_feature_store": self.include_feature_store,
        }


ALL_VARIANTS = [
    Variant(*combination)
    for combination in itertools.product(
        COOKIECUTTER_JSON["cloud"], COOKIECUTTER_JSON["cicd_platform"], COOKIECUTTER_JSON["include_feature_store"]
    )
]
SUPPORTED_VARIANTS = [v for v in ALL_VARIANTS if unsupported_reason(*v.answers().values()) is None]
UNSUPPORTED_VARIANTS = [v for v in ALL_VARIANTS if v not in SUPPORTED_VARIANTS]
FEATURE_STORE_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.feature_store]
RECIPE_VARIANTS = [v for v in SUPPORTED_VARIANTS if not v.feature_store]
GITHUB_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.github]
AZURE_DEVOPS_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == "Azure DevOps"]
GITLAB_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == "GitLab"]

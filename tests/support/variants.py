"""The supported variants of the template, defined once for every test.

A variant is one combination of cloud, CI/CD platform, feature store, MLflow Recipes and
Unity Catalog. The choices come from ``cookiecutter.json`` (``include_mlflow_recipes`` is a
yes/no text prompt there); the refused ones from ``hooks/variants.py`` and the validation
rules that keep MLflow Recipes apart from the feature store and from Unity Catalog.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hooks.derived import default_include_mlflow_recipes, ml_code

from hooks.validation import check_mlflow_recipes_without_feature_store, check_mlflow_recipes_without_unity_catalog
from hooks.variants import unsupported_reason

TEMPLATE_DIR = Path(__file__).resolve().parents[2]
COOKIECUTTER_JSON = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
# Answers a specialised fork fixed for good (``make specialize``; hooks/fixed_answers.py): they are
# no longer prompts, and generation must not be given them.
FIXED_ANSWERS: dict[str, str] = COOKIECUTTER_JSON.get("_fixed_answers", {})


def choices(prompt: str) -> list[str]:
    """The choices of a choice prompt: its list in cookiecutter.json, or its fixed answer."""
    return [FIXED_ANSWERS[prompt]] if prompt in FIXED_ANSWERS else list(COOKIECUTTER_JSON[prompt])

_CICD_IDS = {"GitHub Actions": "github", "Azure DevOps": "azuredevops", "GitLab": "gitlab"}


@dataclass(frozen=True)
class Variant:
    cloud: str
    cicd_platform: str
    include_feature_store: str
    # None: the template's default for the answers (yes without the feature store and Unity Catalog).
    include_mlflow_recipes: Optional[str] = None
    include_models_in_unity_catalog: str = "no"

    def __post_init__(self) -> None:
        if self.include_mlflow_recipes is None:
            default = default_include_mlflow_recipes(
                {
                    "include_feature_store": self.include_feature_store,
                    "include_models_in_unity_catalog": self.include_models_in_unity_catalog,
                }
            )
            object.__setattr__(self, "include_mlflow_recipes", default)

    @property
    def id(self) -> str:
        """Readable test id, e.g. ``aws-github-nofs`` (Recipes), ``aws-github-mlflow3``, ``aws-github-fs``,
        ``aws-github-mlflow3-unity`` (Unity Catalog)."""
        code = {"feature_store": "fs", "mlflow_recipes": "nofs", "mlflow3": "mlflow3"}[self.ml_code]
        if self.feature_store and self.include_mlflow_recipes == "yes":
            code = "fs-recipes"  # refused
        elif self.unity_catalog and self.include_mlflow_recipes == "yes":
            code = "recipes"  # refused
        return f"{self.cloud}-{_CICD_IDS[self.cicd_platform]}-{code}" + ("-unity" if self.unity_catalog else "")

    @property
    def unity_catalog(self) -> bool:
        """Models and predictions live in Unity Catalog (the project gets unity-catalog.json)."""
        return self.include_models_in_unity_catalog == "yes"

    @property
    def feature_store(self) -> bool:
        """The feature-store track (features/ instead of the Recipes steps)."""
        return self.include_feature_store == "yes"

    @property
    def ml_code(self) -> str:
        """``mlflow_recipes``, ``feature_store`` or ``mlflow3`` (hooks/derived.py)."""
        return ml_code(self.answers())

    @property
    def mlflow3(self) -> bool:
        """The plain MLflow 3 code (no Recipes, no feature store)."""
        return self.ml_code == "mlflow3"

    @property
    def github(self) -> bool:
        """GitHub Actions, the one platform whose workflows actionlint and act can run locally."""
        return self.cicd_platform == "GitHub Actions"

    def answers(self) -> dict[str, str]:
        """The variant's answers by prompt name (the fields are named after the prompts)."""
        return dataclasses.asdict(self)


# A yes/no text prompt has no choice list in cookiecutter.json.
YES_NO = ["yes", "no"]
ALL_VARIANTS = [
    Variant(*combination)
    for combination in itertools.product(
        choices("cloud"),
        choices("cicd_platform"),
        choices("include_feature_store"),
        YES_NO,
        choices("include_models_in_unity_catalog"),
    )
]


def _refused(variant: Variant) -> bool:
    return (
        unsupported_reason(
            variant.cloud, variant.cicd_platform, variant.include_feature_store, variant.include_models_in_unity_catalog
        )
        is not None
        or check_mlflow_recipes_without_feature_store(variant.include_feature_store, variant.include_mlflow_recipes)
        is not None
        or check_mlflow_recipes_without_unity_catalog(
            variant.include_models_in_unity_catalog, variant.include_mlflow_recipes
        )
        is not None
    )


SUPPORTED_VARIANTS = [v for v in ALL_VARIANTS if not _refused(v)]
UNSUPPORTED_VARIANTS = [v for v in ALL_VARIANTS if v not in SUPPORTED_VARIANTS]
FEATURE_STORE_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.feature_store]
# The MLflow Recipes code (the default without the feature store).
RECIPE_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.ml_code == "mlflow_recipes"]
MLFLOW3_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.mlflow3]
UNITY_CATALOG_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.unity_catalog]
GITHUB_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.github]
AZURE_DEVOPS_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == "Azure DevOps"]
GITLAB_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == "GitLab"]


def covering_pairs(preferred: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(cloud, CI/CD platform) pairs in which every offered cloud and every offered platform occurs:
    the ``preferred`` pairs this template still offers, then the first offered pair for each cloud or
    platform not covered yet. A specialised fork (``make specialize``) gets the pairs it can
    generate, and the unspecialised template exactly ``preferred`` when those cover everything."""
    offered = [(c, p) for c in choices("cloud") for p in choices("cicd_platform")]
    chosen = [pair for pair in preferred if pair in offered]
    for cloud, platform in offered:
        if cloud not in {c for c, _ in chosen} or platform not in {p for _, p in chosen}:
            chosen.append((cloud, platform))
    return chosen

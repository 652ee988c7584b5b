"""The post-generation hook drops exactly the files of unchosen options."""

from __future__ import annotations

from pathlib import Path

import pytest

from hooks import pruning
from hooks.pruning import OWNERS, paths_to_remove
from tests.support.generation import TEST_ANSWERS
from tests.support.variants import TEMPLATE_DIR, Variant

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_name}}"


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def is_removed(relative: str, removed: list[str]) -> bool:
    return any(relative == r or relative.startswith(r + "/") for r in removed)


def test_every_owned_path_exists_in_the_template() -> None:
    """A row that names a missing path would silently prune nothing."""
    missing = [path for paths in OWNERS.values() for path in paths if not (PROJECT_TEMPLATE / path).exists()]
    assert missing == []


def test_generated_tree_is_template_minus_pruned_paths(variant: Variant, generated_project: Path) -> None:
    removed = paths_to_remove({**TEST_ANSWERS, **variant.answers()})
    expected = {f for f in files_under(PROJECT_TEMPLATE) if not is_removed(f, removed)}
    assert files_under(generated_project) == expected


def test_no_file_of_an_unchosen_option_is_left(variant: Variant, generated_project: Path) -> None:
    leaked = [p for p in paths_to_remove({**TEST_ANSWERS, **variant.answers()}) if (generated_project / p).exists()]
    assert leaked == []


def test_variant_specific_files(variant: Variant, generated_project: Path) -> None:
    """Spot checks that do not depend on the table (the original leaked two notebooks)."""
    exists = lambda path: (generated_project / path).exists()  # noqa: E731
    assert exists("notebooks/TrainWithFeatureStore.py") == variant.feature_store
    assert exists("notebooks/GenerateAndWriteFeatures.py") == variant.feature_store
    assert exists("features") == variant.feature_store
    assert exists("recipe.yaml") == (variant.ml_code == "mlflow_recipes")
    assert exists("fare_model") == variant.mlflow3
    assert exists("steps/deploy.py") != variant.mlflow3
    assert exists("notebooks/Train.py") != variant.feature_store
    assert exists(".github") == variant.github
    assert exists(".azure") != variant.github
    assert exists(".mlops-setup-scripts/terraform/main-aws.tf") == (variant.cloud == "aws")
    assert exists(".mlops-setup-scripts/terraform/main-azure.tf") == (variant.cloud == "azure")
    assert exists(".mlops-setup-scripts/terraform/main-gcp.tf") == (variant.cloud == "gcp")


def test_a_path_kept_by_any_choice_of_one_parameter_and_every_owning_parameter(monkeypatch) -> None:
    table = {
        ("cloud", "azure"): ("shared-by-clouds", "azure-only"),
        ("cloud", "gcp"): ("shared-by-clouds",),
        ("cicd_platform", "GitHub Actions"): ("azure-only",),
    }
    monkeypatch.setattr(pruning, "OWNERS", table)
    answers = {"project_name": "p", "cloud": "gcp", "cicd_platform": "GitHub Actions"}
    assert paths_to_remove(answers) == ["_params_testing_only.txt", "azure-only"]
    answers = {"project_name": pruning.TEST_PROJECT_NAME, "cloud": "azure", "cicd_platform": "Azure DevOps"}
    assert paths_to_remove(answers) == ["azure-only"]
    answers = {"project_name": "p", "cloud": "aws", "cicd_platform": "GitHub Actions"}
    assert paths_to_remove(answers) == ["_params_testing_only.txt", "azure-only", "shared-by-clouds"]


@pytest.mark.parametrize("name", ["my-mlops-project", pruning.TEST_PROJECT_NAME])
def test_params_file_rule(name: str) -> None:
    removed = paths_to_remove({"project_name": name, "cloud": "aws", "cicd_platform": "GitHub Actions",
                               "include_feature_store": "no"})
    assert (pruning.PARAMS_TESTING_ONLY_FILE in removed) == (name != pruning.TEST_PROJECT_NAME)

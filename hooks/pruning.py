"""Which generated paths belong to which answer, and so which ones a variant drops.

``OWNERS`` maps each (parameter, choice) to the paths that exist only for that choice.
A path is kept when, for every parameter that owns it, the chosen value is one of its
owners; otherwise the post-generation hook deletes it. Paths that no choice owns are
always kept. Extend the table, never the hook, when a component adds variant files.
"""

from __future__ import annotations

from typing import Mapping

TEST_PROJECT_NAME = "27896cf3-bb3e-476e-8129-96df0406d5c7"
PARAMS_TESTING_ONLY_FILE = "_params_testing_only.txt"

OWNERS: dict[tuple[str, str], tuple[str, ...]] = {
    # MLflow Recipes code: only without the feature store.
    ("include_feature_store", "no"): (
        "recipe.yaml",
        "profiles",
        "notebooks/Train.py",
        "steps/ingest.py",
        "steps/split.py",
        "steps/transform.py",
        "steps/train.py",
        "steps/custom_metrics.py",
        "steps/scoring.py",
        "tests/steps",
        "local_pipeline/recipe.py",
        "docs/ml-developer-guide.md",
        ".github/workflows/run-tests.yml",
    ),
    # Feature Store code: only with the feature store.
    ("include_feature_store", "yes"): (
        "features",
        "notebooks/GenerateAndWriteFeatures.py",
        "notebooks/TrainWithFeatureStore.py",
        "tests/features",
        "local_pipeline/feature_store.py",
        "databricks-config/modules/ml-resources/write-feature-table-job.tf",
        ".github/workflows/run-tests-fs.yml",
        "docs/ml-developer-guide-fs.md",
    ),
    ("cloud", "azure"): (
        ".mlops-setup-scripts/terraform/main-azure.tf",
        ".mlops-setup-scripts/terraform/variables-azure.tf",
        ".mlops-setup-scripts/cicd/main-azure.tf",
    ),
    ("cloud", "aws"): (
        ".mlops-setup-scripts/terraform/main-aws.tf",
        ".mlops-setup-scripts/cicd/main-aws.tf",
    ),
    ("cloud", "gcp"): (
        ".mlops-setup-scripts/terraform/main-gcp.tf",
        ".mlops-setup-scripts/terraform/variables-gcp.tf",
        ".mlops-setup-scripts/cicd/main-gcp.tf",
    ),
    ("cicd_platform", "GitHub Actions"): (
        ".github",
        ".mlops-setup-scripts/cicd/github.tf",
    ),
    ("cicd_platform", "Azure DevOps"): (
        ".azure",
        ".mlops-setup-scripts/cicd/azure-devops.tf",
    ),
}


def paths_to_remove(answers: Mapping[str, str]) -> list[str]:
    """Paths (relative to the project root) that the chosen answers do not own."""
    owners_by_path: dict[str, dict[str, set[str]]] = {}
    for (parameter, choice), paths in OWNERS.items():
        for path in paths:
            owners_by_path.setdefault(path, {}).setdefault(parameter, set()).add(choice)
    remove = [
        path
        for path, owners in owners_by_path.items()
        if any(answers[parameter] not in choices for parameter, choices in owners.items())
    ]
    if answers["project_name"] != TEST_PROJECT_NAME:
        remove.append(PARAMS_TESTING_ONLY_FILE)
    return sorted(remove)

"""Every variant keeps the original MLOps Stack's file names (a contract point).

Users follow the original's docs and their own scripts by path, so each path the original
generated for a variant exists under the same name here (the lists below come from the
reference pages on the original's layout). Improvements may add files, never rename these.

Accepted deviations, which the lists leave out on purpose:

- no ``__init__.py`` files under ``.mlops-setup-scripts/`` (the bootstrap scripts run as
  scripts, not as a package);
- feature-store projects have no MLflow Recipes step files (``steps/ingest.py`` ...) and no
  recipe test workflow (``run-tests.yml``): their training does not use the recipe; and, on
  MLflow 3, no ``steps/deploy.py`` (registry stages): CD moves the ``champion`` alias with
  ``python -m fare_model.deployment``, as the MLflow 3 track does;
- staging and prod call one shared Terraform module for their resources, so each
  environment's folder keeps only provider, variables, locals and outputs (plus ``main.tf``);
- the docs draw their diagrams in Mermaid instead of shipping ``docs/images/*.png``;
- gcp, which the original lacked, names its CI/CD bootstrap file as it likes;
- no ``generate-aad-token.sh`` on azure: CI signs in to Databricks with workload identity
  federation, so no script turns a client secret into an AAD token;
- options the original lacked have layouts of their own: the MLflow 3 track
  (``include_mlflow_recipes=no``) replaces the Recipes files but keeps the notebook names and
  the step tests of the steps it shares, and GitLab keeps its CI/CD in ``.gitlab-ci.yml`` and
  ``.gitlab/ci/``.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.variants import SUPPORTED_VARIANTS, Variant

ALWAYS = (
    "README.md",
    ".gitignore",
    "requirements.txt",
    "test-requirements.txt",
    "pytest.ini",
    "data/sample.parquet",
    "docs/project-overview.md",
    "docs/mlops-setup.md",
    "docs/ml-pull-request.md",
    "notebooks/BatchInference.py",
    "notebooks/ModelValidation.py",
    "notebooks/TriggerModelDeploy.py",
    "steps/utils.py",
    "tests/__init__.py",
    "databricks-config/README.md",
    *(f"databricks-config/{env}/{name}.tf" for env in ("staging", "prod") for name in ("provider", "variables", "locals", "outputs")),
    ".mlops-setup-scripts/README.md",
    ".mlops-setup-scripts/terraform/bootstrap.py",
    ".mlops-setup-scripts/cicd/bootstrap.py",
    ".mlops-setup-scripts/cicd/provider.tf",
    ".mlops-setup-scripts/cicd/variables.tf",
    ".mlops-setup-scripts/cicd/common/main.tf",
    ".mlops-setup-scripts/cicd/common/provider.tf",
    ".mlops-setup-scripts/cicd/common/variables.tf",
)

MLFLOW_RECIPES = (
    "recipe.yaml",
    *(f"profiles/{name}.yaml" for name in ("local", "databricks-dev", "databricks-test", "databricks-staging", "databricks-prod")),
    "notebooks/Train.py",
    "steps/deploy.py",
    "tests/test_notebooks.py",
    *(f"steps/{name}.py" for name in ("ingest", "split", "transform", "train", "custom_metrics", "predict")),
    *(f"tests/{step}_test.py" for step in ("ingest", "split", "train", "transform")),
    "tests/test_sample.parquet",
    "docs/ml-developer-guide.md",
)

# The MLflow 3 track (no original counterpart): the step tests keep their names; the model's
# feature and estimator code is model_spec/'s, as on every track (the recipe's steps/transform.py
# and steps/train.py only name it for recipe.yaml). It has no split step: fare_model/data.py
# holds out the newest trips (no Recipes split there).
MLFLOW3 = (
    "notebooks/Train.py",
    *(f"tests/{step}_test.py" for step in ("train", "transform")),
    "tests/test_sample.parquet",
    "fare_model/training.py",
    "fare_model/validation.py",
    "fare_model/deployment.py",
    "fare_model/batch_inference.py",
    "docs/ml-developer-guide-mlflow3.md",
)

FEATURE_STORE = (
    "tests/test_notebooks.py",
    "fare_model/validation.py",
    "fare_model/deployment.py",
    "features/pickup_features.py",
    "features/dropoff_features.py",
    "features/pickup_features_test.py",
    "features/dropoff_features_test.py",
    "notebooks/GenerateAndWriteFeatures.py",
    "notebooks/TrainWithFeatureStore.py",
    "docs/ml-developer-guide-fs.md",
)

CLOUD = {
    "aws": (".mlops-setup-scripts/terraform/main-aws.tf", ".mlops-setup-scripts/cicd/main-aws.tf"),
    "azure": (
        ".mlops-setup-scripts/terraform/main-azure.tf",
        ".mlops-setup-scripts/terraform/variables.tf",
        ".mlops-setup-scripts/cicd/main-azure.tf",
    ),
    "gcp": (".mlops-setup-scripts/terraform/main-gcp.tf", ".mlops-setup-scripts/terraform/variables.tf"),
}

# GitLab (no original counterpart): a root file and one job file per concern.
GITLAB = (
    ".gitlab-ci.yml",
    ".gitlab/ci/README.md",
    ".gitlab/ci/tests.gitlab-ci.yml",
    ".gitlab/ci/terraform.gitlab-ci.yml",
    ".gitlab/ci/deploy-model.gitlab-ci.yml",
    ".mlops-setup-scripts/cicd/gitlab.tf",
)

GITHUB_ACTIONS = tuple(
    f".github/workflows/{name}"
    for name in (
        "README.md",
        "terraform-ci.yml",
        "terraform-cd.yml",
        "deploy-model-staging.yml",
        "deploy-model-prod.yml",
        "lint-cicd-workflow-files.yml",
    )
)

AZURE_DEVOPS = (
    ".azure/devops-pipelines/README.md",
    ".azure/devops-pipelines/tests-ci.yml",
    ".azure/devops-pipelines/terraform-cicd.yml",
    ".mlops-setup-scripts/cicd/azure-devops.tf",
)

# Names this template used before it restored the original's: none may come back.
FORMER_NAMES = (
    "steps/scoring.py",
    *(f"tests/steps/test_{step}.py" for step in ("ingest", "split", "train", "transform")),
    "tests/steps/test_sample.parquet",
    "tests/features/test_pickup_features.py",
    "tests/features/test_dropoff_features.py",
    ".mlops-setup-scripts/terraform/variables-azure.tf",
    ".mlops-setup-scripts/terraform/variables-gcp.tf",
)


def reference_layout(variant: Variant) -> set[str]:
    """The original's paths for ``variant``, less the accepted deviations (module docstring)."""
    paths = {*ALWAYS, *CLOUD[variant.cloud]}
    paths |= set({"feature_store": FEATURE_STORE, "mlflow3": MLFLOW3, "mlflow_recipes": MLFLOW_RECIPES}[variant.ml_code])
    if variant.github:
        paths |= {*GITHUB_ACTIONS, ".github/workflows/run-tests-fs.yml" if variant.feature_store else ".github/workflows/run-tests.yml"}
    elif variant.cicd_platform == "GitLab":
        paths |= set(GITLAB)
    else:
        paths |= set(AZURE_DEVOPS)
    return paths


def other_variants_paths(variant: Variant) -> set[str]:
    """Paths that only other variants have in the reference layout."""
    return set().union(*(reference_layout(v) for v in SUPPORTED_VARIANTS)) - reference_layout(variant)


def test_every_reference_path_exists(variant: Variant, generated_project: Path) -> None:
    missing = sorted(path for path in reference_layout(variant) if not (generated_project / path).is_file())
    assert missing == [], f"{variant.id} lacks the original's paths {missing}"


def test_no_path_of_another_variant_exists(variant: Variant, generated_project: Path) -> None:
    foreign = sorted(path for path in other_variants_paths(variant) if (generated_project / path).exists())
    assert foreign == [], f"{variant.id} has paths that belong to other variants: {foreign}"


def test_no_former_name_is_left(variant: Variant, generated_project: Path) -> None:
    former = [path for path in FORMER_NAMES if (generated_project / path).exists()]
    if variant.cloud == "aws":
        former += [p for p in [".mlops-setup-scripts/cicd/main-aws-gcp.tf"] if (generated_project / p).exists()]
    assert former == [], f"{variant.id} still uses the template's former names {former}"


def test_one_cicd_bootstrap_for_the_chosen_cloud(variant: Variant, generated_project: Path) -> None:
    """Exactly one CI/CD bootstrap ``main-<cloud>.tf``, whatever name gcp gives its own."""
    bootstraps = sorted(p.name for p in (generated_project / ".mlops-setup-scripts" / "cicd").glob("main-*.tf"))
    assert len(bootstraps) == 1 and variant.cloud in bootstraps[0], bootstraps

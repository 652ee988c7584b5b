"""Which generated paths belong to which answer, and so which ones a variant drops.

``OWNERS`` maps each (parameter, choice) to the paths that exist only for that choice.
A path is kept when, for every parameter that owns it, the chosen value is one of its
owners; otherwise the post-generation hook deletes it. Paths that no choice owns are
always kept. A parameter may also be a derived value (hooks/derived.py), such as
``ml_code``, where paths belong to a combination of answers. Extend the table, never
the hook, when a component adds variant files.

Pruning never deletes a path that existed before the run (``snapshot`` before, ``prune``
after): regenerating with ``-f`` over a project keeps every file already in a pruned folder,
such as a custom workflow in ``.github/`` when switching to Azure DevOps or an edited module in
``features/`` when dropping the feature store, with its earlier content, and lists it in a warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional

from .derived import DERIVED_NAMES, derived_value
from .fixed_answers import with_fixed_answers

TEST_PROJECT_NAME = "27896cf3-bb3e-476e-8129-96df0406d5c7"
PARAMS_TESTING_ONLY_FILE = "_params_testing_only.txt"

# fare_model/ holds the MLflow 3 code. Its registry aliases, validation and deployment
# modules serve both MLflow 3 tracks (plain and feature store); the plain track alone has
# these modules (the feature-store track trains and scores in features/).
_PLAIN_MLFLOW3_MODULES = (
    "fare_model/data.py",
    "fare_model/training.py",
    "fare_model/model_code.py",
    "fare_model/batch_inference.py",
)
# Stage-based deployment, validation and batch inference of the MLflow Recipes track (MLflow 2).
_RECIPES_DEPLOYMENT_CODE = (
    "steps/deploy.py",
    "steps/model_validation.py",
    "steps/batch_inference.py",
    "tests/test_batch_inference.py",
    "tests/test_deploy.py",
    "tests/test_model_validation.py",
)
# Databricks source-format checks of the notebooks (and the Recipes ModelValidation's
# parameters); the plain MLflow 3 track runs its notebooks in tests/fare_model/ instead.
_NOTEBOOK_FORMAT_TESTS = "tests/test_notebooks.py"

OWNERS: dict[tuple[str, str], tuple[str, ...]] = {
    # MLflow Recipes code: only without the feature store.
    ("include_feature_store", "no"): (
        "recipe.yaml",
        "profiles",
        "notebooks/Train.py",
        "steps/ingest.py",
        "steps/transform.py",
        "steps/train.py",
        "steps/model_version.py",
        "steps/custom_metrics.py",
        "steps/predict.py",
        "tests/conftest.py",
        "tests/test_sample.parquet",
        "tests/ingest_test.py",
        "tests/transform_test.py",
        "tests/train_test.py",
        "tests/test_custom_metrics.py",
        "tests/test_recipe_config.py",
        "tests/test_predict.py",
        "local_pipeline/recipe.py",
        "docs/ml-developer-guide.md",
        ".github/workflows/run-tests.yml",
        # The model's features and estimator (raw trips in): the feature-store track fits its own
        # (features/training.py build_model) on the feature tables' columns.
        "model_spec/features.py",
        "model_spec/estimator.py",
        "tests/test_model_spec_fit.py",
        # Spark scoring through the model's prediction rule with a pyfunc UDF; the feature store
        # scores through its own score_batch (features/scoring.py).
        "steps/prediction_type.py",
    ),
    # Feature Store code: only with the feature store.
    ("include_feature_store", "yes"): (
        "features",
        "notebooks/GenerateAndWriteFeatures.py",
        "notebooks/TrainWithFeatureStore.py",
        "notebooks/DropCiFeatureTables.py",
        "tests/features",
        "local_pipeline/feature_store.py",
        "databricks-config/modules/ml-resources/write-feature-table-job.tf",
        ".github/workflows/run-tests-fs.yml",
        "docs/ml-developer-guide-fs.md",
    ),
    # Which ML code (hooks/derived.py: ml_code): files of the MLflow Recipes track only,
    # files that the two MLflow 3 tracks (plain and feature store) share, and the plain one's own.
    ("ml_code", "mlflow_recipes"): (
        "recipe.yaml",
        "profiles",
        "steps/ingest.py",
        "steps/split.py",
        # The recipe's transformer_method and estimator_method: the model's (model_spec/), by name.
        "steps/transform.py",
        "steps/train.py",
        "steps/custom_metrics.py",
        "tests/transform_pickle_test.py",
        "steps/predict.py",
        "tests/test_recipe_config.py",
        "tests/ingest_test.py",
        "tests/split_test.py",
        "tests/test_custom_metrics.py",
        "tests/test_predict.py",
        "local_pipeline/recipe.py",
        "docs/ml-developer-guide.md",
        *_RECIPES_DEPLOYMENT_CODE,
        _NOTEBOOK_FORMAT_TESTS,
    ),
    ("ml_code", "feature_store"): ("fare_model", _NOTEBOOK_FORMAT_TESTS),
    ("ml_code", "mlflow3"): (
        "fare_model",
        *_PLAIN_MLFLOW3_MODULES,
        "tests/fare_model",
        "local_pipeline/mlflow3.py",
        "docs/ml-developer-guide-mlflow3.md",
    ),
    # Unity Catalog: its names (read by the ML code and Terraform), the ML code's seam, its tests.
    ("include_models_in_unity_catalog", "yes"): (
        "databricks-config/unity-catalog.json",
        "databricks-config/modules/ml-resources/unity-catalog.tf",
        "fare_model/unity_catalog.py",
        "tests/fare_model/test_unity_catalog.py",
    ),
    ("cloud", "azure"): (
        ".mlops-setup-scripts/terraform/main-azure.tf",
        ".mlops-setup-scripts/terraform/variables.tf",
        ".mlops-setup-scripts/cicd/main-azure.tf",
    ),
    ("cloud", "aws"): (
        ".mlops-setup-scripts/terraform/main-aws.tf",
        ".mlops-setup-scripts/cicd/main-aws.tf",
    ),
    ("cloud", "gcp"): (
        ".mlops-setup-scripts/terraform/main-gcp.tf",
        ".mlops-setup-scripts/terraform/variables.tf",
        ".mlops-setup-scripts/cicd/main-gcp.tf",
        ".azure/devops-pipelines/scripts/sign-in-to-gcp-state.sh",
    ),
    ("cicd_platform", "GitHub Actions"): (
        ".github",
        ".mlops-setup-scripts/cicd/github.tf",
    ),
    ("cicd_platform", "Azure DevOps"): (
        ".azure",
        ".mlops-setup-scripts/cicd/azure-devops.tf",
    ),
    ("cicd_platform", "GitLab"): (
        ".gitlab-ci.yml",
        ".gitlab",
        ".mlops-setup-scripts/cicd/gitlab.tf",
        ".mlops-setup-scripts/cicd/gitlab-variables.tf",
    ),
}


def _answer(answers: Mapping[str, str], parameter: str) -> str:
    """The answer to ``parameter``, or the derived value of that name."""
    if parameter in answers or parameter not in DERIVED_NAMES:
        return answers[parameter]
    return derived_value(answers, parameter)


def paths_to_remove(answers: Mapping[str, str]) -> list[str]:
    """Paths (relative to the project root) that the chosen answers do not own."""
    answers = with_fixed_answers(answers)
    owners_by_path: dict[str, dict[str, set[str]]] = {}
    for (parameter, choice), paths in OWNERS.items():
        for path in paths:
            owners_by_path.setdefault(path, {}).setdefault(parameter, set()).add(choice)
    remove = [
        path
        for path, owners in owners_by_path.items()
        if any(_answer(answers, parameter) not in choices for parameter, choices in owners.items())
    ]
    if answers["project_name"] != TEST_PROJECT_NAME:
        remove.append(PARAMS_TESTING_ONLY_FILE)
    return sorted(remove)


# --- pruning without deleting what was there before --------------------------------------------


def snapshot(project: Path, relative_paths: Iterable[str], backup: Optional[Path] = None) -> list[str]:
    """Every file, symlink and folder under ``relative_paths`` of ``project`` before generation writes.

    Returns their paths relative to ``project``, sorted. With ``backup``, every regular file among
    them is also copied there (same relative path, metadata kept), so that ``prune`` can undo
    ``cookiecutter -f`` rewriting it. Taken by the pre-generation hook, which runs in the project
    folder before any file is rendered.
    """
    import shutil

    found: list[str] = []
    for relative in relative_paths:
        top = project / relative
        for path in [top, *top.rglob("*")] if top.is_dir() and not top.is_symlink() else [top]:
            if not (path.exists() or path.is_symlink()):
                continue
            name = str(path.relative_to(project))
            found.append(name)
            if backup is not None and path.is_file() and not path.is_symlink():
                (backup / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, backup / name)
    return sorted(found)


def prune(project: Path, relative_paths: Iterable[str], existed: Iterable[str],
          backup: Optional[Path] = None) -> list[str]:
    """Delete what this run created under ``relative_paths``; keep every path that ``existed``.

    ``existed`` is the ``snapshot`` taken before generation. A path in it is never deleted: a file
    that ``cookiecutter -f`` rewrote gets its earlier content back from ``backup`` (when given), so
    a user's edits survive. Folders are removed only when they became empty and did not exist
    before. Returns the kept files (relative paths, sorted), to list in a warning.
    """
    import filecmp
    import shutil

    before = set(existed)
    kept: list[str] = []
    for relative in relative_paths:
        top = project / relative
        if not (top.exists() or top.is_symlink()):
            continue
        files = [top] if not top.is_dir() else sorted(p for p in top.rglob("*") if not p.is_dir() or p.is_symlink())
        for path in files:
            name = str(path.relative_to(project))
            if name not in before:
                path.unlink()
                continue
            kept.append(name)
            saved = backup / name if backup is not None else None
            if saved is not None and saved.is_file() and not path.is_symlink() and not filecmp.cmp(saved, path, shallow=False):
                shutil.copy2(saved, path)
        if top.is_dir() and not top.is_symlink():
            folders = sorted((p for p in [top, *top.rglob("*")] if p.is_dir() and not p.is_symlink()), reverse=True)
            for folder in folders:
                if str(folder.relative_to(project)) not in before and not any(folder.iterdir()):
                    folder.rmdir()
    return sorted(kept)


def format_kept(kept: list[str]) -> str:
    """The warning that lists files kept in folders of options the answers did not choose."""
    lines = "\n".join(f"  - {path}" for path in kept)
    return (
        "Kept files that belong to no chosen option (generation never deletes a file that existed before it ran; "
        f"remove these yourself if you no longer need them):\n{lines}"
    )


def snapshot_file(project: Path) -> Path:
    """Where the pre-generation hook leaves the ``snapshot`` of ``project`` for the post-generation
    hook: a temporary file named after the project's absolute path (the hooks share no memory).
    The backup of the files it lists is ``backup_folder(project)``."""
    import hashlib
    import tempfile

    digest = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mlops-stack-snapshot-{digest}.json"


def backup_folder(project: Path) -> Path:
    """Where the pre-generation hook copies the files its ``snapshot`` lists, for ``prune`` to put
    back what ``cookiecutter -f`` rewrote: the snapshot file's path without ``.json``."""
    return snapshot_file(project).with_suffix("")

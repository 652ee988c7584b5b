"""The post-generation hook drops exactly the files of unchosen options."""

from __future__ import annotations

from pathlib import Path

import pytest

from hooks import pruning
from hooks.cruft_record import CRUFT_FILE
from hooks.environment_folders import generated_paths
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
    expected = {g for f in files_under(PROJECT_TEMPLATE) for g in generated_paths(f) if not is_removed(g, removed)}
    assert files_under(generated_project) == expected | {CRUFT_FILE}


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
    assert exists("fare_model") == (variant.ml_code != "mlflow_recipes")
    assert exists("fare_model/training.py") == variant.mlflow3  # the feature store trains in features/
    assert exists("steps/deploy.py") == (variant.ml_code == "mlflow_recipes")
    assert exists("notebooks/Train.py") != variant.feature_store
    assert exists(".github") == variant.github
    assert exists(".azure") == (variant.cicd_platform == "Azure DevOps")
    assert exists(".gitlab-ci.yml") == exists(".gitlab") == (variant.cicd_platform == "GitLab")
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
                               "include_feature_store": "no", "include_models_in_unity_catalog": "no"})
    assert (pruning.PARAMS_TESTING_ONLY_FILE in removed) == (name != pruning.TEST_PROJECT_NAME)


# --- pruning never deletes what the same generation did not write --------------------------------


def test_prune_deletes_only_what_did_not_exist_before_the_snapshot(tmp_path: Path) -> None:
    (tmp_path / "owned" / "old").mkdir(parents=True)
    (tmp_path / "owned" / "user.txt").write_text("mine")
    (tmp_path / "owned" / "edited.py").write_text("template text\n# the user's edit\n")
    (tmp_path / "owned" / "old" / "user-empty-folder").mkdir()
    backup = tmp_path / "backup"
    before = pruning.snapshot(tmp_path, ["owned", "owned-file.txt"], backup)
    # What generation then writes: new files, and (cookiecutter -f) a rewrite of an existing one.
    (tmp_path / "owned" / "new" / "deep").mkdir(parents=True)
    (tmp_path / "owned" / "new" / "deep" / "written.txt").write_text("template")
    (tmp_path / "owned-file.txt").write_text("template")
    (tmp_path / "owned" / "edited.py").write_text("template text\n")

    kept = pruning.prune(tmp_path, ["owned", "owned-file.txt", "absent"], before, backup)

    assert kept == ["owned/edited.py", "owned/user.txt"]
    assert files_under(tmp_path / "owned") == {"edited.py", "user.txt"}
    assert (tmp_path / "owned" / "edited.py").read_text() == "template text\n# the user's edit\n"  # restored
    assert (tmp_path / "owned" / "old" / "user-empty-folder").is_dir()  # there before: kept
    assert not (tmp_path / "owned" / "new").exists()
    assert not (tmp_path / "owned-file.txt").exists()


def test_prune_keeps_a_rewritten_file_even_without_a_backup(tmp_path: Path) -> None:
    (tmp_path / "owned").mkdir()
    (tmp_path / "owned" / "edited.py").write_text("mine")
    before = pruning.snapshot(tmp_path, ["owned"])
    (tmp_path / "owned" / "edited.py").write_text("template")
    assert pruning.prune(tmp_path, ["owned"], before) == ["owned/edited.py"]


def test_prune_without_a_snapshot_removes_the_whole_path(tmp_path: Path) -> None:
    (tmp_path / "owned" / "sub").mkdir(parents=True)
    (tmp_path / "owned" / "sub" / "a.txt").write_text("template")
    assert pruning.prune(tmp_path, ["owned"], {}) == []
    assert list(tmp_path.iterdir()) == []


def test_kept_files_warning_lists_each_file() -> None:
    message = pruning.format_kept([".azure/custom.yml", "features/mine.py"])
    assert "  - .azure/custom.yml\n  - features/mine.py" in message and "never deletes a file that existed" in message


def _user_files() -> dict[str, str]:
    """One user file in every folder the template may prune (and next to every prunable file)."""
    folders = {path if (PROJECT_TEMPLATE / path).is_dir() else str(Path(path).parent)
               for paths in OWNERS.values() for path in paths}
    return {f"{folder}/users-own-file.txt".lstrip("./"): f"kept: {folder}" for folder in sorted(folders)}


# Regeneration with -f over a project: the same answers, and a switch of each option. Starting
# points cover every value of every option.
SWITCHES = [
    (start, {**start.answers(), **change})
    for start in (Variant("azure", "GitHub Actions", "no"), Variant("aws", "Azure DevOps", "yes"))
    for change in ({}, {"cloud": "gcp"}, {"cicd_platform": "Azure DevOps" if start.github else "GitHub Actions"},
                   # The feature store replaces the MLflow Recipes code: the two answers switch together.
                   {"include_feature_store": "no", "include_mlflow_recipes": "yes"} if start.feature_store
                   else {"include_feature_store": "yes", "include_mlflow_recipes": "no"})
]


@pytest.mark.parametrize(("start", "switched"), SWITCHES,
                         ids=[f"{s.id}->{'+'.join(f'{k}={v}' for k, v in t.items() if s.answers()[k] != v) or 'same'}"
                              for s, t in SWITCHES])
def test_regeneration_keeps_user_files_in_pruned_folders_and_lists_them(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], start: Variant, switched: dict[str, str]
) -> None:
    from tests.support.generation import answers_for, generate, generate_variant

    project = generate_variant(tmp_path / "out", start)
    user_files = _user_files()
    for relative, text in user_files.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    removed = paths_to_remove({**answers_for(Variant(**switched)), **switched})
    # A file of the option being dropped, edited by its user: -f rewrites it, pruning restores it.
    edited = next((f for f in sorted(files_under(project)) if is_removed(f, removed) and f.endswith(".md")), None)
    if edited:
        (project / edited).write_text((project / edited).read_text() + "\nOur own notes.\n")
    existing = {relative: (project / relative).read_bytes() for relative in files_under(project)}
    capfd.readouterr()

    new_answers = {**answers_for(Variant(**switched)), **switched}
    generate(tmp_path / "out", new_answers, overwrite_if_exists=True)
    err = capfd.readouterr().err

    dropped = {f for f in existing if is_removed(f, removed)}
    for relative in dropped | set(user_files):
        assert (project / relative).read_bytes() == existing[relative], relative
    fresh = generate(tmp_path / "fresh", new_answers)
    assert files_under(project) == files_under(fresh) | set(user_files) | dropped
    listed = {line[4:] for line in err.splitlines() if line.startswith("  - ")}
    assert listed == dropped


@pytest.mark.choice(cloud="gcp", cicd_platform="Azure DevOps", include_feature_store="yes")
def test_regeneration_with_skip_keeps_every_existing_file(tmp_path: Path) -> None:
    from tests.support.generation import answers_for, generate, generate_variant

    start = Variant("gcp", "GitHub Actions", "no")
    project = generate_variant(tmp_path, start)
    (project / "features").mkdir()
    (project / "features" / "mine.py").write_text("x = 1\n")
    (project / ".github" / "workflows" / "custom.yml").write_text("name: custom\n")
    switched = {"cicd_platform": "Azure DevOps", "include_feature_store": "yes", "include_mlflow_recipes": "no"}
    generate(tmp_path, {**answers_for(start), **switched}, overwrite_if_exists=True, skip_if_file_exists=True)
    assert (project / "features" / "mine.py").read_text() == "x = 1\n"
    assert (project / ".github" / "workflows" / "custom.yml").read_text() == "name: custom\n"
    assert (project / ".github" / "workflows" / "run-tests.yml").exists()  # there before, not rewritten: kept

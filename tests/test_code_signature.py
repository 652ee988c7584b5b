"""The code signature that lets identical variants share one run of a large test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.code_signature import code_signature
from tests.support.generation import generate_variant
from tests.support.variants import SUPPORTED_VARIANTS, Variant


def test_comments_docs_and_ci_files_do_not_change_the_signature(generated_project: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(generated_project, tmp_path / "copy"))
    utils = copy / "steps" / "utils.py"
    utils.write_text("# a different documentation link\n" + utils.read_text())
    (copy / "README.md").write_text("changed")
    (copy / "databricks-config" / "README.md").write_text("changed")
    assert code_signature(copy) == code_signature(generated_project)


def test_code_and_data_changes_change_the_signature(generated_project: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(generated_project, tmp_path / "copy"))
    utils = copy / "steps" / "utils.py"
    utils.write_text(utils.read_text() + "\nCHANGED = True\n")
    assert code_signature(copy) != code_signature(generated_project)
    utils.write_text((generated_project / "steps" / "utils.py").read_text())
    (copy / "data" / "sample.parquet").write_bytes(b"other data")
    assert code_signature(copy) != code_signature(generated_project)


def test_notebooks_and_tests_do_not_change_the_local_pipeline_signature(generated_project: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(generated_project, tmp_path / "copy"))
    notebook = next((copy / "notebooks").glob("*.py"))
    notebook.write_text(notebook.read_text() + "\nCHANGED = True\n")
    assert code_signature(copy, "local pipeline") == code_signature(generated_project, "local pipeline")
    assert code_signature(copy) != code_signature(generated_project)


def test_variants_share_signatures_as_expected(
    _generated_projects: dict[Variant, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Cloud never changes what runs locally; the CI/CD platform changes only the deploy-trigger
    notebook and its test. A stray file (a merge's ``.orig`` copy, say) would split these groups
    and multiply the large tests' runs, so the counts are pinned: one local pipeline and one
    project-suite run per ML track (the MLflow 3 track with and without Unity Catalog counting
    as two). Reuses the projects generated at collection (large runs)."""
    projects = [
        _generated_projects.get(v) or generate_variant(tmp_path_factory.mktemp(v.id), v) for v in SUPPORTED_VARIANTS
    ]
    tracks = {(v.ml_code, v.unity_catalog) for v in SUPPORTED_VARIANTS}
    platforms = {v.cicd_platform for v in SUPPORTED_VARIANTS}
    assert len({code_signature(p, "local pipeline") for p in projects}) == len(tracks)
    assert len({code_signature(p, "project code") for p in projects}) == len(tracks)
    assert len({code_signature(p) for p in projects}) == len(tracks) * len(platforms)


def test_the_deploy_trigger_files_change_only_the_full_project_signature(generated_project: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(generated_project, tmp_path / "copy"))
    trigger = copy / "notebooks" / "TriggerModelDeploy.py"
    trigger.write_text(trigger.read_text() + "\nCHANGED = True\n")
    assert code_signature(copy, "project code") == code_signature(generated_project, "project code")
    assert code_signature(copy) != code_signature(generated_project)

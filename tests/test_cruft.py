"""Template updates with cruft: every generated project records its answers in ``.cruft.json``,
and ``cruft check`` / ``cruft update`` work on it whether it was made with cookiecutter or cruft.

The template is committed into a fresh git repository (tests/support/template_repo.py), as a
team's fork would be; cruft clones it from there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cruft
import pytest
from cookiecutter.main import cookiecutter

from hooks.cruft_record import CRUFT_FILE
from tests.support.generation import TEST_ANSWERS
from tests.support.template_repo import commit_all, git, template_repository
from tests.support.variants import TEMPLATE_DIR

ROUTES = ("cookiecutter", "cruft create")


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return template_repository(tmp_path / "template")


def create(route: str, template: Path, output: Path, answers: dict[str, str]) -> Path:
    """Generate a project the way a user would on ``route``."""
    if route == "cookiecutter":
        return Path(cookiecutter(str(template), no_input=True, output_dir=str(output), extra_context=answers))
    return Path(cruft.create(str(template), output_dir=output, extra_context=answers, no_input=True))


def cruft_state(project: Path) -> dict:
    return json.loads((project / CRUFT_FILE).read_text())


@pytest.mark.parametrize("route", ROUTES)
def test_project_records_template_commit_and_answers(route: str, template: Path, tmp_path: Path) -> None:
    project = create(route, template, tmp_path / "out", TEST_ANSWERS)
    state = cruft_state(project)
    assert state["template"] == str(template)
    assert state["commit"] == git(template, "rev-parse", "HEAD").strip()
    assert {k: state["context"]["cookiecutter"][k] for k in TEST_ANSWERS} == TEST_ANSWERS


def test_cookiecutter_records_what_cruft_create_records(template: Path, tmp_path: Path) -> None:
    """Same keys and values, so cruft treats both projects alike (no machine-specific paths)."""
    made = {route: cruft_state(create(route, template, tmp_path / route, TEST_ANSWERS)) for route in ROUTES}
    assert made["cookiecutter"] == made["cruft create"]
    assert "_output_dir" not in made["cookiecutter"]["context"]["cookiecutter"]


@pytest.mark.parametrize("route", ROUTES)
def test_check_and_update_bring_a_template_change_and_keep_the_users_edit(
    route: str, template: Path, tmp_path: Path
) -> None:
    project = create(route, template, tmp_path / "out", TEST_ANSWERS)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    assert cruft.check(project) is True

    readme_template = template / "{{cookiecutter.project_name}}" / "README.md"
    readme_template.write_text(readme_template.read_text() + "\nA fix published by the template.\n")
    new_commit = commit_all(template, "Template fix")
    user_file = project / "Makefile"
    user_file.write_text(user_file.read_text() + "\n# The team's own target notes.\n")
    commit_all(project, "Team edit")

    assert cruft.check(project) is False
    assert cruft.update(project, skip_apply_ask=True) is True
    assert (project / "README.md").read_text().endswith("\nA fix published by the template.\n")
    assert user_file.read_text().endswith("\n# The team's own target notes.\n")
    assert cruft_state(project)["commit"] == new_commit
    commit_all(project, "Template update")
    assert cruft.check(project) is True


def test_a_template_cloned_by_cookiecutter_is_recorded_by_its_origin_url(tmp_path: Path) -> None:
    from hooks.cruft_record import cruft_state as state_for

    clone = tmp_path / "cookiecutters" / "mlops-stack"
    clone.mkdir(parents=True)
    git(clone, "init", "-q")
    git(clone, "remote", "add", "origin", "https://github.com/example-org/mlops-stack.git")
    (clone / "cookiecutter.json").write_text('{"project_name": "x"}')
    commit = commit_all(clone, "Template")
    state = state_for({"project_name": "p", "_template": "gh:example-org/mlops-stack", "_output_dir": "/x"}, clone)
    assert state["template"] == "https://github.com/example-org/mlops-stack.git"
    assert state["commit"] == commit
    assert state["context"]["cookiecutter"] == {
        "project_name": "p", "_template": "https://github.com/example-org/mlops-stack.git", "_commit": commit}


def test_a_template_outside_git_is_recorded_without_a_commit(tmp_path: Path) -> None:
    from hooks.cruft_record import cruft_state as state_for

    (tmp_path / "cookiecutter.json").write_text('{"project_name": "x"}')
    state = state_for({"project_name": "p", "_template": str(tmp_path)}, tmp_path)
    assert state["template"] == str(tmp_path) and state["commit"] is None


def test_generated_gitignore_keeps_the_cruft_file(tmp_path: Path) -> None:
    project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(tmp_path), extra_context=TEST_ANSWERS))
    git(project, "init", "-q")
    ignored = subprocess.run(["git", "-C", str(project), "check-ignore", "-q", CRUFT_FILE])
    assert ignored.returncode == 1  # 1: not ignored


def test_regenerating_keeps_the_teams_cruft_skip_list(tmp_path: Path) -> None:
    project = create("cookiecutter", TEMPLATE_DIR, tmp_path, TEST_ANSWERS)
    state = cruft_state(project)
    (project / CRUFT_FILE).write_text(json.dumps({**state, "skip": ["notebooks/Train.py"]}))
    cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(tmp_path), overwrite_if_exists=True,
                 extra_context={**TEST_ANSWERS, "read_user_group": "others"})
    regenerated = cruft_state(project)
    assert regenerated["skip"] == ["notebooks/Train.py"]
    assert regenerated["context"]["cookiecutter"]["read_user_group"] == "others"


def test_cruft_refuses_a_bad_variable_briefly_with_a_cruft_command(template: Path, tmp_path: Path) -> None:
    """No traceback, no path of cruft's temporary folders, and a cruft command to run instead."""
    import sys

    project = create("cookiecutter", template, tmp_path / "out", TEST_ANSWERS)
    git(project, "init", "-q")
    commit_all(project, "generated")
    cruft_cli = Path(sys.executable).parent / "cruft"
    result = subprocess.run([str(cruft_cli), "update", "-y", "--variables-to-update", '{"project_name": "1bad"}'],
                            cwd=project, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "project_name '1bad' starts with '1'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr and "AnswersRefused" not in result.stdout + result.stderr
    assert "cruft update --variables-to-update '{\"project_name\": \"my-mlops-project\"}'" in result.stderr
    assert "cookiecutter " not in result.stderr
    check = subprocess.run([str(cruft_cli), "check"], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0 and "Project generated" not in check.stdout + check.stderr


UC_ANSWERS = {**TEST_ANSWERS, "include_models_in_unity_catalog": "yes", "include_mlflow_recipes": "no",
              "_uc_prod_catalog": "production"}


def cruft_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The cruft command line, one process per command as a user runs it."""
    import sys

    result = subprocess.run([str(Path(sys.executable).parent / "cruft"), *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    return result


def unity_catalog_names(project: Path) -> dict:
    return json.loads((project / "databricks-config" / "unity-catalog.json").read_text())["catalogs"]


def test_a_private_answer_survives_every_cruft_command(template: Path, tmp_path: Path) -> None:
    """cruft passes cookiecutter only the answers without a leading '_' (cruft#306, #341); the template
    restores the project's private answers, so create, diff, check, update and --variables-to-update
    all keep or change them as the user asked."""
    out = tmp_path / "out"
    out.mkdir()
    cruft_cli("create", str(template), "--no-input", "--extra-context", json.dumps(UC_ANSWERS), cwd=out)
    project = out / UC_ANSWERS["project_name"]
    assert unity_catalog_names(project)["prod"] == "production"
    assert cruft_state(project)["context"]["cookiecutter"]["_uc_prod_catalog"] == "production"
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")

    assert cruft_cli("diff", "--exit-code", cwd=project).stdout == ""
    assert "up to date" in cruft_cli("check", cwd=project).stdout

    readme_template = template / "{{cookiecutter.project_name}}" / "README.md"
    readme_template.write_text(readme_template.read_text() + "\nA fix published by the template.\n")
    commit_all(template, "Template fix")
    updated = cruft_cli("update", "--skip-apply-ask", cwd=project)
    assert "Project generated" not in updated.stdout + updated.stderr  # cruft's temporary renders
    assert not list(project.rglob("*.rej"))
    assert (project / "README.md").read_text().endswith("\nA fix published by the template.\n")
    assert unity_catalog_names(project)["prod"] == "production"
    assert cruft_state(project)["context"]["cookiecutter"]["_uc_prod_catalog"] == "production"
    commit_all(project, "Template update")
    assert cruft_cli("diff", "--exit-code", cwd=project).stdout == ""

    cruft_cli("update", "--skip-apply-ask", "--variables-to-update", '{"_uc_prod_catalog": "prd"}', cwd=project)
    assert unity_catalog_names(project)["prod"] == "prd"
    assert cruft_state(project)["context"]["cookiecutter"]["_uc_prod_catalog"] == "prd"
    assert "`prd.my_mlops_project.my_mlops_project_model`" in (project / "README.md").read_text()
    commit_all(project, "Production catalog renamed")
    assert cruft_cli("diff", "--exit-code", cwd=project).stdout == ""

"""The update promise: a project generated from any release of the template (``releases.json``), or
from a commit users had before the first release, takes the working tree's template with one
``cruft update``, run as a user runs it, keeping the user's edits and every answer, private ones
included. A simulated next release (the working tree plus a new derived value and a changed hook
helper) proves that what is released today will update in turn.

The template repository is a clone of this checkout's history with the working tree (uncommitted
changes included) committed on top, so git tags are not needed: ``releases.json`` names commits.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.template_repo import commit_all, git
from tests.support.variants import TEMPLATE_DIR

RELEASES = json.loads((TEMPLATE_DIR / "releases.json").read_text())
VERSION = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["_template_version"]
CRUFT = TEMPLATE_DIR / ".venv" / "bin" / "cruft"
# The variant with the most options today: feature store and Unity Catalog (MLflow 3 code), gcp,
# GitLab, and a private answer that differs from its default.
CURRENT_ANSWERS = {"cloud": "gcp", "cicd_platform": "GitLab", "include_feature_store": "yes",
                   "include_models_in_unity_catalog": "yes", "include_mlflow_recipes": "no",
                   "_uc_prod_catalog": "production", "_uc_dev_catalog": "sandbox"}
COMMON_ANSWERS = {"project_name": "fare-model", "read_user_group": "ml-team",
                  "mlflow_experiment_parent_dir": "/ml-projects/fare-model"}
USER_NOTE = "> Team note: the weekly retraining is paused until the data contract is signed.\n\n"
# mlops_stack_jinja.py is what released templates import by name; its content may never change.
FROZEN_ENTRY_SHA256 = "2b1db8b873eae1560ce87d44c1bac2bf31055a0e161bd285a3bb7dbc227b5fe4"


def starting_points() -> list[pytest.param]:
    rows = [(f"release-{row['version']}", row) for row in RELEASES["releases"]]
    rows += [(f"commit-{row['commit'][:7]}", row) for row in RELEASES["older_commits"]]
    return [pytest.param(row, id=name) for name, row in rows]


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The cruft command line, as a user runs it (one process per command)."""
    result = subprocess.run([str(CRUFT), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this checkout's history whose newest commit is the working tree, as it is."""
    clone = tmp_path_factory.mktemp("template") / "mlops-stack"
    git(TEMPLATE_DIR.parent, "clone", "-q", "--no-hardlinks", str(TEMPLATE_DIR), str(clone))
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for entry in clone.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for relative in filter(None, listed):
        source = TEMPLATE_DIR / relative
        if source.is_file() and not source.is_symlink():
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / relative)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "--allow-empty", "-m", "The working tree")  # empty on a clean checkout
    return clone


def create(template: Path, commit: str, answers: dict[str, str], output: Path) -> Path:
    """``cruft create --checkout <commit>`` with ``answers``; the project committed in its own git repository."""
    present = git(template, "cat-file", "-t", commit).strip() if commit_known(template, commit) else ""
    assert present == "commit", (f"{commit} is not in this clone's history: releases.json names commits of main; "
                                 "fetch the full history (git fetch --unshallow)")
    result = cruft("create", str(template), "--checkout", commit, "--no-input", "--output-dir", str(output),
                   "--extra-context", json.dumps({**COMMON_ANSWERS, **answers}), cwd=output.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    project = output / COMMON_ANSWERS["project_name"]
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    return project


def commit_known(template: Path, commit: str) -> bool:
    return subprocess.run(["git", "-C", str(template), "cat-file", "-e", f"{commit}^{{commit}}"],
                          capture_output=True).returncode == 0


def edit_as_a_user(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text(USER_NOTE + readme.read_text())
    (project / "notebooks" / "Exploration.py").write_text("# Databricks notebook source\nprint('team exploration')\n")
    commit_all(project, "Team edits")


def update_and_check(project: Path, template: Path, answers: dict[str, str]) -> dict:
    """``cruft update`` to the template's newest commit; assert it applied cleanly and kept the edits.
    Returns the project's new cruft state."""
    head = git(template, "rev-parse", "HEAD").strip()
    result = cruft("update", "--skip-apply-ask", cwd=project)
    assert result.returncode == 0 and "Good work" in result.stdout, result.stdout + result.stderr
    assert not list(project.rglob("*.rej")), result.stdout + result.stderr
    assert (project / "README.md").read_text().startswith(USER_NOTE)
    assert (project / "notebooks" / "Exploration.py").read_text().endswith("print('team exploration')\n")
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == head
    recorded = state["context"]["cookiecutter"]
    assert {k: recorded.get(k) for k in {**COMMON_ANSWERS, **answers}} == {**COMMON_ANSWERS, **answers}
    return state


@pytest.mark.large
@pytest.mark.parametrize("start", starting_points())
def test_a_project_from_an_earlier_template_updates_to_this_one(start: dict, template: Path, tmp_path: Path) -> None:
    project = create(template, start["commit"], start["answers"], tmp_path / "out")
    edit_as_a_user(project)
    state = update_and_check(project, template, start["answers"])
    assert state["context"]["cookiecutter"]["_template_version"] == VERSION
    assert f"release {VERSION} of the MLOps Stack template" in (project / "README.md").read_text()


def next_release(template: Path, tmp_path: Path) -> Path:
    """A copy of ``template`` with one more commit, as a later release would add: a new derived value
    used by a generated file, and a change to a hook helper that local_extensions imports."""
    later = tmp_path / "later-template"
    git(tmp_path, "clone", "-q", str(template), str(later))
    derived = later / "hooks" / "derived.py"
    source = derived.read_text()
    assert "_DERIVATIONS: dict[str, Callable[[Mapping[str, str]], str]] = {" in source
    derived.write_text(source.replace("_DERIVATIONS: dict[str, Callable[[Mapping[str, str]], str]] = {",
                                      "_DERIVATIONS: dict[str, Callable[[Mapping[str, str]], str]] = {\n"
                                      "    \"release_note\": lambda a: f\"next release for {a['project_name']}\",", 1))
    validation = later / "hooks" / "validation.py"
    validation.write_text(validation.read_text() + "\n\nNEXT_RELEASE_HELPER = 'present'\n")
    readme = later / "{{cookiecutter.project_name}}" / "README.md"
    readme.write_text(readme.read_text() + "\n{{ cookiecutter | derived('release_note') }}\n")
    commit_all(later, "Next release")
    return later


@pytest.mark.large
def test_todays_template_updates_to_a_later_release_keeping_private_answers(template: Path, tmp_path: Path) -> None:
    project = create(template, git(template, "rev-parse", "HEAD").strip(), CURRENT_ANSWERS, tmp_path / "out")
    catalogs = json.loads((project / "databricks-config" / "unity-catalog.json").read_text())["catalogs"]
    assert (catalogs["prod"], catalogs["dev"]) == ("production", "sandbox")
    edit_as_a_user(project)
    later = next_release(template, tmp_path)
    state = json.loads((project / ".cruft.json").read_text())
    state["template"] = str(later)
    (project / ".cruft.json").write_text(json.dumps(state, indent=2) + "\n")
    commit_all(project, "Follow the later template")
    update_and_check(project, later, CURRENT_ANSWERS)
    assert (project / "README.md").read_text().endswith("\nnext release for fare-model\n")
    catalogs = json.loads((project / "databricks-config" / "unity-catalog.json").read_text())["catalogs"]
    assert (catalogs["prod"], catalogs["dev"]) == ("production", "sandbox")


def test_the_release_table_names_commits_of_this_history(template: Path) -> None:
    rows = RELEASES["releases"] + RELEASES["older_commits"]
    assert all(commit_known(template, row["commit"]) for row in rows)
    versions = [tuple(int(part) for part in row["version"].split(".")) for row in RELEASES["releases"]]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert not versions or tuple(int(p) for p in VERSION.split(".")) >= versions[0]


def test_the_jinja_entry_module_is_frozen() -> None:
    """Released templates import ``mlops_stack_jinja`` by name, and a process that rendered one of them
    keeps its copy for every later render (cruft update renders the old release first). Its behaviour
    can therefore never change; a change needs a module with a new name (CONTRIBUTING.md)."""
    digest = hashlib.sha256((TEMPLATE_DIR / "mlops_stack_jinja.py").read_bytes()).hexdigest()
    assert digest == FROZEN_ENTRY_SHA256, (
        "mlops_stack_jinja.py changed: released templates' copies of it serve later renders in the same process. "
        "Revert the change, or put the new behaviour in a module with a new name (see CONTRIBUTING.md)."
    )

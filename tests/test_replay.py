"""Edited answers regenerate exactly what fresh answers generate.

Derived values (model names, node types, normalised hosts, ...) are computed from the answers at
every use (hooks/derived.py), so neither an edited replay file nor an edited cruft context can
carry a stale one. For every prompt the tests change one answer, regenerate through the
route, and compare the whole tree, file by file, with a fresh generation of the same answers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cruft
import pytest
from cookiecutter.main import cookiecutter

from tests.support.generation import TEST_ANSWERS, generate, generate_recording_replay, hosts_for
from tests.support.template_repo import commit_all, git, template_repository
from tests.support.variants import COOKIECUTTER_JSON, TEMPLATE_DIR, choices

# The answers the first generation uses (gcp, as in the example, where a fork offers it).
_FIRST_CLOUD = "gcp" if "gcp" in choices("cloud") else choices("cloud")[0]
# Other workspaces of that cloud, pasted from the browser.
_EDITED_HOSTS = {
    "gcp": ("https://3214.99.gcp.databricks.com/?o=1", "https://345.99.gcp.databricks.com/"),
    "aws": ("https://dbc-3214-99.cloud.databricks.com/?o=1", "https://dbc-345-99.cloud.databricks.com/"),
    "azure": ("https://adb-3214.99.azuredatabricks.net/?o=1", "https://adb-345.99.azuredatabricks.net/"),
}
BASE = {
    **TEST_ANSWERS,
    "project_name": "team-a",
    "cloud": _FIRST_CLOUD,
    **hosts_for(_FIRST_CLOUD),
}
# New values for text prompts; choice prompts get their next choice, yes/no prompts the other answer.
NEW_TEXT_VALUES = {
    "project_name": "team-b",
    "mlflow_experiment_parent_dir": "/teams/b/",
    "databricks_staging_workspace_host": _EDITED_HOSTS[_FIRST_CLOUD][0],
    "databricks_prod_workspace_host": _EDITED_HOSTS[_FIRST_CLOUD][1],
    "default_branch": "develop",
    "release_branch": "production",
    "read_user_group": "team-b-readers",
    "include_mlflow_recipes": "no",  # a yes/no prompt whose default is rendered from other answers
}
PROMPTS = [name for name in COOKIECUTTER_JSON if not name.startswith("_")]


def edit_of(prompt: str) -> dict[str, str]:
    """The answers that change when a user edits ``prompt`` (a new cloud needs that cloud's hosts)."""
    default = COOKIECUTTER_JSON[prompt]
    if isinstance(default, list):
        current = BASE.get(prompt, default[0])
        new = default[(default.index(current) + 1) % len(default)]
    elif default in ("yes", "no"):
        new = "no" if BASE.get(prompt, default) == "yes" else "yes"
    else:
        if prompt not in NEW_TEXT_VALUES:
            raise KeyError(f"give the text prompt {prompt!r} a new value in NEW_TEXT_VALUES ({__file__})")
        new = NEW_TEXT_VALUES[prompt]
    edit = {prompt: new}
    if prompt == "cloud":
        edit.update(hosts_for(new))
    if prompt in ("include_feature_store", "include_models_in_unity_catalog") and new == "yes":
        # The stored include_mlflow_recipes=yes (rendered default of the first run) does not go
        # with the feature store or Unity Catalog: a user changes both (the lone edit is refused,
        # tested below).
        edit["include_mlflow_recipes"] = "no"
    return edit


EDITS = [edit_of(prompt) for prompt in PROMPTS]
EDIT_IDS = list(PROMPTS)
if "cloud" in PROMPTS:  # a fork that fixed the cloud (make specialize) has no cloud to edit
    EDITS.append({"project_name": "team-b", **edit_of("cloud")})  # the example: name and cloud at once
    EDIT_IDS.append("project_name+cloud")


def contents(folder: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file below ``folder`` (git's own folder aside): content and whether it is executable."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), os.access(path, os.X_OK))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def assert_same_tree(actual: Path, expected: Path) -> None:
    got, wanted = contents(actual), contents(expected)
    assert sorted(got) == sorted(wanted)
    assert [name for name in wanted if got[name] != wanted[name]] == []


# The prompts that derived values are computed from (hooks/derived.py) run in the fast suite,
# the others with --large.
FEEDS_DERIVED_VALUES = {"project_name", "cloud", "cicd_platform", "mlflow_experiment_parent_dir",
                        "databricks_staging_workspace_host", "databricks_prod_workspace_host", "project_name+cloud",
                        "include_models_in_unity_catalog"}
REPLAY_EDITS = [
    pytest.param(edit, id=edit_id, marks=[] if edit_id in FEEDS_DERIVED_VALUES else [pytest.mark.large])
    for edit, edit_id in zip(EDITS, EDIT_IDS)
]


@pytest.fixture(scope="module")
def base_replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The user config and the replay file content of one generation with BASE."""
    return generate_recording_replay(tmp_path_factory.mktemp("base"), BASE)


@pytest.mark.parametrize("edit", REPLAY_EDITS)
def test_edited_replay_equals_a_fresh_generation(
    edit: dict[str, str], base_replay: tuple[Path, dict], tmp_path: Path
) -> None:
    config, replay = base_replay
    edited_replay = {**replay, "cookiecutter": {**replay["cookiecutter"], **edit}}
    edited = tmp_path / "edited-replay.json"
    edited.write_text(json.dumps(edited_replay))

    replayed = Path(cookiecutter(str(TEMPLATE_DIR), replay=str(edited), output_dir=str(tmp_path / "replayed"),
                                 config_file=str(config)))
    fresh = generate(tmp_path / "fresh", {**BASE, **edit}, config_file=str(config))
    assert_same_tree(replayed, fresh)


@pytest.mark.parametrize("prompt", ["include_feature_store", "include_models_in_unity_catalog"])
def test_an_edited_replay_that_becomes_unsupported_is_refused_before_writing(
    prompt: str, base_replay: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Turning on the feature store or Unity Catalog alone keeps the stored ``include_mlflow_recipes=yes``: refused."""
    config, replay = base_replay
    edited = tmp_path / "edited-replay.json"
    edited.write_text(json.dumps({**replay, "cookiecutter": {**replay["cookiecutter"], prompt: "yes"}}))
    with pytest.raises(Exception, match="fix the answers"):
        cookiecutter(str(TEMPLATE_DIR), replay=str(edited), output_dir=str(tmp_path / "replayed"),
                     config_file=str(config))
    assert "include_mlflow_recipes='no'" in capsys.readouterr().err
    assert not (tmp_path / "replayed").exists() or not any((tmp_path / "replayed").iterdir())


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_repository(tmp_path_factory.mktemp("template") / "template")


# cruft update generates twice and runs git: the example runs in the fast suite, every
# prompt with --large.
CRUFT_EDITS = [
    pytest.param(edit, id=edit_id, marks=[] if edit_id == "project_name+cloud" else [pytest.mark.large])
    for edit, edit_id in zip(EDITS, EDIT_IDS)
]


@pytest.mark.parametrize("edit", CRUFT_EDITS)
def test_cruft_update_of_an_answer_equals_a_fresh_generation(
    edit: dict[str, str], template_repo: Path, tmp_path: Path
) -> None:
    """``cruft update --variables-to-update`` regenerates from the stored context with the edit."""
    project = Path(cookiecutter(str(template_repo), no_input=True, output_dir=str(tmp_path / "project"),
                                extra_context=BASE))
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    assert cruft.update(project, extra_context=edit, skip_apply_ask=True) is True

    fresh = Path(cookiecutter(str(template_repo), no_input=True, output_dir=str(tmp_path / "fresh"),
                              extra_context={**BASE, **edit}))
    assert_same_tree(project, fresh)

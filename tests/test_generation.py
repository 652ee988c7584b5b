"""Generation through cookiecutter: defaults, derived values, refusals that leave nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

import local_extensions
from hooks.derived import CICD_PLATFORM_KEYS
from hooks.pruning import PARAMS_TESTING_ONLY_FILE, TEST_PROJECT_NAME
from hooks.validation import render_default
from tests.support.generation import DEFAULT_CLOUD, TEST_ANSWERS, TEST_HOSTS, generate, generate_recording_replay
from tests.support.variants import COOKIECUTTER_JSON, TEMPLATE_DIR, UNSUPPORTED_VARIANTS, choices

# Clouds other than the one TEST_ANSWERS' hosts belong to: their hosts are refused.
OTHER_CLOUDS = [cloud for cloud in TEST_HOSTS if cloud != DEFAULT_CLOUD]


def read_params(project: Path) -> dict[str, str]:
    lines = (project / PARAMS_TESTING_ONLY_FILE).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_refused(tmp_path: Path, answers: dict[str, str], *expected: str) -> str:
    """Generation fails with FailedHookException, the message has ``expected``, and nothing is left."""
    (tmp_path / "existing.txt").write_text("kept")
    before = tree(tmp_path)
    with pytest.raises(FailedHookException) as failure:
        generate(tmp_path, answers)
    assert tree(tmp_path) == before
    for text in expected:
        assert text in failure.value.message
    return failure.value.message


EXPECTED_DEFAULTS = {
    "azure": ("https://adb-xxxx.xx.azuredatabricks.net", "https://adb-xxxx.xx.azuredatabricks.net"),
    "aws": ("https://your-staging-workspace.cloud.databricks.com", "https://your-prod-workspace.cloud.databricks.com"),
    "gcp": ("https://your-staging-workspace.gcp.databricks.com", "https://your-prod-workspace.gcp.databricks.com"),
}


@pytest.mark.parametrize("cloud", choices("cloud"))
def test_defaults_for_every_cloud(tmp_path: Path, cloud: str) -> None:
    project = generate(tmp_path, {"project_name": TEST_PROJECT_NAME, "cloud": cloud})
    staging, prod = EXPECTED_DEFAULTS[cloud]
    assert read_params(project) == {
        "project_name": TEST_PROJECT_NAME,
        "cloud": cloud,
        "mlflow_experiment_parent_dir": f"/{TEST_PROJECT_NAME}",
        "databricks_staging_workspace_host": staging,
        "databricks_prod_workspace_host": prod,
        "default_branch": "main",
        "release_branch": "release",
        "read_user_group": "users",
        "cicd_platform": CICD_PLATFORM_KEYS[choices("cicd_platform")[0]],  # the default (first) choice
        "include_feature_store": "no",
    }


def test_no_input_default_project_and_cloud(tmp_path: Path) -> None:
    project = generate(tmp_path)  # the defaults, and the examples of prompts that have no valid one
    assert project.name == "my-mlops-project"
    assert (project / "README.md").read_text().startswith("# my-mlops-project")
    assert not (project / PARAMS_TESTING_ONLY_FILE).exists()


def test_params_file_only_for_the_test_project_name(generated_project: Path) -> None:
    assert not (generated_project / PARAMS_TESTING_ONLY_FILE).exists()


@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        *(pytest.param(entered, "https://adb-1.2.azuredatabricks.net", marks=pytest.mark.choice(cloud="azure"))
          for entered in ("https://adb-1.2.azuredatabricks.net/?o=123#job/1/run/2",
                          "https://adb-1.2.azuredatabricks.net/#ml/dashboard", "https://adb-1.2.azuredatabricks.net/")),
        pytest.param("https://dbc-9.cloud.databricks.com:443/explore", "https://dbc-9.cloud.databricks.com",
                     marks=pytest.mark.choice(cloud="aws")),
    ],
)
def test_hosts_pasted_from_the_browser_are_normalised(tmp_path: Path, entered: str, expected: str) -> None:
    project = generate(
        tmp_path,
        {
            "project_name": TEST_PROJECT_NAME,
            "cloud": "aws" if ".cloud.databricks.com" in entered else "azure",
            "databricks_staging_workspace_host": entered,
            "databricks_prod_workspace_host": entered,
        },
    )
    params = read_params(project)
    assert params["databricks_staging_workspace_host"] == expected
    assert params["databricks_prod_workspace_host"] == expected


@pytest.mark.parametrize(("entered", "expected"), [("/a/b/", "/a/b"), ("/a/b//", "/a/b"), ("/a", "/a")])
def test_trailing_slashes_are_stripped_from_parent_dir(tmp_path: Path, entered: str, expected: str) -> None:
    project = generate(tmp_path, {"project_name": TEST_PROJECT_NAME, "mlflow_experiment_parent_dir": entered})
    assert read_params(project)["mlflow_experiment_parent_dir"] == expected


@pytest.mark.parametrize(
    "parent_dir", ["/Users/someone@example.com/project", "/Repos-fake", "/Users-fake", "/ml-projects/x"]
)
def test_valid_parent_dirs_generate(tmp_path: Path, parent_dir: str) -> None:
    project = generate(tmp_path, {"project_name": TEST_PROJECT_NAME, "mlflow_experiment_parent_dir": parent_dir})
    assert read_params(project)["mlflow_experiment_parent_dir"] == parent_dir


BAD_ANSWERS = [
    ("project_name", "my project"),
    ("project_name", "my/project"),
    ("project_name", "nested/dirs/project"),
    ("project_name", "my\\project"),
    ("project_name", "my.project"),
    ("project_name", "a"),
    ("project_name", "a-b"),
    ("project_name", "proj$name"),
    ("project_name", "p" * 41),
    ("mlflow_experiment_parent_dir", "no-leading-slash"),
    ("mlflow_experiment_parent_dir", "/"),
    ("mlflow_experiment_parent_dir", "///"),
    ("mlflow_experiment_parent_dir", "/Repos"),
    ("mlflow_experiment_parent_dir", "/Repos/someone/project"),
    ("mlflow_experiment_parent_dir", "/Users"),
    ("mlflow_experiment_parent_dir", "/Users/someone@example.com"),
    ("mlflow_experiment_parent_dir", "/Users/someone@example.com/"),
    ("mlflow_experiment_parent_dir", "/a/../Repos"),
    ("databricks_staging_workspace_host", "http://adb-1.2.azuredatabricks.net"),
    ("databricks_prod_workspace_host", "adb-1.2.azuredatabricks.net"),
    ("databricks_prod_workspace_host", "https://"),
    ("default_branch", "bad..branch"),
    ("release_branch", "-release"),
    ("read_user_group", 'ml"team'),
    ("project_name", "1project"),
    ("project_name", "-abc"),
    ("mlflow_experiment_parent_dir", "/Shared"),
    ("mlflow_experiment_parent_dir", "/Workspace/Repos/someone/project"),
    ("databricks_staging_workspace_host", TEST_HOSTS[OTHER_CLOUDS[0]][0]),  # another cloud than TEST_ANSWERS'
    ("databricks_prod_workspace_host", TEST_HOSTS[OTHER_CLOUDS[1]][1]),
    ("include_mlflow_recipes", "maybe"),
]


@pytest.mark.parametrize(("parameter", "value"), BAD_ANSWERS, ids=[f"{p}={v}" for p, v in BAD_ANSWERS])
def test_bad_answer_is_refused_and_leaves_nothing(tmp_path: Path, parameter: str, value: str) -> None:
    message = assert_refused(tmp_path, {**TEST_ANSWERS, parameter: value}, f"{parameter} '{value}'")
    assert "for example" in message or "Example" in message


# Every refused combination (hooks/variants.py's table, MLflow Recipes with the feature store or
# Unity Catalog) fails before anything is written. The test after it proves the table's refusal
# path with an entry patched in.
@pytest.mark.parametrize("variant", UNSUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_unsupported_combinations_are_refused(tmp_path: Path, variant) -> None:
    assert_refused(tmp_path, {**TEST_ANSWERS, **variant.answers()}, "is not supported", "Supported")


def test_combination_refusal_goes_through_the_support_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops_stack_jinja import template_module

    # The variants table of the package that renders the template (see mlops_stack_jinja.py).
    unsupported = template_module(TEMPLATE_DIR)._hooks("variants").UNSUPPORTED
    pattern = (DEFAULT_CLOUD, choices("cicd_platform")[0], "no")
    monkeypatch.setitem(unsupported, pattern, "not today. Supported: the others.")
    assert_refused(tmp_path, TEST_ANSWERS, f"cloud='{DEFAULT_CLOUD}'", "not today. Supported: the others.")


def test_old_cookiecutter_is_refused_with_the_version_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cookiecutter.__version__", "2.1.0")
    assert_refused(tmp_path, TEST_ANSWERS, "cookiecutter 2.1.0 is too old", "pip install 'cookiecutter>=2.6.0'")


@pytest.mark.parametrize(
    "edit",
    [{"mlflow_experiment_parent_dir": "/Repos/oops"}, {"project_name": "nested/dirs/project"},
     {"release_branch": False, "read_user_group": None}],
    ids=["parent-dir", "name-with-slashes", "yaml-types"],
)
def test_refused_replay_leaves_nothing_behind(tmp_path: Path, edit: dict) -> None:
    """Replayed answers skip prompt-time rendering; they are checked before the output folder exists."""
    config, replay = generate_recording_replay(tmp_path, TEST_ANSWERS)
    replay["cookiecutter"].update(edit)
    bad_replay = tmp_path / "bad-replay.json"
    bad_replay.write_text(json.dumps(replay))
    output = tmp_path / "second" / "not-yet"
    with pytest.raises(FailedHookException) as failure:
        cookiecutter(str(TEMPLATE_DIR), replay=str(bad_replay), output_dir=str(output), config_file=str(config))
    assert not (tmp_path / "second").exists()
    for parameter in edit:
        assert f"{parameter} " in failure.value.message


def test_pre_generation_hook_refuses_replays_written_before_the_folder_check(tmp_path: Path) -> None:
    """Replay files from older template versions lack the extension that checks before the folder
    exists; the pre-generation hook still refuses them, and cookiecutter removes the folder it made."""
    config, replay = generate_recording_replay(tmp_path, TEST_ANSWERS)
    replay["cookiecutter"]["_extensions"] = ["local_extensions.generate_doc_link", "local_extensions.regex_replace",
                                             "local_extensions.template_path", "local_extensions.check_answers",
                                             "local_extensions.derived"]
    replay["cookiecutter"]["release_branch"] = None
    bad_replay = tmp_path / "old-replay.json"
    bad_replay.write_text(json.dumps(replay))
    output = tmp_path / "second"
    output.mkdir()
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE_DIR), replay=str(bad_replay), output_dir=str(output), config_file=str(config))
    assert list(output.iterdir()) == []


@pytest.mark.parametrize(
    ("yaml_lines", "shown"),
    [("release_branch: no", "release_branch is a YAML boolean"), ("read_user_group: null", "read_user_group None is empty"),
     ("default_branch: off", "default_branch is a YAML boolean"), ("_uc_prod_catalog: yes", "_uc_prod_catalog is a YAML boolean")],
)
def test_yaml_typed_config_values_are_refused_with_a_quote_hint(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], yaml_lines: str, shown: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"default_context:\n  {yaml_lines}\n")
    output = tmp_path / "out"
    with pytest.raises(FailedHookException) as failure:
        generate(output, config_file=str(config))
    assert f"  - {shown}" in failure.value.message
    assert "put the value in quotes" in failure.value.message
    assert not output.exists()
    assert "Traceback" not in capfd.readouterr().err


def test_refusal_prints_a_command_that_generates_once_the_marked_answer_is_fixed(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    answers = {**TEST_ANSWERS, "project_name": "1project", "release_branch": "release"}
    with pytest.raises(FailedHookException) as failure:
        generate(tmp_path / "refused", answers)
    command = failure.value.message.split("run again:\n", 1)[1]
    assert "project_name=1project `# <- fix`" in command
    fixed = command.replace("project_name=1project `# <- fix`", "project_name=project1")
    venv_bin = str(Path(sys.executable).parent)
    assert shutil.which("cookiecutter", path=venv_bin)
    result = subprocess.run(["bash", "-c", fixed], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "project1" / "README.md").read_text().startswith("# project1")


def test_doubtful_answers_are_summarised_once_on_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    generate(tmp_path, {"project_name": "my-project", "release_branch": "main"})  # example hosts kept
    err = capfd.readouterr().err
    assert err.count("Generated, but please check these answers:") == 1
    placeholders = [render_default(COOKIECUTTER_JSON[f"databricks_{env}_workspace_host"], {"cloud": DEFAULT_CLOUD})
                    for env in ("staging", "prod")]
    for text in (f"databricks_staging_workspace_host '{placeholders[0]}'", f"databricks_prod_workspace_host '{placeholders[1]}'",
                 "default_branch 'main' equals release_branch 'main'"):
        assert err.count(text) == 1


def test_no_warning_for_good_answers(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    generate(tmp_path, TEST_ANSWERS)
    assert capfd.readouterr().err == ""


def test_post_generation_hook_points_to_the_readme(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    project = generate(tmp_path, TEST_ANSWERS)
    assert str(project / "README.md") in capfd.readouterr().out


def test_readme_config_file_example_generates_and_quotes_yaml_booleans(tmp_path: Path) -> None:
    readme = (TEMPLATE_DIR / "README.md").read_text()
    example = next(block for block in readme.split("```yaml\n")[1:] if "default_context:" in block).split("```")[0]
    assert 'include_feature_store: "no"' in example
    config = tmp_path / "my-answers.yaml"
    config.write_text(example)
    project = generate(tmp_path / "out", config_file=str(config))
    recorded = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    given = yaml.safe_load(example)["default_context"]
    assert {name: recorded[name] for name in given} == given


def test_refusal_on_the_command_line_goes_to_stderr_without_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    cookiecutter_cli = Path(sys.executable).parent / "cookiecutter"
    result = subprocess.run(
        [str(cookiecutter_cli), str(TEMPLATE_DIR), "--no-input", "-o", str(tmp_path / "out"), "project_name=1abc"],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "project_name '1abc' starts with '1'" in result.stderr and "project_name=1abc `# <- fix`" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.choice(cloud="aws", cicd_platform="GitLab")
def test_a_misspelt_choice_in_a_config_file_is_refused_on_the_command_line(tmp_path: Path) -> None:
    """cookiecutter drops `cloud: AWS` and every default_context key after it with only a warning;
    an unknown name on the command line is named on stderr."""
    import subprocess
    import sys

    config = tmp_path / "answers.yaml"
    config.write_text("default_context:\n  project_name: fraud\n  cloud: AWS\n  cicd_platform: GitLab\n")
    cookiecutter_cli = Path(sys.executable).parent / "cookiecutter"
    result = subprocess.run(
        [str(cookiecutter_cli), str(TEMPLATE_DIR), "--no-input", "--config-file", str(config), "-o", str(tmp_path / "out"),
         "projectname=foo"],
        capture_output=True, text=True,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "cloud 'AWS' in your config file's default_context" in result.stderr and "cicd_platform" in result.stderr
    assert "no prompt named 'projectname'" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("argv", "names"), [
    (["cookiecutter", ".", "--no-input", "a=1", "b=x=y", "--config-file=c.yaml", "-o", "out"], ["a", "b"]),
    (["cookiecutter", "."], []),
])
def test_command_line_answers(argv: list[str], names: list[str]) -> None:
    assert local_extensions.command_line_answers(argv) == names


@pytest.mark.parametrize(("argv", "program"), [
    (["/venv/bin/cookiecutter", "."], "cookiecutter"), (["/venv/bin/cruft", "update"], "cruft"),
    (["/usr/lib/python3/site-packages/cookiecutter/__main__.py"], "cookiecutter"),
    (["/venv/bin/pytest", "tests"], None), ([], None),
])
def test_command_line_program(argv: list[str], program: object) -> None:
    assert local_extensions.command_line_program(argv) == program


def test_retry_command_names_a_placeholder_for_a_template_in_a_temporary_clone(monkeypatch: pytest.MonkeyPatch) -> None:
    """cruft prompts from a temporary clone (``tempfile.mkdtemp``) that is gone after the refusal;
    a checkout of the user's own under the temporary directory keeps its path."""
    import tempfile

    monkeypatch.setattr(tempfile, "gettempdir", lambda: "/scratch")
    assert local_extensions._this_template() == str(TEMPLATE_DIR)
    assert local_extensions._this_template(Path("/scratch/tmpk2j4x/mlops-stack")) == "<template>"
    assert local_extensions._this_template(Path("/scratch/my-checkout")) == "/scratch/my-checkout"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, "yes"),
        ({"include_feature_store": "yes"}, "no"),
        ({"include_mlflow_recipes": "no"}, "no"),
        ({"include_feature_store": "yes", "include_mlflow_recipes": "no"}, "no"),
    ],
)
def test_include_mlflow_recipes_defaults_from_the_feature_store_and_takes_overrides(
    tmp_path: Path, answers: dict[str, str], expected: str
) -> None:
    """A text prompt with a rendered default: --no-input overrides are not checked against a choice list."""
    project = generate(tmp_path, {**TEST_ANSWERS, **answers})
    assert (project / "recipe.yaml").exists() == (expected == "yes")
    assert (project / "fare_model" / "training.py").exists() == (expected == "no" and answers.get("include_feature_store") != "yes")


def test_mlflow_recipes_with_the_feature_store_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    answers = {**TEST_ANSWERS, "include_feature_store": "yes", "include_mlflow_recipes": "yes"}
    message = assert_refused(tmp_path, answers, "include_mlflow_recipes='yes'")
    assert "include_mlflow_recipes=no" in message

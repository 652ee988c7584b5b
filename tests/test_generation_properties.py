"""Property: any answers either generate a sound project or are refused cleanly.

Hypothesis feeds random project names, parent dirs, hosts (of every cloud), branches and
groups, including values a YAML config file would type (booleans, null, numbers), leading and
trailing whitespace, and names starting with a digit or '-'. Each run must end in one of two
ways: a project with the same files as a reference generation of its variant whose Terraform,
YAML and Python all parse and whose Terraform identifiers are valid, or cookiecutter's
FailedHookException with a message and the output folder exactly as it was. A traceback from
Jinja or Python is a failure.

Cookiecutter renders every answer passed as extra context as a Jinja template (that is
how a default can use an earlier answer), so text with Jinja delimiters is
cookiecutter's to interpret before the template sees it; the strategies leave out
'{' and '}' for that reason.
"""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from cookiecutter.exceptions import FailedHookException
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from tests.support.generation import TEST_ANSWERS, generate, hosts_for
from tests.support.terraform_refs import load_module, module_folders
from tests.support.variants import choices

TEXT = st.text(st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=30)
# What an unquoted YAML value in a --config-file becomes.
YAML_TYPED = st.sampled_from([True, False, None, 0, 2024, 1.5])
WHITESPACE = st.sampled_from([" ", "\t", "  ", "\n"])
VALID_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9]{2}[A-Za-z0-9_-]{0,18}", fullmatch=True)
VALID_PATH = st.from_regex(r"(/[A-Za-z0-9_-]{1,8}){1,3}/?", fullmatch=True)
CLOUDS = choices("cloud")
DOMAINS = {"azure": "azuredatabricks.net", "aws": "cloud.databricks.com", "gcp": "gcp.databricks.com"}
# Hosts of every cloud, so that a host of another cloud than the answer's is tried too.
VALID_HOST = st.builds(
    lambda name, cloud, tail: f"https://{name}.{DOMAINS[cloud]}{tail}",
    st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,4})?", fullmatch=True),
    st.sampled_from(CLOUDS),
    st.sampled_from(["", "/", "/?o=1", "#job/1"]),
)


def padded(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Values with whitespace before or after them."""
    return st.builds(lambda v, before, after: before + v + after, values, WHITESPACE | st.just(""), WHITESPACE)


def values_near(valid: st.SearchStrategy[str], *invalid: st.SearchStrategy[str]) -> st.SearchStrategy:
    """``valid`` values (listed twice so that about a fifth of the examples generate a project), the
    ``invalid`` ones, valid values with whitespace around them, YAML-typed values and free text."""
    return st.one_of(valid, valid, *invalid, padded(valid), YAML_TYPED, TEXT)


NAME_LIKE = values_near(
    VALID_NAME,
    st.from_regex(r"[A-Za-z0-9_.\- /\\$@]{0,45}", fullmatch=True),
    st.from_regex(r"[0-9-][A-Za-z0-9_-]{2,10}", fullmatch=True),  # leading digit or '-'
)
PATH_LIKE = values_near(
    VALID_PATH,
    st.from_regex(r"/?([A-Za-z0-9_.@ -]{0,8}/?){0,4}", fullmatch=True),
    st.sampled_from(["/Shared", "/Workspace/Shared/", "/Workspace", "/Workspace/Repos/x", "/Shared/team"]),
)
HOST_LIKE = values_near(
    VALID_HOST,
    st.from_regex(r"https?://[a-z0-9.\-]{0,20}(:[0-9]{1,5})?(/[?#=a-z0-9/]{0,12})?", fullmatch=True),
)
BRANCH_LIKE = st.one_of(st.sampled_from(["main", "release", "develop"]), padded(st.just("main")), YAML_TYPED, TEXT)
GROUP_LIKE = st.one_of(st.sampled_from(["users", "ml-team"]), padded(st.just("users")), YAML_TYPED, TEXT)
# Terraform identifiers: a letter or '_', then letters, digits, '_' and '-'.
TERRAFORM_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def files_of(project: Path) -> set[str]:
    return {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}


_reference: dict[tuple[str, str], set[str]] = {}


def reference_files(cloud: str) -> set[str]:
    """The files of the reference project of ``cloud`` (the other choices are TEST_ANSWERS')."""
    if cloud not in _reference:
        answers = {**TEST_ANSWERS, "cloud": cloud, **hosts_for(cloud)}
        with tempfile.TemporaryDirectory() as tmp:
            _reference[cloud] = files_of(generate(Path(tmp), answers))
    return _reference[cloud]


def assert_sound(project: Path) -> None:
    """Terraform, YAML and Python of ``project`` parse, and every Terraform identifier is valid."""
    for folder in module_folders(project):
        module = load_module(folder)
        names = [*module.variables, *module.locals, *module.outputs, *module.module_calls,
                 *(name for _, name in module.resources | module.data)]
        assert [n for n in names if not TERRAFORM_IDENTIFIER.fullmatch(n)] == [], folder
    for path in project.rglob("*"):
        if path.suffix in (".yml", ".yaml"):
            text = path.read_text()
            if "{{" not in text and "{%" not in text:  # MLflow Recipes renders these files with Jinja first
                yaml.safe_load(text)
        elif path.suffix == ".py":
            ast.parse(path.read_text(), filename=str(path))


def valid_host(cloud: str) -> st.SearchStrategy[str]:
    return st.builds(lambda name, tail: f"https://{name}.{DOMAINS[cloud]}{tail}",
                     st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), st.sampled_from(["", "/", "/?o=1"]))


# No "explain" phase: re-running generations to explain a failure takes minutes.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(cloud=st.sampled_from(CLOUDS), all_valid=st.integers(0, 2), data=st.data())
def test_any_answers_generate_a_sound_project_or_fail_cleanly(cloud: str, all_valid: int, data: st.DataObject) -> None:
    # A third of the examples draw only valid answers, so that enough of them generate a project.
    valid = all_valid == 0
    answers = {
        **TEST_ANSWERS,
        "cloud": cloud,
        "project_name": data.draw(VALID_NAME if valid else NAME_LIKE, label="project_name"),
        "mlflow_experiment_parent_dir": data.draw(VALID_PATH if valid else PATH_LIKE, label="parent_dir"),
        "databricks_staging_workspace_host": data.draw(valid_host(cloud) if valid else HOST_LIKE, label="staging"),
        "databricks_prod_workspace_host": data.draw(valid_host(cloud) if valid else HOST_LIKE, label="prod"),
        "release_branch": data.draw(st.just("release") if valid else BRANCH_LIKE, label="release_branch"),
        "read_user_group": data.draw(st.just("ml-team") if valid else GROUP_LIKE, label="read_user_group"),
    }
    output = Path(tempfile.mkdtemp())
    try:
        try:
            project = generate(output, answers)
        except FailedHookException as refusal:
            event("refused")
            message = getattr(refusal, "message", str(refusal))
            assert not valid, message
            assert "Cannot generate the project" in message
            assert list(output.iterdir()) == []
            return
        event("generated")
        assert project.parent == output
        assert files_of(project) == reference_files(cloud)
        assert_sound(project)
    finally:
        shutil.rmtree(output, ignore_errors=True)

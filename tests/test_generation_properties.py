"""Property: any answers either generate a complete project or are refused cleanly.

Hypothesis feeds random project names, parent dirs and hosts. Each run must end in one
of two ways: a project with the same files as a reference generation, or cookiecutter's
FailedHookException with the output folder exactly as it was. A traceback from Jinja
or Python is a failure.

Cookiecutter renders every answer passed as extra context as a Jinja template (that is
how a default can use an earlier answer), so text with Jinja delimiters is
cookiecutter's to interpret before the template sees it; the strategies leave out
'{' and '}' for that reason.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cookiecutter.exceptions import FailedHookException
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.generation import TEST_ANSWERS, generate

TEXT = st.text(st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=30)
VALID_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{2,20}", fullmatch=True)
VALID_PATH = st.from_regex(r"(/[A-Za-z0-9_-]{1,8}){1,3}/?", fullmatch=True)
VALID_HOST = st.from_regex(r"https://[a-z0-9]{1,8}\.[a-z]{2,5}/?", fullmatch=True)
# Valid values are listed twice so that about a fifth of the examples generate a project.
NAME_LIKE = st.one_of(
    VALID_NAME,
    VALID_NAME,
    st.from_regex(r"[A-Za-z0-9_.\- /\\$@]{0,45}", fullmatch=True),
)
PATH_LIKE = st.one_of(
    VALID_PATH,
    VALID_PATH,
    st.from_regex(r"/?([A-Za-z0-9_.@ -]{0,8}/?){0,4}", fullmatch=True),
)
HOST_LIKE = st.one_of(
    VALID_HOST,
    VALID_HOST,
    st.from_regex(r"https?://[a-z0-9.\-]{0,20}(:[0-9]{1,5})?(/[?#=a-z0-9/]{0,12})?", fullmatch=True), TEXT
)


def files_of(project: Path) -> set[str]:
    return {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}


_reference: dict[str, set[str]] = {}


def reference_files() -> set[str]:
    if "files" not in _reference:
        with tempfile.TemporaryDirectory() as tmp:
            _reference["files"] = files_of(generate(Path(tmp), TEST_ANSWERS))
    return _reference["files"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    project_name=st.one_of(NAME_LIKE, TEXT),
    parent_dir=st.one_of(PATH_LIKE, TEXT),
    staging_host=HOST_LIKE,
    prod_host=HOST_LIKE,
)
def test_any_answers_generate_completely_or_fail_cleanly(project_name, parent_dir, staging_host, prod_host) -> None:
    answers = {
        **TEST_ANSWERS,
        "project_name": project_name,
        "mlflow_experiment_parent_dir": parent_dir,
        "databricks_staging_workspace_host": staging_host,
        "databricks_prod_workspace_host": prod_host,
    }
    output = Path(tempfile.mkdtemp())
    try:
        try:
            project = generate(output, answers)
        except FailedHookException:
            event("refused")
            assert list(output.iterdir()) == []
            return
        event("generated")
        assert project.parent == output
        assert files_of(project) == reference_files()
    finally:
        shutil.rmtree(output, ignore_errors=True)

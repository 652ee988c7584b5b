"""What a generated project executes locally, reduced to one hash.

Variants differ in many files that local runs never execute (docs, Terraform, CI/CD
definitions) and in comments (cloud-specific documentation links). Two variants with
the same signature run exactly the same code and data locally, so a large test that
runs the project's own code needs to run for one of them only; see tests/conftest.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# .cruft.json records the answers for cruft; nothing runs it.
NOT_EXECUTED_LOCALLY = (
    "docs", ".github", ".azure", ".gitlab", ".gitlab-ci.yml", "databricks-config", ".mlops-setup-scripts", ".cruft.json",
)
# The local pipeline runs the ML code (steps/, fare_model/, features/, local_pipeline/, data,
# profiles): the Databricks notebooks, which differ between CI/CD platforms (the deploy trigger),
# and the project's tests and lint settings are not part of it.
NOT_EXECUTED_BY_THE_LOCAL_PIPELINE = (*NOT_EXECUTED_LOCALLY, "notebooks", "tests", "ruff.toml", ".pre-commit-config.yaml")
# The only executable files that differ between CI/CD platforms: the deploy-trigger notebook and
# the project test that runs it. The project's test suite runs once per ML code with these left
# out of its signature; tests/test_cicd.py runs just that test file once per platform.
DEPLOY_TRIGGER_FILES = ("notebooks/TriggerModelDeploy.py", "tests/fare_model/test_notebooks.py")
SCOPES = {
    "project": NOT_EXECUTED_LOCALLY,
    "project code": (*NOT_EXECUTED_LOCALLY, *DEPLOY_TRIGGER_FILES),
    "local pipeline": NOT_EXECUTED_BY_THE_LOCAL_PIPELINE,
}
# The least number of tests each ML track's project suite has (69, 78 and 66 or more today): a
# run that stands for its code signature ran the whole suite, not a collection that found little.
MIN_PROJECT_TESTS = {"mlflow_recipes": 60, "feature_store": 70, "mlflow3": 60}
COMMENTED_SUFFIXES = {".py", ".yaml", ".yml", ".txt", ".ini", ".cfg", ".toml"}


def _without_comment_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def code_signature(project: Path, scope: str = "project") -> str:
    """Hash of every file a local run can execute or read, comment lines left out.

    ``scope`` is a key of ``SCOPES``: ``"project"`` (the project's tests run it all),
    ``"project code"`` (the same without the files that differ per CI/CD platform) or
    ``"local pipeline"`` (the pipeline alone, which never runs notebooks or tests). A scope
    lists top-level folders or files and relative file paths it leaves out.
    """
    skipped = SCOPES[scope]
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if not path.is_file() or relative.parts[0] in skipped or relative.as_posix() in skipped or path.suffix == ".md":
            continue
        content = path.read_bytes()
        if path.suffix in COMMENTED_SUFFIXES or path.name == "Makefile":
            content = _without_comment_lines(content.decode()).encode()
        digest.update(str(relative).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()

"""Fixtures shared by the template's tests.

``generated_project`` is the one way a test gets a project: parametrise the test (or
use the ``variant`` fixture) over ``SUPPORTED_VARIANTS`` and ask for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.code_signature import code_signature
from tests.support.generation import generate_variant
from tests.support.variants import SUPPORTED_VARIANTS, Variant

# Tests that need an answer a specialised fork no longer offers are deselected (make specialize).
pytest_plugins = ["tests.support.choice_owned"]

# Large tests that run the generated project's own code (installs, pytest, local pipelines).
# Each runs once per distinct code signature: a variant whose executable files equal those of
# an earlier variant (docs, Terraform, CI/CD files and comments aside) is skipped with the
# name of the test that runs that code. The signatures are computed from real generations.
# The value is (group, scope). Tests of one group prove the same thing: the project's test suite
# passes, through the CI unit-test job's own commands where that job runs locally (GitHub and
# Azure DevOps; test_cicd.py is collected first), else directly. The scope says which files
# count (tests/support/code_signature.py): the local pipeline never runs notebooks or tests, and
# the suite's signature leaves out the deploy-trigger files that differ per CI/CD platform,
# which the "deploy trigger" group runs once per platform instead.
PROJECT_TESTS = "the project's test suite"
RUN_ONCE_PER_CODE_SIGNATURE = {
    "test_unit_test_job_commands_pass": (PROJECT_TESTS, "project code"),
    "test_unit_test_job_runs_with_gitlab_ci_local": (PROJECT_TESTS, "project code"),
    "test_project_unit_tests_pass": (PROJECT_TESTS, "project code"),
    "test_generated_project_tests_pass": (PROJECT_TESTS, "project code"),
    "test_mlflow3_project_tests_pass": (PROJECT_TESTS, "project code"),
    "test_deploy_trigger_notebook_tests_pass": ("deploy trigger", "project"),
    "test_recipe_loads_every_profile_from_another_directory": ("recipe profiles", "local pipeline"),
    "test_local_pipeline_end_to_end": ("recipe pipeline", "local pipeline"),
    "test_local_pipeline_failure_names_the_step": ("recipe pipeline failure", "local pipeline"),
    "test_local_feature_store_pipeline_registers_and_scores_every_trip": ("feature-store pipeline", "local pipeline"),
    "test_mlflow3_local_pipeline_end_to_end": ("MLflow 3 pipeline", "local pipeline"),
}
RUNS_FIRST = ("test_unit_test_job_runs_with_gitlab_ci_local",)


# Projects generated while collecting, to compute signatures; the fixtures reuse them.
_COLLECTED_PROJECTS = pytest.StashKey[dict[Variant, Path]]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip repeated runs of identical project code (see RUN_ONCE_PER_CODE_SIGNATURE)."""
    runs = [
        item for item in items
        if getattr(item, "originalname", None) in RUN_ONCE_PER_CODE_SIGNATURE
        and "variant" in getattr(getattr(item, "callspec", None), "params", {})
        and not any(marker.name == "skip" for marker in item.iter_markers())
    ]
    if not runs:
        return
    # The session's own factory (what the tmp_path_factory fixture returns): a second factory
    # would empty the same base folder under xdist when first used, deleting these projects.
    root = config._tmp_path_factory.mktemp("signatures")
    projects = {v: generate_variant(root / v.id, v) for v in SUPPORTED_VARIANTS}
    config.stash[_COLLECTED_PROJECTS] = projects
    signatures = {
        (v, scope): code_signature(project, scope)
        for v, project in projects.items() for scope in {scope for _, scope in RUN_ONCE_PER_CODE_SIGNATURE.values()}
    }
    first_run: dict[tuple[str, str, str], str] = {}
    # GitLab's unit-test job runs its variant's suite through gitlab-ci-local and must not be
    # skipped for a GitHub job that runs the same code: it goes first.
    runs.sort(key=lambda item: item.originalname not in RUNS_FIRST)
    for item in runs:
        variant = item.callspec.params["variant"]
        group, scope = RUN_ONCE_PER_CODE_SIGNATURE[item.originalname]
        extra = tuple(sorted((k, str(v)) for k, v in item.callspec.params.items() if k != "variant"))
        key = (group, repr(extra), signatures[variant, scope])
        if key in first_run:
            item.add_marker(pytest.mark.skip(reason=f"{first_run[key]} runs the same code ({group})"))
        else:
            first_run[key] = item.nodeid


@pytest.fixture(scope="session")
def _generated_projects(request: pytest.FixtureRequest) -> dict[Variant, Path]:
    """Cache of generated projects: each variant is generated once per test session (per worker),
    or not at all when collection already generated it for its code signature."""
    return dict(request.config.stash.get(_COLLECTED_PROJECTS, {}))


@pytest.fixture(params=SUPPORTED_VARIANTS, ids=[v.id for v in SUPPORTED_VARIANTS])
def variant(request: pytest.FixtureRequest) -> Variant:
    """Every supported variant, with readable ids such as ``aws-github-nofs``."""
    return request.param


@pytest.fixture
def generated_project(
    variant: Variant, _generated_projects: dict[Variant, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A project generated for ``variant`` with the test answers; treat it as read-only."""
    if variant not in _generated_projects:
        _generated_projects[variant] = generate_variant(tmp_path_factory.mktemp(variant.id), variant)
    return _generated_projects[variant]

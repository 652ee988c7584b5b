"""One runtime for jobs and tests: the table in tests/support/runtimes.py against the generated files.

For every variant, the Terraform jobs' compute, the CI integration test's compute, the pinned
packages, the Python the project's tests and CI run on, and the venvs the template's own tests
build must all name the runtime of the variant's ML track. Before this table existed the jobs
ran Databricks Runtime 15.4 (Spark 3.5, Python 3.11) while the MLflow 3 tests ran PySpark 4.0.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.support import project_python
from tests.support.generation import generate
from tests.support.runtimes import PROJECT_TEST_PYTHON, RUNTIMES
from tests.support.terraform_refs import parse_file, unquote
from tests.support.variants import Variant

MODULE = Path("databricks-config/modules/ml-resources")


def pins(path: Path) -> dict[str, str]:
    """``package -> version`` of every ``package==version`` line of a requirements file."""
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.MULTILINE)
    return {name.lower(): version for name, version in found}


def module_locals(project: Path) -> dict:
    merged: dict = {}
    for path in sorted((project / MODULE).glob("*.tf")):
        for block in parse_file(path).get("locals", []):
            merged.update(block)
    return merged


def test_terraform_jobs_run_the_tracks_runtime(variant: Variant, generated_project: Path) -> None:
    runtime = RUNTIMES[variant.ml_code]
    values = module_locals(generated_project)
    assert unquote(values["job_cluster"]["spark_version"]) == runtime.classic_spark_version
    if variant.unity_catalog:  # serverless by default, classic through job_compute
        assert unquote(values["environment"]["environment_version"]) == runtime.serverless_environment_version
        variables = (generated_project / "databricks-config/staging/variables.tf").read_text()
        assert re.search(r'variable "job_compute" \{\n  type        = string\n  default     = "serverless"', variables)
    else:  # serverless compute needs Unity Catalog
        assert "environment" not in values and "serverless" not in (generated_project / MODULE / "variables.tf").read_text()


def test_ci_integration_test_runs_the_tracks_runtime(variant: Variant, generated_project: Path) -> None:
    runtime = RUNTIMES[variant.ml_code]
    (script,) = generated_project.glob(".*/**/scripts/submit_integration_test.py")
    text = script.read_text()
    assert f'"spark_version": "{runtime.classic_spark_version}"' in text
    if variant.unity_catalog:
        assert 'COMPUTE = "serverless"' in text
        assert f'ENVIRONMENT_VERSION = "{runtime.serverless_environment_version}"' in text
    else:
        assert "COMPUTE = " not in text and '"environments": environments()' not in text


def test_pinned_packages_are_the_runtimes(variant: Variant, generated_project: Path) -> None:
    runtime = RUNTIMES[variant.ml_code]
    requirements = pins(generated_project / "requirements.txt")
    assert requirements["mlflow"].split(".")[0] == runtime.mlflow_major
    assert "pyspark" not in requirements  # the runtime brings its own
    test_pyspark = pins(generated_project / "test-requirements.txt")["pyspark"]
    assert ".".join(test_pyspark.split(".")[:2]) == runtime.spark


def test_project_tests_and_ci_run_the_jobs_python(variant: Variant, generated_project: Path) -> None:
    python = RUNTIMES[variant.ml_code].python
    assert python == PROJECT_TEST_PYTHON == project_python.PROJECT_TEST_PYTHON
    supported = re.search(r"^SUPPORTED_PYTHONS := (.*)$", (generated_project / "Makefile").read_text(), re.MULTILINE)
    assert python in supported.group(1).split()
    ci_files = [
        *generated_project.glob(".github/workflows/*.yml"),
        *generated_project.glob(".azure/devops-pipelines/tests-ci.yml"),
        *generated_project.glob(".gitlab/ci/*.yml"),
    ]
    versions = set()
    for path in ci_files:
        if path.name in ("check-template-updates.yml", "lint-cicd-workflow-files.yml"):
            continue  # they run no project code
        text = path.read_text()
        versions |= set(re.findall(r'(?:python-version|versionSpec): "(3\.\d+)"', text))
        versions |= set(re.findall(r"image: python:(3\.\d+)-", text))
    assert versions == {python}, f"CI runs the project's code on Python {sorted(versions)}, its jobs on {python}"


def test_serverless_environment_installs_exactly_the_projects_requirements(tmp_path: Path) -> None:
    """Terraform's parsing of requirements.txt, run by the real terraform binary, gives the pins the
    CI integration test sends, and every line is a pip requirement (no comment, no blank)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the terraform binary is not on PATH; install Terraform >= 1.11")
    project = generate(tmp_path / "out", {"include_models_in_unity_catalog": "yes", "include_feature_store": "yes"})
    locals_tf = (project / MODULE / "locals.tf").read_text()
    expression = re.search(r"^    dependencies = (?:[^\n]*\? null : )?(\[\n.*?\n    \])$", locals_tf, re.MULTILINE | re.DOTALL).group(1)
    scratch = project / MODULE.parent / "dependencies-check"  # the same depth below the project root
    scratch.mkdir()
    (scratch / "main.tf").write_text(
        f"locals {{\n  dependencies = {expression}\n}}\n\noutput \"dependencies\" {{\n  value = local.dependencies\n}}\n"
    )
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        result = subprocess.run([terraform, *command], cwd=scratch, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    output = subprocess.run([terraform, "output", "-json", "dependencies"], cwd=scratch, capture_output=True, text=True)
    dependencies = json.loads(output.stdout)

    (script,) = project.glob(".*/**/scripts/submit_integration_test.py")
    spec = importlib.util.spec_from_file_location("submit_integration_test_runtime", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert dependencies == module.project_requirements(project)
    assert [Requirement(line).name.lower() for line in dependencies] == list(pins(project / "requirements.txt"))

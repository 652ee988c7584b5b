"""Jobs an ops engineer can run: failure alerts, timeouts and cost tags on every job, from one
variable each per environment; a `terraform destroy` that can remove what the jobs filled; and
staging and prod that never share a table, model or experiment, even in one workspace.

Static checks of the generated Terraform: each failed on the template before these settings
existed (no alerts, no timeout, a `clusterSource` tag only, no `force_destroy`, one predictions
table for both environments without Unity Catalog, no cluster or budget policy).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest
import yaml

from tests.support.environments import DEPLOY
from tests.support.terraform_refs import parse_file, unquote
from tests.support.generation import answers_for
from tests.support.template_repo import template_repository
from tests.support.variants import FIXED_ANSWERS, SUPPORTED_VARIANTS, UNITY_CATALOG_VARIANTS, Variant
from tests.test_terraform import locals_of, resources_of_type, strip_expression

MODULE = Path("databricks-config/modules/ml-resources")


def test_every_job_alerts_times_out_and_carries_the_cost_tags(generated_project: Path) -> None:
    jobs = resources_of_type(generated_project / MODULE, "databricks_job")
    assert jobs
    for name, job in jobs.items():
        assert strip_expression(job["tags"]) == "local.tags", name
        assert strip_expression(job["timeout_seconds"]) == "local.job_timeout_seconds", name
        (notifications,) = job["email_notifications"]
        assert strip_expression(notifications["on_failure"]) == "var.failure_alert_emails", name
    # What local.tags holds (evaluated by Terraform), not how it is written: the cost tags, and the
    # project and environment, which a cost tag of the same name cannot override.
    cost_tags = {"cost_center": "ml-42", "project": "spoofed", "environment": "spoofed"}
    tags = evaluate_expression(locals_of(generated_project / MODULE)["tags"], {"cost_tags": cost_tags, "env": "staging"})
    assert tags["cost_center"] == "ml-42"
    assert tags["project"] == generated_project.name and tags["environment"] == "staging"
    for env in ("staging", "prod"):
        parsed = parse_file(generated_project / "databricks-config" / env / "variables.tf")
        variables = {unquote(name) for block in parsed["variable"] for name in block}
        assert {"failure_alert_emails", "cost_tags"} <= variables, env


def evaluate_expression(value: str, variables: dict[str, object]) -> object:
    """The value of a module's expression (as python-hcl2 gives it) for ``variables`` (name -> value),
    computed by ``terraform console`` in a configuration that declares only them (no provider, no
    init). Fails naming a variable the expression reads that ``variables`` lacks."""
    if shutil.which("terraform") is None:
        pytest.skip("the terraform binary is not on PATH; install Terraform >= 1.11")
    expression = strip_expression(value)
    missing = set(re.findall(r"(?<![\w.])var\.(\w+)", expression)) - set(variables)
    assert not missing, f"{expression} reads variables the test does not set: {sorted(missing)}"
    with tempfile.TemporaryDirectory() as folder:
        declarations = "".join(f'variable "{name}" {{\n  default = {json.dumps(value)}\n}}\n'
                               for name, value in variables.items())
        (Path(folder) / "main.tf").write_text(declarations + f"locals {{\n  value = {expression}\n}}\n")
        done = subprocess.run(["terraform", f"-chdir={folder}", "console", "-no-color"], input="jsonencode(local.value)\n",
                              capture_output=True, text=True, env={**os.environ, "CHECKPOINT_DISABLE": "1"})
    assert done.returncode == 0, done.stderr
    return json.loads(json.loads(done.stdout))


def module_call_argument(project: Path, env: str, name: str) -> str | None:
    """The expression ``env``'s root module passes to ml_resources as ``name``, if any."""
    (call,) = [block['"ml_resources"'] for block in parse_file(project / "databricks-config" / env / "main.tf")["module"]]
    return strip_expression(call[name]) if name in call else None


def optional_variable(folder: Path, name: str, default_null: bool = True) -> dict:
    """The body of variable ``name`` of ``folder``'s variables.tf; it has a default, null unless
    ``default_null`` is false (an environment's default is the company's value from
    templates/compute_policy.jinja, which a fork sets: stack-customization.md B, step 5)."""
    parsed = parse_file(folder / "variables.tf")
    (body,) = [b for block in parsed["variable"] for n, b in block.items() if unquote(n) == name]
    assert "default" in body, (folder, name)
    assert body["default"] is None or not default_null, (folder, name)
    return body


def test_a_policy_set_per_environment_reaches_every_job_cluster_and_serverless_job(
    variant: Variant, generated_project: Path
) -> None:
    """An environment's cluster_policy_id (and, with serverless jobs, budget_policy_id) flows from
    its variables.tf through the module call to every job cluster's policy_id and every job's
    budget_policy_id: a job written without them fails here. The module's variables default to
    null (no policy); an environment's default is the company's value (null in the template)."""
    policies = {"cluster_policy_id": "var.cluster_policy_id"}
    if variant.unity_catalog:
        policies["budget_policy_id"] = "var.budget_policy_id"
    for env in ("staging", "prod"):
        for name, expression in policies.items():
            optional_variable(generated_project / "databricks-config" / env, name, default_null=False)
            assert module_call_argument(generated_project, env, name) == expression, (env, name)
    for name in policies:
        optional_variable(generated_project / MODULE, name)
    jobs = resources_of_type(generated_project / MODULE, "databricks_job")
    assert jobs
    for name, job in jobs.items():
        # A job_cluster block, or (Unity Catalog) the content of a dynamic "job_cluster" block.
        dynamic = [block['"job_cluster"'] for block in job.get("dynamic", []) if '"job_cluster"' in block]
        clusters = job.get("job_cluster") or [cluster for block in dynamic for cluster in block["content"]]
        assert clusters, name
        for cluster in clusters:
            (new_cluster,) = cluster["new_cluster"]
            assert strip_expression(new_cluster["policy_id"]) == "var.cluster_policy_id", name
        if variant.unity_catalog:
            assert strip_expression(job["budget_policy_id"]) == "var.serverless ? var.budget_policy_id : null", name

    # The CI integration test submits its own run (in Python): every cluster it asks for carries
    # the cluster policy, and on serverless compute the run carries the budget policy.
    script = integration_test_script(generated_project)
    script.CLUSTER_POLICY_ID, policy = "ABCDEF0123456789", "ABCDEF0123456789"
    computes = ["classic", "serverless"] if variant.unity_catalog else [None]
    for compute in computes:
        if compute:
            script.COMPUTE = compute
            script.BUDGET_POLICY_ID = "budget-1"
        request = script.submit_request("https://example.com/org/repo.git", "0" * 40)
        clusters = [task["new_cluster"] for task in request["tasks"] if "new_cluster" in task]
        assert clusters or compute == "serverless", compute
        assert [c.get("policy_id") for c in clusters] == [policy] * len(clusters), \
            f"integration-test clusters without the cluster policy (compute: {compute})"
        if compute:
            assert request.get("budget_policy_id") == ("budget-1" if compute == "serverless" else None), compute


def integration_test_script(project: Path) -> ModuleType:
    """The project's CI integration-test script (scripts/submit_integration_test.py), imported."""
    (path,) = project.glob(".*/**/scripts/submit_integration_test.py")
    spec = importlib.util.spec_from_file_location(f"submit_integration_test_{abs(hash(project))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.dont_write_bytecode = True  # its feature-store tasks import the project's modules
    spec.loader.exec_module(module)
    return module


def test_destroy_removes_what_the_jobs_wrote(variant: Variant, generated_project: Path) -> None:
    if variant.unity_catalog:
        # Staging's schema may always go with its tables; prod's only on a deliberate destroy
        # (tests/test_prod_plan_guard.py).
        schema = resources_of_type(generated_project / MODULE, "databricks_schema")["project"]
        assert strip_expression(schema["force_destroy"]).startswith('var.env != "prod" ||')
    # The experiment folder likewise: recursively deletable where it holds no prod experiments,
    # prod's only on a deliberate destroy (tests/test_deploy_guards.py).
    folder = generated_project / ".mlops-setup-scripts/cicd/service-principal"
    directory = resources_of_type(folder, "databricks_directory")["experiment_parent"]
    assert strip_expression(directory["delete_recursive"]) == "var.delete_experiments_with_folder"


def test_staging_and_prod_share_no_table_model_or_experiment_in_one_workspace(variant: Variant, generated_project: Path) -> None:
    """Every name the two environments write to differs by the environment (or, with Unity
    Catalog, by the environment's catalog, which validation keeps apart)."""
    values = locals_of(generated_project / MODULE)
    assert "${local.name_prefix}" in unquote(values["experiment_name"])
    if not variant.unity_catalog:
        assert unquote(values["model_name"]).startswith("${local.name_prefix}")
        job = resources_of_type(generated_project / MODULE, "databricks_job")["batch_inference_job"]
        (task,) = [t for t in job["task"] if unquote(t["task_key"]) == "BatchInference"]
        output_table = unquote(task["notebook_task"][0]["base_parameters"]["output_table_name"])
        assert output_table.startswith("${var.env}_"), output_table
    else:
        assert "catalogs[var.env]" in strip_expression(values["catalog"])


# ---------------------------------------------------------------- failure alerts from the bootstrap

CICD = Path(".mlops-setup-scripts/cicd")
# Per platform: the CI/CD setting that holds the bootstrap's failure_alert_emails, the bootstrap
# resource that writes it, and how a Terraform step hands it to Terraform.
ALERT_SETTINGS = {
    "github": ("FAILURE_ALERT_EMAILS", "github_actions_environment_variable", "${{ vars.FAILURE_ALERT_EMAILS || '[]' }}"),
    "azure_devops": ("failureAlertEmails", "azuredevops_variable_group", "$(failureAlertEmails)"),
    "gitlab": ("TF_VAR_failure_alert_emails", "gitlab_project_variable", None),
}
CI_TERRAFORM_FILES = {
    "github": [".github/workflows/terraform-ci.yml", ".github/workflows/terraform-cd.yml"],
    "azure_devops": [".azure/devops-pipelines/terraform-ci.yml", ".azure/devops-pipelines/terraform-cicd.yml"],
    "gitlab": [".gitlab/ci/terraform.gitlab-ci.yml"],
}


def platform_of(project: Path) -> str:
    """The key of ``project``'s CI/CD platform in ALERT_SETTINGS."""
    if (project / ".github/workflows").is_dir():
        return "github"
    return "gitlab" if (project / ".gitlab-ci.yml").exists() else "azure_devops"


def terraform_runs(node: object, job: dict | None = None) -> Iterator[tuple[dict | None, dict]]:
    """(job, step) of every step or job of a parsed CI file that plans or applies a configuration
    (not a saved plan): the commands that read Terraform variables."""
    if isinstance(node, list):
        for item in node:
            yield from terraform_runs(item, job)
        return
    if not isinstance(node, dict):
        return
    # A GitHub job (runs-on), an Azure DevOps deployment job (strategy) or job, a GitLab job (stage).
    if any(key in node for key in ("environment", "runs-on", "strategy")) or ("stage" in node and "script" in node):
        job = node
    command = node.get("run") or node.get("script")
    text = "\n".join(command) if isinstance(command, list) else command if isinstance(command, str) else ""
    if re.search(r"terraform -chdir=\S+ (plan|apply -input=false -auto-approve)\b", text):
        yield job, node
    for value in node.values():
        if isinstance(value, (dict, list)):
            yield from terraform_runs(value, job)


def test_failure_alerts_go_to_the_group_the_bootstrap_names(generated_project: Path) -> None:
    """The CI/CD bootstrap requires failure_alert_emails and stores it per environment; every
    Terraform plan and apply of staging and prod passes it on. (Before: the variable existed in
    databricks-config with an empty default, and nothing ever set it, so no one heard of a failure.)"""
    platform = platform_of(generated_project)
    setting, resource_type, step_value = ALERT_SETTINGS[platform]
    parsed = parse_file(generated_project / CICD / "variables.tf")
    variables = {unquote(name): body for block in parsed["variable"] for name, body in block.items()}
    assert "default" not in variables["failure_alert_emails"], "the bootstrap must make the ops engineer name the group"
    bootstrap_text = "\n".join(p.read_text() for p in sorted((generated_project / CICD).glob("*.tf")))
    assert resources_of_type(generated_project / CICD, resource_type), resource_type
    if platform == "azure_devops":
        assert re.search(rf'name\s*=\s*"{setting}"\s*\n\s*value\s*=\s*jsonencode\(var\.failure_alert_emails\)', bootstrap_text)
    else:
        (alerts,) = [r for r in resources_of_type(generated_project / CICD, resource_type).values()
                     if "var.failure_alert_emails" in str(r.get("value"))]
        assert unquote(alerts.get("variable_name") or alerts.get("key")) == setting
        assert strip_expression(alerts["for_each"]) in {"local.github_environments", "local.environments"}
    runs = 0
    for ci_file in CI_TERRAFORM_FILES[platform]:
        for job, step in terraform_runs(yaml.safe_load((generated_project / ci_file).read_text())):
            runs += 1
            if platform == "gitlab":
                assert job["environment"]["name"] in DEPLOY, job
            else:
                env = {**(job or {}).get("env", {}), **step.get("env", {})}
                assert env.get("TF_VAR_failure_alert_emails") == step_value, (ci_file, step.get("displayName") or step.get("name"))
    assert runs >= 3, "the pull-request plan, the staging apply and the prod plan"


COMPANY_POLICY = '''
{%- set cluster_policy_id = "ABCDEF0123456789" %}
{%- set budget_policy_id = "budget-1" %}
{%- set cost_tags = {"cost_center": "ml-42"} %}
'''


def literal(value: object) -> object:
    """A python-hcl2 literal without its quotes (strings, and maps' keys and values)."""
    if isinstance(value, str):
        return unquote(value)
    return {unquote(k): literal(v) for k, v in value.items()} if isinstance(value, dict) else value


def test_the_company_policy_and_tags_reach_every_environment_and_the_integration_test(tmp_path: Path) -> None:
    """stack-customization.md B, step 5: the values set once in templates/compute_policy.jinja
    become each environment's defaults and the integration test's cluster policy, tags and budget
    policy (in a copy of the template)."""
    from cookiecutter.main import cookiecutter

    repo = template_repository(tmp_path / "fork")
    partial = repo / "templates" / "compute_policy.jinja"
    text = partial.read_text()
    partial.write_text(re.sub(r"\{%- set cluster_policy_id = .*? %\}\n.*?\{%- set cost_tags = .*? %\}\n",
                              COMPANY_POLICY.lstrip("\n"), text, flags=re.DOTALL))
    assert "ABCDEF0123456789" in partial.read_text(), "templates/compute_policy.jinja no longer sets its values with `{%- set ... %}`"
    variant = (UNITY_CATALOG_VARIANTS or SUPPORTED_VARIANTS)[0]
    project = Path(cookiecutter(str(repo), no_input=True, output_dir=str(tmp_path / "out"),
                                extra_context={k: v for k, v in answers_for(variant).items() if k not in FIXED_ANSWERS}))
    expected = {"cluster_policy_id": "ABCDEF0123456789", "cost_tags": {"cost_center": "ml-42"}}
    if variant.unity_catalog:
        expected["budget_policy_id"] = "budget-1"
    for env in ("staging", "prod"):
        parsed = parse_file(project / "databricks-config" / env / "variables.tf")
        defaults = {unquote(name): literal(body.get("default")) for block in parsed["variable"] for name, body in block.items()}
        assert {name: defaults[name] for name in expected} == expected, env
    # The CI/CD principals, which create the jobs, need CAN_USE on the policies: the setup guide asks for it.
    setup = (project / "docs/mlops-setup.md").read_text()
    assert "**CAN_USE on the company's compute policies** (cluster policy `ABCDEF0123456789`" in setup
    script = integration_test_script(project)
    if variant.unity_catalog:
        script.COMPUTE = "classic"
    request = script.submit_request("https://example.com/org/repo.git", "0" * 40)
    for task in request["tasks"]:
        assert task["new_cluster"]["policy_id"] == "ABCDEF0123456789", task["task_key"]
        assert task["new_cluster"]["custom_tags"]["cost_center"] == "ml-42", task["task_key"]
    if variant.unity_catalog:
        script.COMPUTE = "serverless"
        assert script.submit_request("https://example.com/org/repo.git", "0" * 40).get("budget_policy_id") == "budget-1"

"""Jobs an ops engineer can run: failure alerts, timeouts and cost tags on every job, from one
variable each per environment; a `terraform destroy` that can remove what the jobs filled; and
staging and prod that never share a table, model or experiment, even in one workspace.

Static checks of the generated Terraform: each failed on the template before these settings
existed (no alerts, no timeout, a `clusterSource` tag only, no `force_destroy`, one predictions
table for both environments without Unity Catalog, no cluster or budget policy).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import yaml

from tests.support.terraform_refs import parse_file, unquote
from tests.support.variants import Variant
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
    tags = strip_expression(locals_of(generated_project / MODULE)["tags"])
    assert tags.startswith("merge(var.cost_tags,") and "var.env" in tags
    for env in ("staging", "prod"):
        parsed = parse_file(generated_project / "databricks-config" / env / "variables.tf")
        variables = {unquote(name) for block in parsed["variable"] for name in block}
        assert {"failure_alert_emails", "cost_tags"} <= variables, env


def module_call_argument(project: Path, env: str, name: str) -> str | None:
    """The expression ``env``'s root module passes to ml_resources as ``name``, if any."""
    (call,) = [block['"ml_resources"'] for block in parse_file(project / "databricks-config" / env / "main.tf")["module"]]
    return strip_expression(call[name]) if name in call else None


def optional_variable(folder: Path, name: str) -> dict:
    """The body of variable ``name`` of ``folder``'s variables.tf, which must default to null."""
    parsed = parse_file(folder / "variables.tf")
    (body,) = [b for block in parsed["variable"] for n, b in block.items() if unquote(n) == name]
    assert body["default"] is None, (folder, name)
    return body


def test_a_policy_set_per_environment_reaches_every_job_cluster_and_serverless_job(
    variant: Variant, generated_project: Path
) -> None:
    """An environment's cluster_policy_id (and, with serverless jobs, budget_policy_id) flows from
    its variables.tf through the module call to every job cluster's policy_id and every job's
    budget_policy_id: a job written without them fails here. Both default to null (no policy)."""
    policies = {"cluster_policy_id": "var.cluster_policy_id"}
    if variant.unity_catalog:
        policies["budget_policy_id"] = "var.budget_policy_id"
    for env in ("staging", "prod"):
        for name, expression in policies.items():
            optional_variable(generated_project / "databricks-config" / env, name)
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
                assert job["environment"]["name"] in {"staging", "prod"}, job
            else:
                env = {**(job or {}).get("env", {}), **step.get("env", {})}
                assert env.get("TF_VAR_failure_alert_emails") == step_value, (ci_file, step.get("displayName") or step.get("name"))
    assert runs >= 3, "the pull-request plan, the staging apply and the prod plan"

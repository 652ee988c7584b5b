"""Jobs an ops engineer can run: failure alerts, timeouts and cost tags on every job, from one
variable each per environment; a `terraform destroy` that can remove what the jobs filled; and
staging and prod that never share a table, model or experiment, even in one workspace.

Static checks of the generated Terraform: each failed on the template before these settings
existed (no alerts, no timeout, a `clusterSource` tag only, no `force_destroy`, one predictions
table for both environments without Unity Catalog).
"""

from __future__ import annotations

from pathlib import Path

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


def test_destroy_removes_what_the_jobs_wrote(variant: Variant, generated_project: Path) -> None:
    if variant.unity_catalog:
        schema = resources_of_type(generated_project / MODULE, "databricks_schema")["project"]
        assert schema["force_destroy"] is True
    folder = generated_project / ".mlops-setup-scripts/cicd/service-principal"
    assert resources_of_type(folder, "databricks_directory")["experiment_parent"]["delete_recursive"] is True


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

"""Prod data is never destroyed by a normal apply (issue 22, prod data guard).

- ``databricks-config/scripts/check_prod_plan.py`` refuses a plan that deletes or replaces a
  catalog, schema, volume, table, registered model or MLflow experiment unless
  ``ALLOW_PROD_DATA_LOSS`` names it. It
  runs here on plans that the real ``terraform`` binary made and printed with ``terraform show
  -json``: providers cannot be downloaded here, so the configurations use the built-in
  ``terraform_data`` resource (no download), named after the prod module's resources, and the test
  then gives each resource change the Databricks type it stands for (``type`` and ``address``, the
  only fields the script reads besides ``mode`` and ``change.actions``: Terraform's "JSON Output
  Format", https://developer.hashicorp.com/terraform/internals/json-format, "Plan Representation").
  Everything else, the action lists of a replacement (both orders), a deletion, a creation and an
  update, is Terraform's own output.
- Every CI/CD platform runs the script in its prod plan job, after the plan and before the plan
  file is kept for the apply, and the prod apply needs that job (static; each check failed on the
  template before the guard existed: no platform ran it).
- The prod schema has no ``force_destroy`` unless a deliberate destroy asks for it; staging's has.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.terraform_refs import parse_file, unquote
from tests.support.variants import TEMPLATE_DIR, Variant
from tests.test_job_operations import platform_of
from tests.test_terraform import resources_of_type, strip_expression

SCRIPT = "databricks-config/scripts/check_prod_plan.py"
TEMPLATE_SCRIPT = TEMPLATE_DIR / "{{cookiecutter.project_name}}" / SCRIPT
MODULE = Path("databricks-config/modules/ml-resources")
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH")

# terraform_data resource name -> the Databricks type it stands for in the plan.
STAND_INS = {
    "project": "databricks_schema",
    "registered_model": "databricks_registered_model",
    "model_training_job": "databricks_job",
    "experiment": "databricks_mlflow_experiment",
}
SCHEMA = 'module.ml_resources.databricks_schema.project["prod_catalog"]'
MODEL = "module.ml_resources.databricks_registered_model.registered_model"
JOB = "module.ml_resources.databricks_job.model_training_job"
EXPERIMENT = "module.ml_resources.databricks_mlflow_experiment.experiment"


def module_text(schema_name: str, model: bool = True, create_before_destroy: bool = False, job_timeout: int = 1,
                experiment_name: str = "experiment") -> str:
    """The stand-in of the prod module: the schema (for_each over the catalog, as unity-catalog.tf
    writes it) and the experiment replaced when their names change, the model deleted when left
    out, a job updated in place when ``job_timeout`` changes."""
    lifecycle = "\n  lifecycle {\n    create_before_destroy = true\n  }" if create_before_destroy else ""
    text = f"""
resource "terraform_data" "project" {{
  for_each         = toset(["prod_catalog"])
  triggers_replace = "{schema_name}"{lifecycle}
}}

resource "terraform_data" "model_training_job" {{
  input = {job_timeout}
}}

resource "terraform_data" "experiment" {{
  triggers_replace = "{experiment_name}"
}}
"""
    if model:
        text += '\nresource "terraform_data" "registered_model" {\n  triggers_replace = "model"\n}\n'
    return text


def terraform(folder: Path, *args: str) -> str:
    environment = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(["terraform", f"-chdir={folder}", *args], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    return done.stdout


def real_plan(tmp_path: Path, before: str, after: str) -> dict:
    """Apply ``before`` (a module text) with local state, then plan ``after`` into a plan file and
    return ``terraform show -json`` of it, with the stand-in types replaced (module docstring)."""
    root = tmp_path / "prod"
    (root / "module").mkdir(parents=True)
    (root / "main.tf").write_text('module "ml_resources" {\n  source = "./module"\n}\n')
    (root / "module/main.tf").write_text(before)
    terraform(root, "init", "-input=false", "-no-color")
    terraform(root, "apply", "-input=false", "-auto-approve", "-no-color")
    (root / "module/main.tf").write_text(after)
    terraform(root, "plan", "-input=false", "-no-color", "-out=prod.tfplan")
    plan = json.loads(terraform(root, "show", "-json", "prod.tfplan"))
    for change in plan["resource_changes"]:
        assert change["type"] == "terraform_data", change
        change["type"] = STAND_INS[change["name"]]
        change["address"] = change["address"].replace("terraform_data.", change["type"] + ".")
    return plan


def run_guard(plan: object, override: str | None = None, script: Path = TEMPLATE_SCRIPT) -> subprocess.CompletedProcess:
    """Run the script as CI does: the plan JSON on standard input, the override in the environment."""
    environment = {key: value for key, value in os.environ.items() if key != "ALLOW_PROD_DATA_LOSS"}
    if override is not None:
        environment["ALLOW_PROD_DATA_LOSS"] = override
    text = plan if isinstance(plan, str) else json.dumps(plan)
    return subprocess.run([sys.executable, str(script)], input=text, capture_output=True, text=True, env=environment)


def actions_of(plan: dict) -> dict[str, list[str]]:
    return {change["address"]: change["change"]["actions"] for change in plan["resource_changes"]}


@needs_terraform
def test_a_renamed_schema_stops_the_prod_plan_unless_named_on_purpose(tmp_path: Path) -> None:
    plan = real_plan(tmp_path, module_text("ml_project"), module_text("renamed_project"))
    assert actions_of(plan)[SCHEMA] == ["delete", "create"]
    assert actions_of(plan)[MODEL] == ["no-op"]

    refused = run_guard(plan)
    assert refused.returncode == 1, refused.stderr
    assert f"  - {SCHEMA} (replace, databricks_schema)" in refused.stderr
    assert f"ALLOW_PROD_DATA_LOSS={SCHEMA}" in refused.stderr
    assert "databricks_mlflow_experiment" not in refused.stderr  # unchanged: no-op

    assert run_guard(plan, override="module.ml_resources.databricks_schema.other").returncode == 1
    allowed = run_guard(plan, override=f" {SCHEMA},\n")
    assert allowed.returncode == 0, allowed.stderr
    assert f"Allowed by ALLOW_PROD_DATA_LOSS, deletes its data: {SCHEMA}" in allowed.stderr


@needs_terraform
def test_a_deleted_model_and_a_create_before_destroy_replacement_stop_it_too(tmp_path: Path) -> None:
    plan = real_plan(tmp_path, module_text("ml_project"), module_text("other", model=False, create_before_destroy=True))
    assert actions_of(plan)[MODEL] == ["delete"]
    assert actions_of(plan)[SCHEMA] == ["create", "delete"]
    refused = run_guard(plan, override=SCHEMA)
    assert refused.returncode == 1
    assert f"  - {MODEL} (delete, databricks_registered_model)" in refused.stderr
    assert SCHEMA not in refused.stderr.split("no apply is allowed:")[1].split("\n\n")[0]
    assert run_guard(plan, override=f"{SCHEMA} {MODEL}").returncode == 0


@needs_terraform
def test_a_replaced_experiment_stops_it_too(tmp_path: Path) -> None:
    """Issue 22 (minor): a project rename renames prod's experiment, and its replacement deletes
    every run (metrics, parameters, the trained models' artifacts) without stopping the plan."""
    plan = real_plan(tmp_path, module_text("ml_project"), module_text("ml_project", experiment_name="renamed"))
    assert actions_of(plan)[EXPERIMENT] == ["delete", "create"]
    assert actions_of(plan)[SCHEMA] == ["no-op"]
    refused = run_guard(plan)
    assert refused.returncode == 1, refused.stderr
    assert f"  - {EXPERIMENT} (replace, databricks_mlflow_experiment)" in refused.stderr
    assert run_guard(plan, override=EXPERIMENT).returncode == 0


@needs_terraform
def test_updates_and_creations_pass(tmp_path: Path) -> None:
    plan = real_plan(tmp_path, module_text("ml_project", model=False), module_text("ml_project", job_timeout=2))
    assert actions_of(plan)[JOB] == ["update"] and actions_of(plan)[MODEL] == ["create"]
    passed = run_guard(plan)
    assert passed.returncode == 0, passed.stderr
    assert "deletes or replaces no catalog, schema, volume, table or model" in passed.stderr


@pytest.mark.parametrize("text", ["", "not json", '{"resource_changes": []}', "[1]"])
def test_what_is_no_plan_is_refused_with_the_reason(text: str) -> None:
    """A failed `terraform show` (empty input) or another file must not pass as a harmless plan."""
    refused = run_guard(text)
    assert refused.returncode == 2
    assert "cannot read the plan" in refused.stderr and "terraform show -json" in refused.stderr


# ---------------------------------------------------------------- every platform runs it before prod's apply

GUARD = re.compile(r"terraform -chdir=(?:databricks-config/)?prod show -json \S*prod\.tfplan\"? "
                   r"\| python3 (?:databricks-config/)?scripts/check_prod_plan\.py")
PROD_PLAN = re.compile(r"terraform -chdir=(?:databricks-config/)?prod plan .*-out=\S*prod\.tfplan")


def command_of(step: dict) -> str:
    command = step.get("run") or step.get("script") or ""
    return "\n".join(command) if isinstance(command, list) else command


def ordered_commands(steps: list) -> list[str]:
    """One text per step (GitHub, Azure DevOps) or script line (GitLab), in order; an artifact
    upload reads as "KEEP THE PLAN"."""
    texts = []
    for step in steps:
        if isinstance(step, str):
            texts.append(step)
        elif step.get("uses", "").startswith("actions/upload-artifact") or "publish" in step:
            texts.append("KEEP THE PLAN")
        else:
            texts.append(command_of(step))
    return texts


def assert_guard_between_plan_and_artifact(commands: list[str], where: str) -> None:
    plan = [i for i, text in enumerate(commands) if PROD_PLAN.search(text)]
    guard = [i for i, text in enumerate(commands) if GUARD.search(text)]
    assert plan and guard, f"{where}: no prod plan followed by check_prod_plan.py"
    assert plan[0] <= guard[0], where
    keep = [i for i, text in enumerate(commands) if text == "KEEP THE PLAN"]
    assert all(guard[0] < i for i in keep), f"{where}: the plan file is kept before the guard ran"
    assert "set -o pipefail" in commands[guard[0]], f"{where}: a failed terraform show must fail the step"


def prod_jobs(project: Path) -> tuple[str, list, list[str]]:
    """(where, the prod plan job's steps or script lines, what the prod apply waits for)."""
    platform = platform_of(project)
    if platform == "github":
        jobs = yaml.safe_load((project / ".github/workflows/terraform-cd.yml").read_text())["jobs"]
        needs = jobs["apply_prod"]["needs"]
        assert jobs["plan_prod"]["steps"][-1]["with"]["retention-days"] <= 5
        steps = jobs["plan_prod"]["steps"]
        (guard,) = [s for s in steps if GUARD.search(command_of(s))]
        assert guard["env"]["ALLOW_PROD_DATA_LOSS"] == "${{ vars.ALLOW_PROD_DATA_LOSS }}"
        return "terraform-cd.yml plan_prod", steps, [needs] if isinstance(needs, str) else needs
    if platform == "gitlab":
        jobs = yaml.safe_load((project / ".gitlab/ci/terraform.gitlab-ci.yml").read_text())
        plan_job = jobs["terraform-plan-prod"]
        assert plan_job["artifacts"].get("when", "on_success") == "on_success", "a refused plan must keep no plan file"
        return "terraform-plan-prod", [*plan_job["script"], "KEEP THE PLAN"], jobs["terraform-apply-prod"]["needs"]
    stages = {s["stage"]: s for s in yaml.safe_load((project / ".azure/devops-pipelines/terraform-cicd.yml").read_text())["stages"]}
    (job,) = stages["PlanProd"]["jobs"]
    return "PlanProd", job["steps"], [stages["ApplyProd"]["dependsOn"]]


def test_every_platform_refuses_a_prod_plan_that_deletes_data_before_it_can_be_applied(generated_project: Path) -> None:
    assert (generated_project / SCRIPT).read_bytes() == TEMPLATE_SCRIPT.read_bytes(), "rendered unchanged"
    where, steps, apply_needs = prod_jobs(generated_project)
    assert_guard_between_plan_and_artifact(ordered_commands(steps), where)
    assert where.split()[-1] in apply_needs, f"the prod apply must wait for {where}"


def test_the_prod_plan_files_are_kept_briefly_and_only_for_members(generated_project: Path) -> None:
    """The plan file holds prod configuration and state values: short retention everywhere it can
    be set, and on GitLab Developer access only (Azure DevOps keeps pipeline artifacts by the
    project's retention policy, which no pipeline file sets)."""
    platform = platform_of(generated_project)
    if platform == "gitlab":
        artifacts = yaml.safe_load((generated_project / ".gitlab/ci/terraform.gitlab-ci.yml").read_text())[
            "terraform-plan-prod"]["artifacts"]
        assert artifacts["access"] in {"developer", "none"}
        number, unit = artifacts["expire_in"].split()
        assert unit.startswith("day") and int(number) <= 5
    elif platform == "github":
        steps = yaml.safe_load((generated_project / ".github/workflows/terraform-cd.yml").read_text())["jobs"][
            "plan_prod"]["steps"]
        (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
        assert 1 <= upload["with"]["retention-days"] <= 5


# ---------------------------------------------------------------- force_destroy only outside prod


def test_only_a_deliberate_destroy_may_delete_the_prod_schema(variant: Variant, generated_project: Path) -> None:
    if not variant.unity_catalog:
        pytest.skip("no schema without Unity Catalog")
    schema = resources_of_type(generated_project / MODULE, "databricks_schema")["project"]
    assert strip_expression(schema["force_destroy"]) == 'var.env != "prod" || var.allow_schema_destroy'
    module_variables = {unquote(n): b for block in parse_file(generated_project / MODULE / "variables.tf")["variable"]
                        for n, b in block.items()}
    assert module_variables["allow_schema_destroy"]["default"] is False
    for env in ("staging", "prod"):
        root = generated_project / "databricks-config" / env
        (call,) = [b['"ml_resources"'] for b in parse_file(root / "main.tf")["module"]]
        variables = {unquote(n): b for block in parse_file(root / "variables.tf")["variable"] for n, b in block.items()}
        assert strip_expression(call["allow_schema_destroy"]) == "var.allow_schema_destroy", env
        assert variables["allow_schema_destroy"]["default"] is False, env


@needs_terraform
def test_force_destroy_evaluates_to_staging_yes_prod_no_deliberate_destroy_yes(tmp_path: Path) -> None:
    """Terraform itself evaluates the schema's force_destroy expression, as generated, for each case."""
    from tests.support.generation import generate_variant
    from tests.support.variants import SUPPORTED_VARIANTS

    variant = next(v for v in SUPPORTED_VARIANTS if v.unity_catalog)
    project = generate_variant(tmp_path / "project", variant)
    (schema,) = re.findall(r"^  force_destroy = (.+)$", (project / MODULE / "unity-catalog.tf").read_text(), re.M)
    folder = tmp_path / "evaluate"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'variable "env" {\n  type = string\n}\n\nvariable "allow_schema_destroy" {\n  type    = bool\n  default = false\n}\n\n'
        f"output \"force_destroy\" {{\n  value = {schema}\n}}\n"
    )
    results = {}
    for env, allow in (("staging", "false"), ("prod", "false"), ("prod", "true")):
        terraform(folder, "apply", "-input=false", "-auto-approve", "-no-color", f"-var=env={env}", f"-var=allow_schema_destroy={allow}")
        results[env, allow] = json.loads(terraform(folder, "output", "-json", "force_destroy"))
    assert results == {("staging", "false"): True, ("prod", "false"): False, ("prod", "true"): True}


def test_the_prod_destroy_commands_use_prod_variables_in_the_order_force_destroy_needs(variant: Variant, generated_project: Path) -> None:
    """The guide's deliberate prod destroy names only variables of prod/, and with Unity Catalog
    applies allow_schema_destroy before destroying: Terraform deletes with force_destroy as the
    state holds it, so a destroy alone would fail on the non-empty schema."""
    readme = (generated_project / "databricks-config/README.md").read_text()
    section = readme.split("## Protect prod data", 1)[1]
    (block,) = re.findall(r"```bash\n(.*?)```", section, re.S)
    commands = [line.split("#")[0].split() for line in block.splitlines() if line.strip()]
    variables = {unquote(n) for b in parse_file(generated_project / "databricks-config/prod/variables.tf")["variable"] for n in b}
    for command in commands:
        assert command[0] == "terraform" and command[1] in {"init", "apply", "destroy"}, command
        named = {argument.split("=")[0] for previous, argument in zip(command, command[1:]) if previous == "-var"}
        assert named <= variables, (command, named - variables)
    verbs = [command[1] for command in commands]
    if variant.unity_catalog:
        assert verbs == ["init", "apply", "destroy"]
        assert all("allow_schema_destroy=true" in " ".join(command) for command in commands[1:])
    else:
        assert verbs == ["init", "destroy"]

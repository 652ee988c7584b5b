"""Guards on the paths to prod that an ops engineer's walk found open (issue 22, second walk).

- A model deployment's run title names the model version and ``force``, so that the prod approver
  sees what will run, and only a run of the branch the environment's jobs track deploys.
- No checkout leaves the job's token in ``.git/config`` for Terraform providers, modules or project
  code; the one step that pushes gets the token through its own environment (run for real below).
- The CI/CD bootstrap does not delete prod's MLflow experiments on a destroy or a moved folder.
- The setup guide says what the bootstrap and pipelines do: GitLab's push token scope, the account
  group, prod's branches on Azure DevOps, what a rename does to prod's model.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml

from tests.support.environments import DEPLOY
from tests.support.variants import (
    AZURE_DEVOPS_VARIANTS,
    GITHUB_VARIANTS,
    GITLAB_VARIANTS,
    UNITY_CATALOG_VARIANTS,
    Variant,
)

WORKFLOWS = Path(".github/workflows")
CICD = Path(".mlops-setup-scripts/cicd")
GUIDE = Path("docs/mlops-setup.md")
DEFAULT_BRANCH, RELEASE_BRANCH = "main", "release"  # cookiecutter.json's defaults, which the tests keep

github_variants = pytest.mark.parametrize("variant", GITHUB_VARIANTS, ids=lambda v: v.id)


def workflow(project: Path, name: str) -> dict:
    """A generated workflow, parsed (PyYAML reads the key ``on`` as True; no test here reads it)."""
    return yaml.safe_load((project / WORKFLOWS / name).read_text())


@github_variants
@pytest.mark.parametrize("env, branch", [("staging", DEFAULT_BRANCH), ("prod", RELEASE_BRANCH)])
def test_model_deployment_shows_what_it_deploys_and_runs_from_the_tracked_branch(
    variant: Variant, generated_project: Path, env: str, branch: str
) -> None:
    """The approval page shows the run's title only: without `run-name` the prod approver sees
    neither the model version nor `force`. Prod's environment admits the default branch too (the
    Terraform apply), so the job itself must refuse a dispatch of another branch's code."""
    deployment = workflow(generated_project, f"deploy-model-{env}.yml")
    title = deployment.get("run-name", "")
    assert "${{ inputs.modelUri }}" in title and env in title, title
    assert re.search(r"\$\{\{ inputs\.force && '[^']*force[^']*' \|\| '' \}\}", title), title
    (job,) = deployment["jobs"].values()
    assert job["environment"] == env
    assert job.get("if") == f"github.ref == 'refs/heads/{branch}'", job.get("if")


@github_variants
def test_no_checkout_keeps_the_token_in_git_config(variant: Variant, generated_project: Path) -> None:
    """actions/checkout writes the job's token to .git/config unless told not to; every later step
    (Terraform providers and modules, the project's code, actions) could read it."""
    checkouts = 0
    for path in sorted((generated_project / WORKFLOWS).glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    checkouts += 1
                    assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: job {name}"
    assert checkouts >= 6


@github_variants
def test_only_the_push_step_holds_the_write_token(variant: Variant, generated_project: Path) -> None:
    """In the apply jobs (contents: write) only the step that pushes the output commit sees the
    token; it runs after the apply, so no Terraform code runs while the token is reachable."""
    cd = workflow(generated_project, "terraform-cd.yml")
    holders = []
    for name, job in cd["jobs"].items():
        steps = job.get("steps", [])
        for index, step in enumerate(steps):
            if "github.token" in yaml.safe_dump(step):
                holders.append(step["name"])
                assert "terraform apply" not in step["run"] and "terraform plan" not in step["run"]
                assert not any("terraform apply" in later.get("run", "") for later in steps[index + 1:]), name
    assert sorted(holders) == sorted(f"Commit the {env} outputs" for env in DEPLOY), holders


@pytest.mark.parametrize("variant", GITHUB_VARIANTS[:1], ids=lambda v: v.id)
def test_the_push_step_authenticates_git_without_writing_git_config(
    variant: Variant, generated_project: Path, tmp_path: Path
) -> None:
    """Runs the push step's shell (bash, git) with the output script replaced by a probe: git must
    see the token's header, and .git/config must not hold it afterwards."""
    step = next(s for job in workflow(generated_project, "terraform-cd.yml")["jobs"].values()
                for s in job.get("steps", []) if s.get("name") == "Commit the staging outputs")
    script = step["run"].replace("${{ github.server_url }}", "https://github.com")
    script = script.replace("bash ../.github/workflows/scripts/commit-terraform-output.sh staging",
                            "git config --get http.https://github.com/.extraheader")
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env={
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PUSH_TOKEN": "ghs_example"},
        capture_output=True, text=True, check=True)
    expected = "AUTHORIZATION: basic " + base64.b64encode(b"x-access-token:ghs_example").decode()
    assert result.stdout.splitlines()[-1] == expected, result.stdout
    assert "ghs_example" not in (tmp_path / ".git/config").read_text()
    assert "extraheader" not in (tmp_path / ".git/config").read_text()


# ----------------------------------------------------------------- prod's MLflow experiments


def _module_value(expression: str, delete_prod_experiments: bool, single_workspace: bool) -> bool:
    """Evaluate a bootstrap module argument made of these two names, `!`, `||` and `&&`."""
    python = (expression.replace("var.delete_prod_experiments", str(delete_prod_experiments))
              .replace("local.single_workspace", str(single_workspace))
              .replace("||", " or ").replace("&&", " and ").replace("!", " not "))
    assert re.fullmatch(r"[\s()]*((True|False|not|or|and)[\s()]*)+", python), expression
    return bool(eval(python))  # noqa: S307 - checked above to hold booleans and operators only


@pytest.mark.parametrize("variant", [*GITHUB_VARIANTS[:1], *AZURE_DEVOPS_VARIANTS[:1], *GITLAB_VARIANTS[:1]],
                         ids=lambda v: v.id)
def test_prod_experiments_are_deleted_only_on_purpose(variant: Variant, generated_project: Path) -> None:
    """delete_recursive = true on the experiment folder let a destroy of the bootstrap, or a changed
    mlflow_experiment_parent_dir, delete prod's experiments. In one workspace staging's folder is
    prod's, so it must be kept too; TF_VAR_delete_prod_experiments=true is the deliberate path."""
    module = hcl2.loads((generated_project / CICD / "service-principal/main.tf").read_text())
    (directory,) = [r['"databricks_directory"']['"experiment_parent"'] for r in module["resource"]
                    if '"databricks_directory"' in r]
    assert directory["delete_recursive"] == "${var.delete_experiments_with_folder}"
    root = (generated_project / CICD / "workspaces.tf").read_text()
    calls = dict(re.findall(r'module "(\w+)_service_principal" \{.*?delete_experiments_with_folder\s*=\s*([^\n]+)',
                            root, re.DOTALL))
    assert set(calls) == set(DEPLOY)
    for single in (False, True):
        assert _module_value(calls["prod"], False, single) is False
        for env in set(DEPLOY) - {"prod"}:  # (every other environment's folder is prod's in one workspace)
            assert _module_value(calls[env], False, single) is (not single), env
        assert _module_value(calls["prod"], True, single) is True
    variables = hcl2.loads((generated_project / CICD / "variables.tf").read_text())["variable"]
    (default,) = [v['"delete_prod_experiments"']["default"] for v in variables if '"delete_prod_experiments"' in v]
    assert default is False
    assert "TF_VAR_delete_prod_experiments=true" in (generated_project / GUIDE).read_text()


# ----------------------------------------------------------------- the setup guide tells the truth


@pytest.mark.parametrize("variant", GITLAB_VARIANTS[:2], ids=lambda v: v.id)
def test_guide_scopes_the_push_token_as_the_bootstrap_does(variant: Variant, generated_project: Path) -> None:
    gitlab_tf = (generated_project / CICD / "gitlab.tf").read_text()
    (scope,) = re.findall(r'GITLAB_PUSH_TOKEN = \{.*?environment_scope\s*=\s*"([^"]+)"', gitlab_tf, re.DOTALL)
    (row,) = [line for line in (generated_project / GUIDE).read_text().splitlines()
              if line.startswith("| `GITLAB_PUSH_TOKEN` |")]
    environments = row.split("|")[2]
    assert f"`{scope}`" in environments and "all" not in environments, row


@pytest.mark.parametrize("variant", [*GITHUB_VARIANTS[:1], *AZURE_DEVOPS_VARIANTS[:1], *GITLAB_VARIANTS[:1],
                                     *UNITY_CATALOG_VARIANTS[:1]], ids=lambda v: v.id)
def test_guide_asks_for_an_account_group(variant: Variant, generated_project: Path) -> None:
    """Unity Catalog grants only account groups; the bootstrap looks each environment's group up and
    adds that environment's principal to it, so the prerequisite asks for one account group per
    deploy environment, each assigned to its own workspace only (issue 22: a shared group made the
    staging principal a user of prod's workspace)."""
    guide = (generated_project / GUIDE).read_text()
    prerequisites = guide[guide.index("## Prerequisites"):guide.index("## Unity Catalog") if variant.unity_catalog
                          else guide.index("## 1.")]
    (item,) = re.findall(r"^- Per deploy environment an account group.*?(?=^- |^#)", prerequisites, re.DOTALL | re.MULTILINE)
    text = " ".join(item.split())
    assert "assigned only to that environment's" in text and "account groups, not workspace-local ones" in text, item
    assert "assigned to both workspaces" not in guide


@pytest.mark.parametrize("variant", [v for v in AZURE_DEVOPS_VARIANTS if v.cloud in ("aws", "azure")][:2],
                         ids=lambda v: v.id)
def test_guide_names_every_branch_prods_state_connection_serves(variant: Variant, generated_project: Path) -> None:
    """Prod's branch control admits the default branch (Terraform) and the release branch (the
    model deployment); the guide must not say "only on main"."""
    tf = (generated_project / CICD / "azure-devops.tf").read_text()
    assert re.search(r"deployed_branch_refs\s*=.*?release", tf, re.DOTALL)
    guide = (generated_project / GUIDE).read_text().splitlines()
    (row,) = [line for line in guide if line.startswith("|") and "prod Terraform state`" in line]
    assert f"prod's only on `{DEFAULT_BRANCH}` (Terraform) and `{RELEASE_BRANCH}` (model deployment)" in row, row


@pytest.mark.parametrize("variant", [*GITHUB_VARIANTS[:1], *UNITY_CATALOG_VARIANTS[:1]], ids=lambda v: v.id)
def test_guide_says_what_a_rename_does_to_prods_model(variant: Variant, generated_project: Path) -> None:
    guide = (generated_project / GUIDE).read_text()
    rename = guide[guide.index("Renaming the project later"):guide.index("## Prerequisites")]
    assert "databricks-config/scripts/check_prod_plan.py" in rename and "ALLOW_PROD_DATA_LOSS" in rename
    assert "staging's copies" in rename
    assert ("Unity Catalog schema" in rename) is variant.unity_catalog
    assert (generated_project / "databricks-config/scripts/check_prod_plan.py").is_file()


"""Azure DevOps: credentials live in the step that uses them (issue 22, Azure DevOps output commit).

The step that commits Terraform's outputs after an apply runs when the apply is done, which may
be long after the job signed in: the state login's OIDC token lives ten minutes (azure), its AWS
session one hour, and a Git credential persisted by the checkout sits in .git/config for every
step of the job (Terraform providers and modules included). So the commit step signs in to the
state again right before it runs, and gets the job's access token in its own environment only.
Static checks on the generated pipelines, plus one run of the commit step's shell with git.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.environments import DEPLOY
from tests.support.variants import AZURE_DEVOPS_VARIANTS, Variant

# The first Azure DevOps variant of each cloud the template offers (a specialised fork may offer one).
ONE_PER_CLOUD = list({v.cloud: v for v in reversed(AZURE_DEVOPS_VARIANTS)}.values())

PIPELINES = ".azure/devops-pipelines"
# The state login task of the clouds whose state the pipelines reach through a service connection.
STATE_LOGIN_TASKS = {"aws": "AWSShellScript@1", "azure": "AzureCLI@2"}
# Names of pipeline variables that carry a credential, as the pipelines name them.
CREDENTIAL_NAME = re.compile(r"token|secret|password|accesskey|sessiontoken|credential", re.IGNORECASE)

azure_devops_variants = pytest.mark.parametrize("variant", AZURE_DEVOPS_VARIANTS, ids=lambda v: v.id)


def jobs(pipeline: dict) -> list[tuple[str, list[dict]]]:
    """(job or deployment name, steps) of every job of an Azure Pipelines file."""
    found = []
    for stage in pipeline.get("stages", [{"jobs": pipeline.get("jobs", [])}]):
        for job in stage["jobs"]:
            steps = job.get("steps") or job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
            found.append((job.get("job") or job.get("deployment"), steps))
    return found


def commit_steps(project: Path) -> dict[str, tuple[list[dict], int]]:
    """Environment -> (steps of its apply job, index of the step that commits its outputs)."""
    pipeline = yaml.safe_load((project / PIPELINES / "terraform-cicd.yml").read_text())
    found = {}
    for _, steps in jobs(pipeline):
        for index, step in enumerate(steps):
            match = re.fullmatch(r"Commit the (\w+) outputs", step.get("displayName", ""))
            if match:
                found[match.group(1)] = (steps, index)
    return found


@azure_devops_variants
def test_output_commit_gets_fresh_credentials_in_its_own_step(variant: Variant, generated_project: Path) -> None:
    commits = commit_steps(generated_project)
    assert sorted(commits) == sorted(DEPLOY), sorted(commits)
    for env, (steps, index) in commits.items():
        step = steps[index]
        # The job's access token, mapped into this step alone, and handed to git through the
        # environment of this step's processes.
        assert step["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)", env
        assert re.search(r'GIT_CONFIG_VALUE_0="AUTHORIZATION: bearer \$\{SYSTEM_ACCESSTOKEN:\?\}"', step["script"]), step["script"]
        assert step["script"].index("GIT_CONFIG_COUNT=1") < step["script"].index("commit-terraform-output.sh")
        # No checkout of the job left a credential in .git/config for the steps before.
        checkouts = [s for s in steps if "checkout" in s]
        assert checkouts and not any(str(s.get("persistCredentials", "false")).lower() == "true" for s in checkouts), env
        # The state login that `terraform output` uses is fresh: signed in right before (aws,
        # azure), or by the step's own script (gcp).
        if variant.cloud in STATE_LOGIN_TASKS:
            previous = steps[index - 1]
            assert previous.get("task") == STATE_LOGIN_TASKS[variant.cloud], (env, previous)
            assert not any("terraform" in s.get("script", "") for s in steps[index - 1:index]), env
        else:
            assert step["script"].splitlines()[1].strip() == "bash .azure/devops-pipelines/scripts/sign-in-to-gcp-state.sh"


@azure_devops_variants
def test_no_pipeline_persists_a_git_credential_or_hands_on_a_credential_in_clear(variant: Variant, generated_project: Path) -> None:
    """persistCredentials writes the job's token to .git/config, where every later step reads it;
    a `task.setvariable` without issecret makes a value readable by every later step and log."""
    shared = 0
    for path in sorted((generated_project / PIPELINES).glob("*.yml")):
        text = path.read_text()
        assert "persistCredentials" not in text, path.name
        for name, flags in re.findall(r"##vso\[task\.setvariable variable=([^;\]]+)([^\]]*)\]", text):
            if CREDENTIAL_NAME.search(name):
                shared += 1
                assert "issecret=true" in flags, f"{path.name}: {name} is handed to later steps in clear"
    if variant.cloud in STATE_LOGIN_TASKS:
        assert shared, "the state login hands on its credentials as secret variables"


@pytest.mark.parametrize("variant", [v for v in ONE_PER_CLOUD if v.cloud == "azure"], ids=lambda v: v.id)
def test_the_commit_step_authenticates_git_without_writing_git_config(
    variant: Variant, generated_project: Path, tmp_path: Path
) -> None:
    """Runs the commit step's script (bash, git) with the output script replaced by a probe: git
    sees the token's header for the repository's URL (the user part dropped), and .git/config
    does not hold it."""
    steps, index = commit_steps(generated_project)["staging"]
    script = steps[index]["script"].replace("bash .azure/devops-pipelines/scripts/commit-terraform-output.sh staging",
                                            "git config --get-urlmatch http.extraheader https://dev.azure.com/org/project/_git/repo")
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env={
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SYSTEM_ACCESSTOKEN": "job-token-example",
        "REPOSITORY_URL": "https://org@dev.azure.com/org/project/_git/repo"}, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "AUTHORIZATION: bearer job-token-example", result.stdout
    config = (tmp_path / ".git/config").read_text()
    assert "job-token-example" not in config and "extraheader" not in config


@pytest.mark.parametrize("variant", ONE_PER_CLOUD, ids=lambda v: v.id)
def test_setup_guide_has_the_admin_limit_who_reads_the_prod_plan_and_for_how_long(variant: Variant, generated_project: Path) -> None:
    """Azure DevOps keeps the prod plan file (prod configuration and state values) as a pipeline
    artifact, whose retention the YAML cannot set: the guide names the artifact, who may read it
    and the two project settings that limit that."""
    pipeline = (generated_project / PIPELINES / "terraform-cicd.yml").read_text()
    assert "artifact: terraform-plan-prod" in pipeline
    guide = " ".join((generated_project / "docs/mlops-setup.md").read_text().split())
    for fact in ("the artifact `terraform-plan-prod`", "secrets included", "View builds",
                 "Project settings, Pipelines, Settings, set *Days to keep artifacts, symbols and attachments*"):
        assert fact in guide, fact

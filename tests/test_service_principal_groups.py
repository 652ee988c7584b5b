"""Issue 22 (major): each deploy environment's CI/CD service principal joins an account group of
its own, assigned only to that environment's workspace.

Both principals used to join one group that the setup guide had the admin assign to both
workspaces: the staging principal, which runs pull-request code, became a user of the prod
workspace (prod's jobs and experiments readable), and on feature-store projects without Unity
Catalog the guide granted that group CREATE SCHEMA and CREATE TABLE on the catalog of prod's
feature tables. The bootstrap needs a Databricks login to plan, so these checks read the
generated HCL (python-hcl2) and the rendered guide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hooks.environments import names
from tests.support.terraform_refs import parse_file, unquote
from tests.support.variants import SUPPORTED_VARIANTS, Variant

PROJECT = "my-mlops-project"  # TEST_ANSWERS' project name
# One variant per CI/CD platform and cloud pair that the guide words differently, plus the
# feature store without Unity Catalog (the guide's catalog grant) and with it.
CHECKED = [
    v for v in SUPPORTED_VARIANTS
    if (v.cloud, v.cicd_platform, v.ml_code, v.unity_catalog) in {
        ("aws", "GitHub Actions", "mlflow_recipes", False),
        ("azure", "Azure DevOps", "mlflow3", True),
        ("gcp", "GitLab", "feature_store", False),
        ("gcp", "GitHub Actions", "feature_store", False),
        ("aws", "GitLab", "feature_store", True),
    }
]


def group_of(env: str) -> str:
    return f"{PROJECT}-{env}-service-principals"


def service_principal_calls(setup: Path) -> dict[str, dict]:
    """``module "<env>_service_principal"`` calls of workspaces.tf, by environment."""
    calls = {}
    for block in parse_file(setup / "workspaces.tf")["module"]:
        for label, body in block.items():
            name = unquote(label)
            if name.endswith("_service_principal"):
                calls[name.removesuffix("_service_principal")] = body
    return calls


@pytest.mark.parametrize("variant", CHECKED, ids=lambda v: v.id)
def test_each_service_principal_joins_only_its_environments_group(variant: Variant, generated_project: Path) -> None:
    setup = generated_project / ".mlops-setup-scripts/cicd"
    calls = service_principal_calls(setup)
    assert sorted(calls) == sorted(names("deploy"))
    for env, call in calls.items():
        assert call["providers"] == {"databricks": f"${{databricks.{env}}}"}, env
        assert unquote(call["group_name"]) == group_of(env), env
    groups = [unquote(call["group_name"]) for call in calls.values()]
    assert len(set(groups)) == len(groups), f"deploy environments share a group: {groups}"
    # The module adds its principal to the group named by group_name, in its provider's workspace.
    module = parse_file(setup / "service-principal/main.tf")
    (data,) = [named['"service_principals"'] for block in module["data"] for rtype, named in block.items()
               if unquote(rtype) == "databricks_group"]
    assert data["display_name"] == "${var.group_name}"
    (member,) = [named['"cicd"'] for block in module["resource"] for rtype, named in block.items()
                 if unquote(rtype) == "databricks_group_member"]
    assert member["group_id"] == "${data.databricks_group.service_principals.id}"
    # databricks.<env> is the workspace admin's login to that environment's workspace.
    aliases = {unquote(body["alias"]) for block in parse_file(setup / "provider.tf")["provider"]
               for label, body in block.items() if unquote(label) == "databricks"}
    assert aliases == set(names("deploy"))

@pytest.mark.parametrize("variant", CHECKED, ids=lambda v: v.id)
def test_guide_assigns_each_group_to_its_own_workspace_and_catalog(variant: Variant, generated_project: Path) -> None:
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    flat = " ".join(guide.split())
    assert "-service-principals` group" not in flat and "assigned to both workspaces" not in flat
    for env in names("deploy"):
        assert f"`{group_of(env)}`: the {env} workspace only" in flat, env
    grants = re.findall(r"GRANT [^`]*ON CATALOG <(\w+) catalog> TO `([^`]+)`", guide)
    if variant.feature_store and not variant.unity_catalog:
        assert grants == [(env, group_of(env)) for env in names("deploy")]
    else:
        assert grants == []
    assert not re.search(r"service-principals`[^.\n]*\bboth\b", guide)

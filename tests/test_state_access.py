"""Who can reach the Terraform state, and with what: the identities CI/CD uses for state must
be allowed everything the backend does and nothing beyond their environment's state.

Azure evaluates role assignment conditions only at request time, so the azure test evaluates the
generated condition offline (tests/support/azure_abac.py) against the blob operations Terraform's
azurerm backend makes. The aws side runs for real against moto: tests/test_deploy_rehearsal.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.azure_abac import (
    BLOB_PATH,
    BLOB_PREFIX,
    BLOBS,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    Request,
    azurerm_backend_requests,
    condition_allows,
)
from tests.support.generation import generate, hosts_for
from tests.support.terraform_refs import load_module, unquote
from tests.support.variants import choices, covering_pairs


def generate_cloud(folder: Path, cloud: str, cicd_platform: str, **answers: str) -> Path:
    return generate(folder, {"cloud": cloud, "cicd_platform": cicd_platform, **hosts_for(cloud), **answers})


@pytest.fixture(scope="module", params=choices("cicd_platform"))
def azure_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_cloud(tmp_path_factory.mktemp("azure"), "azure", request.param)


def state_conditions(project: Path) -> dict[str, str]:
    """{environment: ABAC condition} of the state role assignments in cicd/state-access.tf."""
    cicd = project / ".mlops-setup-scripts" / "cicd"
    text = (cicd / "state-access.tf").read_text()
    (assignment,) = re.findall(r'resource "azurerm_role_assignment" "terraform_state" \{.*?\n\}', text, re.DOTALL)
    assert 'role_definition_name = "Storage Blob Data Contributor"' in assignment
    (condition,) = re.findall(r"<<-CONDITION\n(.*?)\n\s*CONDITION\n", assignment, re.DOTALL)
    objects = {env: unquote(key) for env, key in load_module(cicd).locals["state_objects"].items()}
    return {env: condition.replace("${each.value}", key) for env, key in objects.items()}


@pytest.mark.answers(cloud="azure")
def test_azure_state_identity_may_do_what_the_backend_does(azure_project: Path) -> None:
    """Finding 1: `terraform init` lists blobs; a path-only condition denies that to every CI run."""
    for env, condition in state_conditions(azure_project).items():
        key = f"{env}.terraform.tfstate"
        denied = [r.what for r in azurerm_backend_requests(key) if not condition_allows(condition, r)]
        assert denied == [], f"{env}'s state identity is denied: {denied}"


@pytest.mark.answers(cloud="azure")
def test_azure_state_identity_reaches_only_its_own_state(azure_project: Path) -> None:
    conditions = state_conditions(azure_project)
    for env, condition in conditions.items():
        for other in set(conditions) - {env}:
            other_key = f"{other}.terraform.tfstate"
            for action in STORAGE_BLOB_DATA_CONTRIBUTOR:
                request = Request(f"{action} on {other}", action, None, {BLOB_PATH: other_key})
                assert not condition_allows(condition, request), f"{env} may {action} {other}'s state"
            listing = Request("list", f"{BLOBS}/read", "Blob.List", {BLOB_PREFIX: other_key})
            assert not condition_allows(condition, listing), f"{env} may list {other}'s state"
        unfiltered = Request("list the whole container", f"{BLOBS}/read", "Blob.List", {})
        assert not condition_allows(condition, unfiltered), f"{env} may list every blob"


def test_abac_evaluator_follows_azure_rules() -> None:
    """The evaluator can say no: a missing attribute is false, AND binds tighter than OR."""
    read = Request("read", f"{BLOBS}/read", None, {BLOB_PATH: "a"})
    listing = Request("list", f"{BLOBS}/read", "Blob.List", {BLOB_PREFIX: "a"})
    path_only = f"(!(ActionMatches{{'{BLOBS}/read'}})) OR ({BLOB_PATH} StringEquals 'a')"
    assert condition_allows(path_only, read) and not condition_allows(path_only, listing)
    assert condition_allows(f"ActionMatches{{'x'}} AND ActionMatches{{'y'}} OR {BLOB_PATH} StringStartsWith ''", read)
    assert not condition_allows(f"{BLOB_PATH} StringStartsWith 'b'", read)
    with pytest.raises(ValueError, match="unsupported"):
        condition_allows("Exists @Resource[x]", read)


# --- no long-lived key (findings 3 and 9) -----------------------------------------------------------

# Resource types that mint a long-lived credential for the Terraform state.
KEY_RESOURCES = {"aws_iam_access_key", "aws_iam_user", "google_service_account_key", "azurerm_storage_account_sas"}
# Words that tell a user to keep such a key (all three clouds' names for it).
KEY_NAMES = re.compile(r"ARM_ACCESS_KEY|GOOGLE_CREDENTIALS|AWS_SECRET_ACCESS_KEY|terraform-secrets\.json")


# The three variants of the trial (one per cloud and per CI/CD platform), or what a fork offers.
CLOUD_PAIRS = covering_pairs([("aws", "GitHub Actions"), ("azure", "Azure DevOps"), ("gcp", "GitLab")])


@pytest.fixture(scope="module", params=CLOUD_PAIRS, ids=[f"{c}-{p}" for c, p in CLOUD_PAIRS])
def cloud_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One project per cloud and per CI/CD platform."""
    cloud, platform = request.param
    return cloud, generate_cloud(tmp_path_factory.mktemp(cloud), cloud, platform)


def resource_types(folder: Path) -> set[str]:
    return {unquote(kind) for body in load_module(folder).blocks.get("resource", []) for kind in body}


def test_no_terraform_creates_a_long_lived_state_key(cloud_project: tuple[str, Path]) -> None:
    _, project = cloud_project
    setup = project / ".mlops-setup-scripts"
    folders = [setup / "terraform", setup / "cicd", project / "databricks-config/staging"]
    assert [(f.name, t) for f in folders for t in resource_types(f) & KEY_RESOURCES] == []
    assert load_module(setup / "terraform").outputs == set(), "the state bootstrap hands out no credential"


def test_nothing_tells_the_user_to_store_a_state_key(cloud_project: tuple[str, Path]) -> None:
    _, project = cloud_project
    texts = [*project.glob(".mlops-setup-scripts/**/*.tf"), *project.glob(".mlops-setup-scripts/**/*.py"),
             *project.glob(".mlops-setup-scripts/*.md"), project / "docs/mlops-setup.md"]
    found = [f"{path.relative_to(project)}: {m.group(0)}" for path in texts for m in KEY_NAMES.finditer(path.read_text())]
    assert found == []


@pytest.mark.answers(cloud="azure")
def test_azure_state_storage_takes_entra_id_logins_only(tmp_path: Path) -> None:
    """Shared Key off (no account key can reach the state); every backend and the provider use
    Entra ID, and the operator who runs the bootstrap gets a data role with their own login."""
    project = generate_cloud(tmp_path, "azure", "GitHub Actions")
    state = project / ".mlops-setup-scripts/terraform"
    text = (state / "main-azure.tf").read_text()
    assert re.search(r"\n  shared_access_key_enabled\s+= false", text)
    assert re.search(r"\n  storage_use_azuread = true", text)
    operator = re.search(r'resource "azurerm_role_assignment" "state_operator" \{(.*?)\n\}', text, re.DOTALL)
    assert operator and "data.azurerm_client_config.current.object_id" in operator.group(1)
    for provider_tf in ("databricks-config/staging/provider.tf", "databricks-config/prod/provider.tf",
                        ".mlops-setup-scripts/cicd/provider.tf"):
        assert re.search(r"\n    use_azuread_auth\s+= true\n", (project / provider_tf).read_text()), provider_tf


# --- gcp + GitLab: google.subject fits in 127 bytes -------------------------------------------------

# GitLab ID token claims with a bounded length: numeric ids (at most 19 digits, a 64-bit integer).
BOUNDED_GITLAB_CLAIMS = {"project_id", "job_id", "pipeline_id", "namespace_id", "user_id"}
GOOGLE_SUBJECT_LIMIT = 127  # bytes: https://cloud.google.com/iam/docs/workload-identity-federation#mapping


@pytest.mark.answers(cloud="gcp", cicd_platform="GitLab")
def test_gitlab_google_subject_fits_gcp_limit_for_any_project_path(tmp_path: Path) -> None:
    """GitLab's sub repeats the project path and branch (each up to 255 characters); Google refuses
    a token exchange whose mapped google.subject is longer than 127 bytes."""
    project = generate_cloud(tmp_path, "gcp", "GitLab")
    text = (project / ".mlops-setup-scripts/cicd/state-access.tf").read_text()
    mapping = re.search(r'resource "google_iam_workload_identity_pool_provider" "gitlab" \{.*?attribute_mapping = \{(.*?)\n  \}',
                        text, re.DOTALL)
    assert mapping
    (subject,) = re.findall(r'"google\.subject"\s+= "(.*)"$', mapping.group(1), re.MULTILINE)
    expression = subject.replace('\\"', '"')
    claims = set(re.findall(r"assertion\.(\w+)", expression))
    assert claims and claims <= BOUNDED_GITLAB_CLAIMS, f"google.subject uses unbounded claims {claims - BOUNDED_GITLAB_CLAIMS}"
    literals = re.findall(r'"([^"]*)"', expression)
    assert sum(len(literal.encode()) for literal in literals) + 19 * len(re.findall(r"assertion\.", expression)) <= GOOGLE_SUBJECT_LIMIT
    # Prod's identity: jobs of the protected default branch only, by mapped attribute.
    (prod_ref,) = re.findall(r'"attribute\.prod_ref"\s+= "(.*)"$', mapping.group(1), re.MULTILINE)
    assert all(part in prod_ref for part in ('assertion.ref_type == \\"branch\\"', 'assertion.ref == \\"main\\"',
                                             'assertion.ref_protected == \\"true\\"'))
    assert '/attribute.prod_ref/main"' in text and "/subject/" not in text


# --- gcp: ids built from the project name follow Google's rules -------------------------------------

# Google's id rules: service accounts 6-30 characters, workload identity pools 4-32, both of this form.
GCP_ID = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def gcp_state_ids(project: Path, tmp_path: Path) -> list[str]:
    """The pool id and the state service account ids of the generated cicd/state-access.tf, as the
    real `terraform console` evaluates them (its locals only: no provider needed)."""
    text = (project / ".mlops-setup-scripts/cicd/state-access.tf").read_text()
    folder = tmp_path / f"console-{project.name}"
    folder.mkdir()
    (folder / "main.tf").write_text("\n".join(re.findall(r"^locals \{.*?^\}", text, re.MULTILINE | re.DOTALL)[:2]))
    expression = "jsonencode(concat([local.state_pool_id], values(local.state_account_ids)))"
    result = subprocess.run(["terraform", "console"], cwd=folder, input=expression, capture_output=True, text=True,
                            check=True)
    return json.loads(json.loads(result.stdout))


@pytest.mark.choice(cloud="gcp")
def test_gcp_state_ids_are_valid_and_distinct_for_any_project_name(tmp_path: Path) -> None:
    """A plain cut to 30 characters left "tfstate-prod-churn-prediction-" (trailing "-", refused by
    Google) and gave two long names with a common beginning the same service account."""
    names = ["churn-prediction-model", "abc", "My_Project", "customer-lifetime-value-model-alpha",
             "customer-lifetime-value-model-beta"]
    ids = {name: gcp_state_ids(generate_cloud(tmp_path / name, "gcp", "GitLab", project_name=name), tmp_path)
           for name in names}
    for name, (pool, *accounts) in ids.items():
        assert GCP_ID.fullmatch(pool) and 4 <= len(pool) <= 32, f"{name}: pool id {pool!r}"
        for account in accounts:
            assert GCP_ID.fullmatch(account) and 6 <= len(account) <= 30, f"{name}: service account id {account!r}"
    every_id = [i for found in ids.values() for i in found]
    assert len(set(every_id)) == len(every_id), ids

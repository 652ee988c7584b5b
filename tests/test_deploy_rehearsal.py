"""Deploy rehearsal on aws: the real ``terraform`` binary reaches the generated S3 state backends
through a local AWS emulator (moto in server mode), as the role CI assumes.

What is real here: the backend blocks are the generated ones (copied without the provider
requirements, so no provider is downloaded); the state buckets are the bootstrap's own names;
the OIDC provider, the roles, their trust and permission policies are rendered from the
generated Terraform (``cicd/state-access.tf``) and created in moto; the CI job's credentials
come from ``AssumeRoleWithWebIdentity`` for that role, as ``aws-actions/configure-aws-credentials``
gets them; and moto's IAM emulation is on, so every S3 request Terraform makes (list, read,
write, lock file) must be signed by the role's session and allowed by the role's policy.
``terraform init``, ``state push`` (which takes and releases the S3 lock file), ``state list``
and ``state pull`` must succeed for each environment, and fail with the other environment's
role or against the CI/CD bootstrap's bucket.

The server's request log shows what Terraform sent: the state object and its ``.tflock`` lock
file (written and deleted by ``state push``). moto ignores IAM conditions, so the trust policy
is evaluated offline against the claims of the GitHub environment's OIDC token
(tests/support/aws_policy.py). One condition moto cannot refuse does not matter: every command
lists the workspaces (prefix ``env:/``), which the role's ``s3:prefix`` condition refuses on AWS;
Terraform 1.11's s3 backend carries on with the default workspace when that listing is refused,
as the CI/CD-bucket check below shows (its listing is refused and init goes on to read the state).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from hooks.environments import names
from tests.support.aws_policy import allows, policy_json, resolve
from tests.support.generation import generate, hosts_for
from tests.support.terraform_refs import load_module, unquote

boto3 = pytest.importorskip("boto3", reason="install the dev requirements (moto[server]) for the deploy rehearsal")
pytest.importorskip("moto", reason="install the dev requirements (moto[server]) for the deploy rehearsal")

from tests.support.moto_server import MotoServer, moto_server  # noqa: E402

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
REPOSITORY = "my-org/my-mlops-project"  # what TF_VAR_github_repo_url names
ENVIRONMENTS = names("deploy")
GITHUB_CLAIMS = "token.actions.githubusercontent.com"

pytestmark = [
    pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH"),
    pytest.mark.answers(cloud="aws", cicd_platform="GitHub Actions", include_models_in_unity_catalog="yes"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's aws variant: GitHub Actions, MLflow 3, Unity Catalog."""
    return generate(tmp_path_factory.mktemp("aws"), {
        "cloud": "aws", "cicd_platform": "GitHub Actions", "include_models_in_unity_catalog": "yes", **hosts_for("aws"),
    })


def named(module_dir: Path, block_type: str, kind: str, name: str) -> dict:
    for body in load_module(module_dir).blocks.get(block_type, []):
        for type_label, bodies in body.items():
            if unquote(type_label) == kind and f'"{name}"' in bodies:
                return bodies[f'"{name}"']
    raise KeyError(f"{block_type} {kind}.{name} not in {module_dir}")


def state_identities(project: Path) -> dict[str, dict]:
    """Per environment: the role name, trust policy and permission policy state-access.tf creates,
    rendered with the values the bootstrap would have (the repository above, moto's account)."""
    cicd = project / ".mlops-setup-scripts" / "cicd"
    values = load_module(cicd).locals
    issuer = unquote(values["oidc_issuer"])
    subjects = re.fullmatch(r'\$\{\{for env in keys\(local\.state_objects\) : env => "(.*)"\}\}', values["state_login_subjects"])
    assert subjects, f"unexpected state_login_subjects: {values['state_login_subjects']}"
    role = named(cicd, "resource", "aws_iam_role", "terraform_state")
    identities = {}
    for env in ENVIRONMENTS:
        references = {
            "each.key": env,
            "each.value": unquote(values["state_objects"][env]),
            "local.state_bucket_arn": unquote(values["state_bucket_arn"]),
            "local.github_oidc_provider_arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.removeprefix('https://')}",
            "local.state_login_subjects[each.key]": resolve(subjects.group(1), {"local.github_repository": REPOSITORY, "env": env}),
        }
        identities[env] = {
            "role_name": resolve(role["name"], references),
            "trust": policy_json(named(cicd, "data", "aws_iam_policy_document", "assume_from_github"), references),
            "permissions": policy_json(named(cicd, "data", "aws_iam_policy_document", "terraform_state"), references),
            "oidc_provider_arn": references["local.github_oidc_provider_arn"],
            "issuer": issuer,
        }
    return identities


def backend_folder(project: Path, provider_tf: str, folder: Path, endpoint: str) -> Path:
    """A Terraform folder with only the backend block of ``provider_tf`` (so init downloads no
    provider) and a partial backend configuration that points it at the emulator."""
    text = (project / provider_tf).read_text()
    (block,) = re.findall(r'\n  (backend "s3" \{\n.*?\n  \})\n', text, re.DOTALL)
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(f"terraform {{\n  {block}\n}}\n")
    (folder / "emulator.s3.tfbackend").write_text(
        f'endpoints = {{ s3 = "{endpoint}", sts = "{endpoint}", iam = "{endpoint}" }}\nuse_path_style = true\n'
    )
    return folder


def terraform(folder: Path, credentials: dict, *args: str) -> subprocess.CompletedProcess:
    empty = folder.parent / "empty"
    empty.touch()
    env = {
        "PATH": os.environ["PATH"], "HOME": str(folder.parent), "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(empty),
        "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty), "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
    return subprocess.run(["terraform", *args, *(["-no-color"] if args[0] != "state" else [])], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def init(folder: Path, credentials: dict) -> subprocess.CompletedProcess:
    return terraform(folder, credentials, "init", "-input=false", "-backend-config=emulator.s3.tfbackend")


def state_file(folder: Path, env: str) -> Path:
    """A state as a first apply leaves it: one job, serial 1."""
    version = json.loads(subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True, check=True).stdout)
    path = folder / "applied.tfstate"
    path.write_text(json.dumps({
        "version": 4, "terraform_version": version["terraform_version"], "serial": 1, "lineage": str(uuid.uuid4()),
        "outputs": {}, "check_results": None,
        "resources": [{
            "mode": "managed", "type": "databricks_job", "name": f"{env}_rehearsal",
            "provider": 'provider["registry.terraform.io/databricks/databricks"]',
            "instances": [{"schema_version": 0, "attributes": {"id": "123"}, "sensitive_attributes": []}],
        }],
    }))
    return path


def set_up_aws(server: MotoServer, project: Path, identities: dict[str, dict]) -> dict[str, dict]:
    """Create in moto what the two bootstraps create, then the CI jobs' role sessions; returns them."""
    clients = {name: boto3.client(name, endpoint_url=server.endpoint, region_name=REGION,
                                  aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
               for name in ("s3", "iam", "sts")}
    buckets = load_module(project / ".mlops-setup-scripts/terraform").locals["state_buckets"]
    for bucket in buckets.values():
        clients["s3"].create_bucket(Bucket=unquote(bucket))
        clients["s3"].put_bucket_versioning(Bucket=unquote(bucket), VersioningConfiguration={"Status": "Enabled"})
    any_identity = next(iter(identities.values()))
    clients["iam"].create_open_id_connect_provider(Url=any_identity["issuer"], ClientIDList=["sts.amazonaws.com"],
                                                   ThumbprintList=["0" * 40])
    sessions = {}
    for env, identity in identities.items():
        role = clients["iam"].create_role(RoleName=identity["role_name"],
                                          AssumeRolePolicyDocument=json.dumps(identity["trust"]))["Role"]
        clients["iam"].put_role_policy(RoleName=identity["role_name"], PolicyName=f"terraform-state-{env}",
                                       PolicyDocument=json.dumps(identity["permissions"]))
        sessions[env] = clients["sts"].assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName=f"github-{env}", WebIdentityToken="header.payload.signature",
        )["Credentials"]
    return sessions


def test_trust_policy_admits_only_the_environments_jobs(project: Path) -> None:
    """moto does not check trust policies for web identities; this evaluates the generated one."""
    for env, identity in state_identities(project).items():
        (statement,) = identity["trust"]["Statement"]
        assert statement["Principal"] == {"Federated": [identity["oidc_provider_arn"]]}
        token = {f"{GITHUB_CLAIMS}:aud": "sts.amazonaws.com", f"{GITHUB_CLAIMS}:sub": f"repo:{REPOSITORY}:environment:{env}"}
        assert allows(identity["trust"], "sts:AssumeRoleWithWebIdentity", None, token)
        for other_subject in (f"repo:{REPOSITORY}:pull_request", f"repo:{REPOSITORY}:ref:refs/heads/main",
                              *(f"repo:{REPOSITORY}:environment:{e}" for e in ENVIRONMENTS if e != env),
                              f"repo:other-org/my-mlops-project:environment:{env}"):
            assert not allows(identity["trust"], "sts:AssumeRoleWithWebIdentity", None,
                              {**token, f"{GITHUB_CLAIMS}:sub": other_subject}), f"{env} trusts {other_subject}"


@pytest.mark.large
def test_ci_role_reaches_its_state_through_the_generated_backend(project: Path, tmp_path: Path) -> None:
    identities = state_identities(project)
    with moto_server(tmp_path / "moto.log") as server:
        sessions = set_up_aws(server, project, identities)
        server.enforce_iam()
        for env in ENVIRONMENTS:
            first_request = len(server.requests())
            folder = backend_folder(project, f"databricks-config/{env}/provider.tf", tmp_path / env, server.endpoint)
            result = init(folder, sessions[env])
            assert result.returncode == 0, f"{env}: terraform init as the CI role failed:\n{result.stdout}{result.stderr}"
            pushed = state_file(folder, env)
            for args in (("state", "push", pushed.name), ("state", "list")):
                result = terraform(folder, sessions[env], *args)
                assert result.returncode == 0, f"{env}: terraform {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            assert result.stdout.split() == [f"databricks_job.{env}_rehearsal"]
            pulled = json.loads(terraform(folder, sessions[env], "state", "pull").stdout)
            assert pulled["resources"] == json.loads(pushed.read_text())["resources"]

            # The requests Terraform really sent for this environment.
            sent = server.requests()[first_request:]
            key = identities[env]["permissions"]["Statement"][1]["Resource"][0].split(":::", 1)[1]
            calls = {(method, path) for method, path, _, status in sent if status < 300}
            assert {("PUT", f"/{key}.tflock"), ("DELETE", f"/{key}.tflock"), ("PUT", f"/{key}")} <= calls, (
                f"{env}: state push did not take and release the S3 lock file: {sent}"
            )

        # The other environment's role, and any CI role on the CI/CD bootstrap's state, are refused.
        for env, other in (("staging", "prod"), ("prod", "staging")):
            result = terraform(tmp_path / other, sessions[env], "state", "pull")
            assert result.returncode != 0 and "403" in result.stdout + result.stderr, (
                f"{env}'s role read {other}'s state:\n{result.stdout}{result.stderr}"
            )
        cicd = backend_folder(project, ".mlops-setup-scripts/cicd/provider.tf", tmp_path / "cicd", server.endpoint)
        first_request = len(server.requests())
        result = init(cicd, sessions["staging"])
        assert result.returncode != 0 and "403" in result.stdout + result.stderr, (
            f"the staging role reached the CI/CD bootstrap's state:\n{result.stdout}{result.stderr}"
        )
        # A refused workspace listing does not stop Terraform: it goes on to read the state object.
        sent = [(method, "list-type" in query, status) for method, _, query, status in server.requests()[first_request:]]
        assert ("GET", True, 403) in sent and sent.index(("GET", True, 403)) < sent.index(("HEAD", False, 403)), sent

"""The aws state buckets' policy: only the roles that need the Terraform state reach its objects.

IAM policies alone let any principal of the account with ``s3:GetObject`` on ``*`` (the managed
ReadOnlyAccess policy, for one) read the CI/CD bootstrap's state, with its secrets, and the ML
resources' state. The bucket policy of ``.mlops-setup-scripts/terraform/main-aws.tf`` denies
object requests to everyone but the principal that applies it, the extra admins it names, and on
the ML resources' bucket each environment's CI/CD role, on its own state key only.

What runs: the real ``terraform`` binary applies the generated module (its bucket policies and
what they depend on) with the real aws provider against moto in server mode, signed in as an IAM
Identity Center-like role with a path, as an operator's SSO login is; the policies are read back
from moto. moto cannot judge them (it checks a bucket policy's Deny without the request's
principal or conditions, so it refuses every object request to everyone once any of these
policies is in place), so ``tests/support/aws_policy.s3_request_allowed`` evaluates requests
against them by IAM's rules. The aws provider comes from a local mirror
(``$TF_PROVIDER_MIRROR``, default ``/opt/tf-plugins``); without one the test is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.aws_policy import s3_request_allowed
from tests.support.generation import generate, hosts_for
from tests.support.terraform_refs import load_module, unquote

ACCOUNT = "123456789012"  # moto's default account
OPERATOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123abcd"
BREAK_GLASS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/break-glass"
READER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ReadOnly"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
READ_ONLY_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
PROVIDER_MIRROR = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))

pytestmark = pytest.mark.answers(cloud="aws")


def test_simulator_follows_iams_rules() -> None:
    """The evaluator's own rules, each from the IAM reference: a negated operator with several
    values holds only when none matches; ArnLike's wildcards stay within one part of the ARN; an
    explicit Deny wins over any Allow; a same-account Allow in either policy suffices."""
    deny_others = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject*", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/p*"]}},
    }]}
    assert s3_request_allowed([EVERYTHING], deny_others, "arn:aws:iam::1:role/a", "s3:GetObject", "arn:aws:s3:::b/k")
    assert s3_request_allowed([EVERYTHING], deny_others, "arn:aws:iam::1:role/path/x", "s3:GetObject", "arn:aws:s3:::b/k")
    assert not s3_request_allowed([EVERYTHING], deny_others, "arn:aws:iam::1:role/b", "s3:GetObjectVersion", "arn:aws:s3:::b/k")
    assert not s3_request_allowed([EVERYTHING], deny_others, "arn:aws:iam::2:role/a", "s3:GetObject", "arn:aws:s3:::b/k")
    assert s3_request_allowed([EVERYTHING], deny_others, "arn:aws:iam::1:role/b", "s3:ListBucket", "arn:aws:s3:::b")
    no_policy = {"Version": "2012-10-17", "Statement": []}
    assert not s3_request_allowed([], no_policy, "arn:aws:iam::1:role/a", "s3:GetObject", "arn:aws:s3:::b/k")
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:role/a"]},
                                                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    assert s3_request_allowed([], grant, "arn:aws:iam::1:role/a", "s3:GetObject", "arn:aws:s3:::b/k")
    assert not s3_request_allowed([], grant, "arn:aws:iam::1:role/c", "s3:GetObject", "arn:aws:s3:::b/k")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("aws"), {
        "cloud": "aws", "cicd_platform": "GitHub Actions", "include_models_in_unity_catalog": "yes", **hosts_for("aws"),
    })


def applied_bucket_policies(project: Path, tmp_path: Path) -> dict[str, dict]:
    """Apply the generated state-storage module's bucket policies in moto as the operator's SSO
    role with ``state_admin_principal_arns = [BREAK_GLASS_ROLE]``; returns bucket name => policy."""
    boto3 = pytest.importorskip("boto3", reason="install the dev requirements (moto[server])")
    pytest.importorskip("moto", reason="install the dev requirements (moto[server])")
    from tests.support.moto_server import moto_server

    module = tmp_path / "terraform"
    shutil.copytree(project / ".mlops-setup-scripts/terraform", module, ignore=shutil.ignore_patterns("*.py"))
    with moto_server(tmp_path / "moto.log") as server:
        # An override file (Terraform merges it into the module's provider block) points the provider at moto.
        (module / "emulator_override.tf").write_text(
            'provider "aws" {\n  s3_use_path_style = true\n  endpoints {\n'
            + "".join(f'    {service} = "{server.endpoint}"\n' for service in ("s3", "sts", "iam"))
            + "  }\n}\n"
        )
        clients = {name: boto3.client(name, endpoint_url=server.endpoint, region_name="us-east-1",
                                      aws_access_key_id="admin", aws_secret_access_key="admin") for name in ("iam", "sts", "s3")}
        path, name = OPERATOR_ROLE.split(":role", 1)[1].rsplit("/", 1)
        role = clients["iam"].create_role(RoleName=name, Path=f"{path}/", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]}))
        session = clients["sts"].assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="ops@example.com")["Credentials"]
        empty = tmp_path / "empty"
        empty.touch()
        env = {
            "PATH": os.environ["PATH"], "HOME": str(tmp_path), "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(empty),
            "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty), "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": session["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": session["SecretAccessKey"],
            "AWS_SESSION_TOKEN": session["SessionToken"],
        }
        if not (PROVIDER_MIRROR / "registry.terraform.io/hashicorp/aws").is_dir():
            # terraform init cannot download providers on a machine without registry access.
            pytest.skip(f"no aws provider in the local mirror {PROVIDER_MIRROR} (set TF_PROVIDER_MIRROR)")
        mirror = [f"-plugin-dir={PROVIDER_MIRROR}"]
        # A session's ARN instead of its role's is refused before anything is created, naming it.
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/break-glass/me"
        refused = None
        for args in (["init", "-input=false", *mirror],
                     ["apply", "-input=false", "-auto-approve", f"-var=state_admin_principal_arns={json.dumps([session_arn])}"],
                     ["apply", "-input=false", "-auto-approve", "-target=aws_s3_bucket_policy.terraform_state",
                      f"-var=state_admin_principal_arns={json.dumps([BREAK_GLASS_ROLE])}"]):
            result = subprocess.run(["terraform", *args, "-no-color"], cwd=module, env=env, capture_output=True, text=True, timeout=300)
            if session_arn in args[-1]:
                refused = result
                assert clients["s3"].list_buckets()["Buckets"] == [], "a refused apply left buckets behind"
                continue
            assert result.returncode == 0, f"terraform {args[0]} failed:\n{result.stdout}{result.stderr}"
        assert refused is not None and refused.returncode != 0
        message = " ".join(refused.stderr.split())
        assert "state_admin_principal_arns" in message and session_arn in message, message
        assert "arn:aws:iam::123456789012:role/admin" in message, message
        buckets = [unquote(b) for b in load_module(project / ".mlops-setup-scripts/terraform").locals["state_buckets"].values()]
        return {bucket: json.loads(clients["s3"].get_bucket_policy(Bucket=bucket)["Policy"]) for bucket in buckets}


@pytest.mark.large
@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH")
def test_only_the_state_roles_reach_the_state_objects(project: Path, tmp_path: Path) -> None:
    policies = applied_bucket_policies(project, tmp_path)
    names = load_module(project / ".mlops-setup-scripts/terraform").locals["state_buckets"]
    ml_bucket, cicd_bucket = unquote(names["ml_resources"]), unquote(names["cicd_setup"])
    state_access = (project / ".mlops-setup-scripts/cicd/state-access.tf").read_text()
    keys = {env: unquote(key) for env, key in load_module(project / ".mlops-setup-scripts/cicd").locals["state_objects"].items()}
    ci_roles = {env: f"arn:aws:iam::{ACCOUNT}:role/my-mlops-project-tfstate-{env}" for env in keys}
    assert 'name                 = "my-mlops-project-tfstate-${each.key}"' in state_access, "CI role names changed"

    def allowed(principal: str, identity: dict | None, action: str, bucket: str, key: str, **transport) -> bool:
        return s3_request_allowed([identity] if identity else [], policies[bucket], principal, action,
                                  f"arn:aws:s3:::{bucket}/{key}", **transport)

    every_object = [(ml_bucket, f"{key}{suffix}") for key in keys.values() for suffix in ("", ".tflock")]
    every_object.append((cicd_bucket, "cicd-setup.terraform.tfstate"))
    for bucket, key in every_object:
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            # The operator who applied the module (its SSO role, with the role's path), and the named admin.
            assert allowed(OPERATOR_ROLE, EVERYTHING, action, bucket, key), f"the operator is locked out of {bucket}/{key}"
            assert allowed(BREAK_GLASS_ROLE, EVERYTHING, action, bucket, key), f"the break-glass role cannot {action} {bucket}/{key}"
        # A read-only role of the account, and any other admin, are refused the state.
        for principal in (READER_ROLE, f"arn:aws:iam::{ACCOUNT}:role/OtherAdmin", f"arn:aws:iam::{ACCOUNT}:user/someone"):
            for action in ("s3:GetObject", "s3:GetObjectVersion"):
                assert not allowed(principal, READ_ONLY_ACCESS, action, bucket, key), f"{principal} can {action} {bucket}/{key}"
            assert not allowed(principal, EVERYTHING, "s3:PutObject", bucket, key), f"{principal} can write {bucket}/{key}"
        # State travels over TLS 1.2+ only, for everyone.
        assert not allowed(OPERATOR_ROLE, EVERYTHING, "s3:GetObject", bucket, key, secure_transport=False)
        assert not allowed(OPERATOR_ROLE, EVERYTHING, "s3:GetObject", bucket, key, tls_version="1.1")

    # Each CI/CD role, even with every permission in its own policies, reaches only its own
    # environment's state and lock file: not the other environment's, not the bootstrap's.
    for env, role in ci_roles.items():
        for bucket, key in every_object:
            own = bucket == ml_bucket and key.startswith(keys[env])
            for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                assert allowed(role, EVERYTHING, action, bucket, key) == own, f"{env}'s role: {action} {bucket}/{key}"

    # Escape hatch: only object requests are denied; the account's root user (and whoever IAM lets
    # manage bucket policies) can still read and rewrite the policy.
    for bucket in (ml_bucket, cicd_bucket):
        for action in ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"):
            assert s3_request_allowed([], policies[bucket], ROOT, action, f"arn:aws:s3:::{bucket}"), f"root cannot {action}"

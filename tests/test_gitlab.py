"""The generated GitLab CI/CD: schema, linters, shellcheck, rules and a real job run, offline.

Every GitLab variant's files go through GitLab's CI schema (check-jsonschema's
``vendor.gitlab-ci``) and ``gitlab-ci-verify`` (offline: its curated checks and its
shellcheck pass); every ``before_script``/``script``/``after_script`` also goes through
shellcheck on its own. The pipeline's rules are evaluated by ``gitlab-ci-local`` for the
events that matter, and a large test runs the unit-test job for real with its shell
executor. The bootstrap's GitLab variables must be the ones the jobs read.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tests.support.debian_tool import ToolMissing, with_tool
from tests.support.code_signature import MIN_PROJECT_TESTS
from tests.support.environments import DEPLOY, PULL_REQUEST, host_answer
from tests.support.generation import TEST_HOSTS, answers_for
from tests.support.gitlab_ci_local import NodeMissing, as_gitlab_checkout, ensure_gitlab_ci_local, gitlab_ci_local
from tests.support.markdown_links import broken_links
from tests.support.project_python import mlflow3_python  # noqa: F401 (pytest fixture)
from tests.support.terraform_refs import parse_file, unquote
from tests.support.tools import CHECK_JSONSCHEMA, GITLAB_CI_VERIFY, SHELLCHECK, VENV_BIN
from tests.support.variants import GITLAB_VARIANTS, Variant

ROOT_FILE = ".gitlab-ci.yml"
JOB_FOLDER = ".gitlab/ci"
# Workspace hosts for the SDK checks, which generate nothing; generated projects use their cloud's TEST_HOSTS.
HOSTS = dict(zip(("staging", "prod"), TEST_HOSTS["azure"]))
# Keys of a CI file that are not jobs.
GLOBAL_KEYS = {"workflow", "stages", "default", "include", "variables", "image", "services", "cache", "before_script", "after_script"}


@pytest.fixture(params=GITLAB_VARIANTS, ids=lambda v: v.id)
def variant(request: pytest.FixtureRequest) -> Variant:
    """The GitLab variants only: every cloud, with and without the feature store."""
    return request.param


def run(command: list[Any], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def ci_files(project: Path) -> list[Path]:
    """The root file and every job file it includes."""
    return [project / ROOT_FILE, *sorted((project / JOB_FOLDER).glob("*.gitlab-ci.yml"))]


def jobs(project: Path) -> dict[str, dict]:
    """Every job of the pipeline (hidden ones included) by name."""
    found = {}
    for path in ci_files(project):
        for name, body in (yaml.safe_load(path.read_text()) or {}).items():
            if name not in GLOBAL_KEYS:
                assert name not in found, f"job {name} is defined twice"
                found[name] = body
    return found


def job_scripts(job: dict) -> Iterator[tuple[str, str]]:
    """(section, script text) of a job's before_script, script and after_script."""
    for section in ("before_script", "script", "after_script"):
        lines = job.get(section) or []
        if lines:
            yield section, "\n".join(lines if isinstance(lines, list) else [lines])


# ---------------------------------------------------------------- which files exist


def test_gitlab_files_and_no_other_platform(generated_project: Path) -> None:
    assert (generated_project / ROOT_FILE).is_file()
    assert {p.name for p in (generated_project / JOB_FOLDER).glob("*.yml")} == {
        "tests.gitlab-ci.yml", "terraform.gitlab-ci.yml", "deploy-model.gitlab-ci.yml", "check-template-updates.gitlab-ci.yml",
    }
    assert not (generated_project / ".github").exists() and not (generated_project / ".azure").exists()
    assert not (generated_project / ".mlops-setup-scripts/cicd/azure-devops.tf").exists()
    assert not (generated_project / ".mlops-setup-scripts/cicd/github.tf").exists()


def test_template_update_check_runs_only_in_its_schedule(generated_project: Path) -> None:
    """The cruft check job runs alone, in the pipeline schedule that sets CHECK_TEMPLATE_UPDATES."""
    job = yaml.safe_load((generated_project / JOB_FOLDER / "check-template-updates.gitlab-ci.yml").read_text())["check-template-updates"]
    assert [rule["if"] for rule in job["rules"]] == ['$CI_PIPELINE_SOURCE == "schedule" && $CHECK_TEMPLATE_UPDATES == "true"']
    assert job["script"] == ['CI_JOB_TOKEN_VALUE="${CI_JOB_TOKEN}" .gitlab/ci/scripts/check-template-updates.sh']
    others = [rule.get("if", "") for name, body in jobs(generated_project).items() if name != "check-template-updates"
              for rule in body.get("rules", [])]
    assert not [rule for rule in others if "schedule" in rule]


def test_root_file_includes_every_job_file(generated_project: Path) -> None:
    root = yaml.safe_load((generated_project / ROOT_FILE).read_text())
    included = {entry["local"] for entry in root["include"]}
    assert included == {str(p.relative_to(generated_project)) for p in ci_files(generated_project)[1:]}


# ---------------------------------------------------------------- schema and linters


def test_ci_files_match_the_gitlab_ci_schema(generated_project: Path) -> None:
    result = run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.gitlab-ci", *ci_files(generated_project)], cwd=generated_project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_ci_schema_rejects_an_unknown_job_keyword(tmp_path: Path) -> None:
    """The schema check above would pass vacuously if the schema accepted anything."""
    bad = tmp_path / ".gitlab-ci.yml"
    bad.write_text("job:\n  script: [echo]\n  when: sometimes\n")
    assert run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.gitlab-ci", bad], cwd=tmp_path).returncode != 0


def gitlab_ci_verify(project: Path, ci_file: Path) -> subprocess.CompletedProcess:
    """gitlab-ci-verify without GitLab's lint API (offline), with the pinned shellcheck first on PATH."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    return run([GITLAB_CI_VERIFY, "--no-lint-api", "--gitlab-ci-file", ci_file.relative_to(project)], cwd=project, env=env)


def test_gitlab_ci_verify_reports_nothing(generated_project: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / generated_project.name)
    run(["git", "init", "-q", "."], cwd=project).check_returncode()
    for ci_file in ci_files(project):
        result = gitlab_ci_verify(project, ci_file)
        assert (result.returncode, result.stdout + result.stderr) == (0, ""), ci_file.name


def test_gitlab_ci_verify_runs_shellcheck_on_scripts(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("job:\n  script:\n    - echo $UNQUOTED\n")
    run(["git", "init", "-q", "."], cwd=tmp_path).check_returncode()
    result = gitlab_ci_verify(tmp_path, tmp_path / ".gitlab-ci.yml")
    assert result.returncode != 0 and "SC2086" in result.stdout


def shellcheck_problems(script: str, workdir: Path) -> str:
    """shellcheck's findings for a job script, run as GitLab runs it (bash, one session)."""
    result = subprocess.run([str(SHELLCHECK), "--shell=bash", "-"], input=script, cwd=workdir, capture_output=True, text=True)
    return result.stdout


def test_every_job_script_passes_shellcheck(generated_project: Path) -> None:
    problems = {
        f"{name}.{section}": found
        for name, job in jobs(generated_project).items()
        for section, script in job_scripts(job)
        if (found := shellcheck_problems(script, generated_project))
    }
    assert problems == {}


def test_shellcheck_of_job_scripts_finds_problems(tmp_path: Path) -> None:
    assert "SC2086" in shellcheck_problems("rm -rf $FOLDER/build", tmp_path)


def test_shell_scripts_parse_pass_shellcheck_and_are_executable(generated_project: Path) -> None:
    scripts = sorted((generated_project / JOB_FOLDER / "scripts").glob("*.sh"))
    assert {p.name for p in scripts} == {"commit-terraform-output.sh", "check-template-updates.sh", "refuse-unreviewed-variables.sh"}
    for script in scripts:
        # The guard runs before before_script installs bash into the Terraform image: POSIX sh.
        shell = "sh" if script.name == "refuse-unreviewed-variables.sh" else "bash"
        assert script.read_text().startswith("#!/bin/sh\n" if shell == "sh" else "#!/usr/bin/env bash\n"), script
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert run([shell, "-n", script], cwd=generated_project).returncode == 0
        lint = run([SHELLCHECK, script], cwd=generated_project)
        assert lint.returncode == 0, lint.stdout


# ---------------------------------------------------------------- consistency


PATH_TOKEN = re.compile(
    r"(?<![\w$/.-])(?:\.gitlab/ci|notebooks|steps|databricks-config|features)/[\w./-]*\w|(?<![\w$/.-])[\w-]*requirements\.txt"
)
CHDIR = re.compile(r"-chdir=([\w./-]+)")


def test_every_path_a_job_names_exists(generated_project: Path) -> None:
    named = {
        token
        for job in jobs(generated_project).values()
        for _, script in job_scripts(job)
        for token in PATH_TOKEN.findall(script) + CHDIR.findall(script)
    }
    assert "requirements.txt" in named and ".gitlab/ci/scripts/commit-terraform-output.sh" in named
    # databricks-config/output/ is what the apply jobs write (and the output jobs commit).
    assert sorted(n for n in named if not (generated_project / n).exists() and not n.startswith("databricks-config/output")) == []


def test_needs_and_stages_name_what_exists(generated_project: Path) -> None:
    stages = yaml.safe_load((generated_project / ROOT_FILE).read_text())["stages"]
    all_jobs = jobs(generated_project)
    for name, job in all_jobs.items():
        assert job["stage"] in stages, name
        for needed in job.get("needs", []):
            assert needed in all_jobs, f"{name} needs {needed}"
            assert stages.index(all_jobs[needed]["stage"]) <= stages.index(job["stage"]), f"{name} needs a later job"


def test_every_databricks_job_names_its_auth_type_and_workspace(variant: Variant, generated_project: Path) -> None:
    hosts = {env: answers_for(variant)[host_answer(env)] for env in DEPLOY}
    databricks_jobs = {name: job for name, job in jobs(generated_project).items() if "id_tokens" in job}
    assert set(databricks_jobs) == {"integration-test"} | {
        f"{kind}-{env}" for env in DEPLOY for kind in ("terraform-plan", "terraform-apply", "deploy-model")}
    for name, job in databricks_jobs.items():
        env = job["environment"]["name"]
        assert job["variables"]["DATABRICKS_AUTH_TYPE"] == "env-oidc", name
        assert job["variables"]["DATABRICKS_HOST"] == hosts[env], name
        assert job["id_tokens"]["DATABRICKS_OIDC_TOKEN"] == {"aud": hosts[env]}, name
        # Besides it, only the Terraform jobs' state login token (checked below).
        assert set(job["id_tokens"]) - {"DATABRICKS_OIDC_TOKEN"} <= {"STATE_ID_TOKEN", "ARM_OIDC_TOKEN"}, name


def test_merge_request_jobs_never_use_prod(generated_project: Path) -> None:
    """No job of a merge request pipeline signs in to prod or starts a pipeline that does (issue 22,
    finding 6: the former manual prod plan request ran the merge request's databricks-config/
    with prod's identity on the default branch)."""
    for name, job in jobs(generated_project).items():
        runs_on_merge_requests = any("merge_request_event" in rule.get("if", "") for rule in job.get("rules", []))
        if runs_on_merge_requests:
            assert (job.get("environment") or {}).get("name") != "prod", name
            assert "PROD" not in json.dumps(job.get("variables", {})), name
            assert "trigger" not in job, name
    # Only pipelines of the protected default branch plan prod; no pipeline-source backdoor.
    for name in ("terraform-plan-prod", "terraform-apply-prod"):
        conditions = [rule["if"] for rule in jobs(generated_project)[name]["rules"]]
        assert conditions and all('$CI_COMMIT_BRANCH == "main"' in c and "merge_request" not in c for c in conditions), name
    workflow = yaml.safe_load((generated_project / ROOT_FILE).read_text())["workflow"]["rules"]
    assert not [rule for rule in workflow if '"pipeline"' in rule.get("if", "")]


def test_prod_applies_the_saved_plan_its_approvers_read(generated_project: Path) -> None:
    """Prod is planned once into a plan file that the approval shows (log and artifact), and the
    approved job applies exactly that file (issue 22, finding 7)."""
    all_jobs = jobs(generated_project)
    plan, apply = all_jobs["terraform-plan-prod"], all_jobs["terraform-apply-prod"]
    plan_script, apply_script = "\n".join(plan["script"]), "\n".join(apply["script"])
    # The plan: no approval (changes nothing), its file and its text kept for the apply and the approver.
    assert plan["environment"] == {"name": "prod", "action": "prepare"}
    assert "plan -input=false -lock-timeout=10m -out=prod.tfplan" in plan_script
    assert "show -no-color prod.tfplan >terraform-plan-prod.txt" in plan_script
    assert set(plan["artifacts"]["paths"]) == {"databricks-config/prod/prod.tfplan", "terraform-plan-prod.txt"}
    assert plan["artifacts"]["access"] == "developer"
    # The apply: held for the prod approval (a deployment: action start), fed by the plan job.
    assert apply["environment"] == {"name": "prod"} and apply["needs"] == ["terraform-plan-prod"]
    # Same events as the plan, but never automatic, on every GitLab tier: without Premium's protected
    # environment, a person starting it by hand is the gate (issue 22 trial, M2).
    assert [{k: v for k, v in rule.items() if k != "when"} for rule in apply["rules"]] == plan["rules"]
    assert [rule.get("when") for rule in apply["rules"]] == ["manual"] * len(plan["rules"])
    applies = [line for line in apply["script"] if " apply " in f" {line} "]
    assert applies == ["terraform -chdir=databricks-config/prod apply -input=false -lock-timeout=10m prod.tfplan"]
    assert "-auto-approve" not in apply_script and " plan " not in apply_script
    # Staging never waits for prod: it needs no prod job.
    assert "needs" not in all_jobs["terraform-apply-staging"]


def test_a_failed_output_commit_warns_and_never_holds_prod_back(generated_project: Path, tmp_path: Path) -> None:
    """The output commit (expired or missing token, push refused) exits 3, which its job allows:
    prod's plan still runs after staging's apply (issue 22, minor). It runs in a job of its own, the
    only kind that gets the push token (environment terraform-output; issue 22 trial, M1): the apply
    job passes it the outputs as an artifact and never holds the token. The job's commands run here
    as GitLab's runner runs them (bash, errexit), without GITLAB_PUSH_TOKEN and with a commit
    script that fails: a missing token used to stop the job with exit code 1."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    script = tmp_path / JOB_FOLDER / "scripts/commit-terraform-output.sh"
    script.parent.mkdir(parents=True)
    script.write_text("echo 'push refused' >&2\nexit 1\n")
    env = {key: value for key, value in os.environ.items() if key != "GITLAB_PUSH_TOKEN"}
    env.update(CI_SERVER_PROTOCOL="https", CI_SERVER_FQDN="gitlab.invalid", CI_PROJECT_PATH="group/project")
    all_jobs = jobs(generated_project)
    for env_name in DEPLOY:
        apply, commit = all_jobs[f"terraform-apply-{env_name}"], all_jobs[f"terraform-output-{env_name}"]
        assert commit["allow_failure"] == {"exit_codes": [3]}, env_name
        assert f"commit-terraform-output.sh {env_name} --from-artifact" in commit["script"][-1], env_name
        assert commit["script"][-1].endswith("|| exit 3"), env_name
        assert commit["needs"] == [f"terraform-apply-{env_name}"]
        assert commit["environment"] == {"name": "terraform-output"}
        assert apply["artifacts"]["paths"] == [f"databricks-config/output/{env_name}.json"], env_name
        assert "GITLAB_PUSH_TOKEN" not in json.dumps(apply) and "allow_failure" not in apply, env_name
        assert not [line for line in commit["script"] if "terraform " in line], env_name
        done = run(["bash", "-c", "set -eo pipefail\n" + "\n".join(commit["script"])], cwd=tmp_path, env=env)
        assert done.returncode == 3, (env_name, done.returncode, done.stderr)
    users = [name for name, job in all_jobs.items() if "GITLAB_PUSH_TOKEN" in json.dumps(job)]
    assert sorted(users) == sorted(f"terraform-output-{env}" for env in DEPLOY)
    scoped = {name for name, job in all_jobs.items() if (job.get("environment") or {}).get("name") == "terraform-output"}
    assert scoped == set(users)


# The cloud identity of each environment's Terraform state, as state-access.tf writes it into
# the environment's GitLab variables (the same names as GitHub's environment variables).
STATE_LOGIN_VARIABLES = {"aws": {"AWS_ROLE_ARN"}, "azure": {"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"},
                         "gcp": {"GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT"}}
# What GitLab itself or the job defines: predefined variables, ID tokens, the job's own exports.
JOB_DEFINED = re.compile(r"CI_\w+|GITLAB_USER_\w+|STATE_ID_TOKEN(?:_FILE)?|DATABRICKS_OIDC_TOKEN|AWS_WEB_IDENTITY_TOKEN_FILE|"
                         r"GOOGLE_APPLICATION_CREDENTIALS|MERGE_REQUEST_IID|MODEL_URI|PIPELINE_NAME|CHECK_TEMPLATE_UPDATES")


# Variables the user adds only when needed: the template-update job's read-only token (and user
# name) for a private template repository (the project README's "Pull template updates").
OPTIONAL_USER_VARIABLES = {"TEMPLATE_REPO_TOKEN", "TEMPLATE_REPO_USERNAME"}


# Variables the user adds only when needed: the template-update job's read-only token (and user
# name) for a private template repository (the project README's "Pull template updates").
OPTIONAL_USER_VARIABLES = {"TEMPLATE_REPO_TOKEN", "TEMPLATE_REPO_USERNAME"}


def bootstrap_variable_keys(project: Path) -> set[str]:
    """Keys of the GitLab project variables that the CI/CD bootstrap creates."""
    cicd = project / ".mlops-setup-scripts/cicd"
    setup = "\n".join(p.read_text() for p in cicd.glob("gitlab*.tf"))
    # `key = "NAME"` of a gitlab_project_variable, or NAME as a key of the maps they iterate.
    keys = set(re.findall(r'key\s+=\s+"(\w+)"', setup)) | set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\s+=", setup, re.MULTILINE))
    # state_login_entries (state-access.tf): the names in state_login_variables.
    state_access = (cicd / "state-access.tf").read_text()
    if "local.state_login_entries" not in setup:
        return keys
    (login,) = re.findall(r"state_login_variables = \{.*?\n  \}\n", state_access, re.DOTALL)
    return keys | set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s+=", login))


def test_jobs_read_only_variables_the_bootstrap_sets(variant: Variant, generated_project: Path) -> None:
    """Every variable a job reads is GitLab's own, the job's own, or one the bootstrap creates, and
    the state login reads its environment's identity only from variables of the bootstrap."""
    text = "\n".join(p.read_text() for p in ci_files(generated_project))
    scripts = "\n".join(p.read_text() for p in (generated_project / JOB_FOLDER / "scripts").glob("*.sh"))
    text += scripts
    set_by_bootstrap = bootstrap_variable_keys(generated_project) | OPTIONAL_USER_VARIABLES
    declared = {name for job in jobs(generated_project).values()
                for name in [*(job.get("variables") or {}), *(job.get("id_tokens") or {})]}
    declared |= set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", scripts))  # the scripts' own variables
    read = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text)) - declared
    assert sorted(name for name in read if not JOB_DEFINED.fullmatch(name) and name not in set_by_bootstrap) == []
    used = {"DATABRICKS_CLIENT_ID", "GITLAB_PUSH_TOKEN"} | STATE_LOGIN_VARIABLES[variant.cloud]
    assert {"GITLAB_PUSH_TOKEN"} <= read
    assert sorted(used - set_by_bootstrap) == []


def test_integration_test_names_gitlab_as_the_git_provider(generated_project: Path) -> None:
    script = (generated_project / JOB_FOLDER / "scripts/submit_integration_test.py").read_text()
    assert 'GIT_PROVIDER = "gitLab"' in script


def test_trigger_model_deploy_starts_a_gitlab_pipeline(generated_project: Path) -> None:
    notebook = (generated_project / "notebooks/TriggerModelDeploy.py").read_text()
    assert "/trigger/pipeline" in notebook and "variables[MODEL_URI]" in notebook
    assert "api.github.com" not in notebook


def test_the_sdk_signs_in_with_the_gitlab_id_token_despite_other_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Terraform job sets: the SDK must pick env-oidc, not the state storage's login."""
    from databricks.sdk.config import Config

    monkeypatch.setattr(Config, "_resolve_host_metadata", lambda self: None)
    for name, value in {
        "DATABRICKS_AUTH_TYPE": "env-oidc", "DATABRICKS_HOST": HOSTS["staging"], "DATABRICKS_CLIENT_ID": "sp-app-id",
        "DATABRICKS_OIDC_TOKEN": "header.payload.signature", "GOOGLE_CREDENTIALS": "{}", "ARM_ACCESS_KEY": "key",
        "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "DATABRICKS_TOKEN": "",
    }.items():
        monkeypatch.setenv(name, value)
    exchanged = []
    monkeypatch.setattr(
        "databricks.sdk.credentials_provider.oidc_credentials_provider",
        lambda cfg, source: exchanged.append(source.id_token().jwt) or (lambda: {"Authorization": "Bearer exchanged"}),
    )
    config = Config()
    assert config.auth_type == "env-oidc"
    assert exchanged == ["header.payload.signature"]
    assert config.authenticate() == {"Authorization": "Bearer exchanged"}


def test_the_sdk_uses_the_oauth_secret_when_the_bootstrap_switched_federation_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without federation, the project variable DATABRICKS_AUTH_TYPE=oauth-m2m overrides the job's env-oidc."""
    from databricks.sdk.config import Config

    monkeypatch.setattr(Config, "_resolve_host_metadata", lambda self: None)
    for name, value in {
        "DATABRICKS_AUTH_TYPE": "oauth-m2m", "DATABRICKS_HOST": HOSTS["prod"], "DATABRICKS_CLIENT_ID": "sp-app-id",
        "DATABRICKS_CLIENT_SECRET": "sp-secret", "DATABRICKS_OIDC_TOKEN": "header.payload.signature",
    }.items():
        monkeypatch.setenv(name, value)
    from databricks.sdk.credentials_provider import credentials_strategy

    used = []

    @credentials_strategy("oauth-m2m", ["host", "client_id", "client_secret"])
    def offline_m2m(cfg: Config) -> Any:
        """The SDK's oauth-m2m strategy under its own name, without the token request."""
        used.append((cfg.client_id, cfg.client_secret))
        return lambda: {"Authorization": "Bearer m2m"}

    monkeypatch.setattr("databricks.sdk.credentials_provider.oauth_service_principal", offline_m2m)
    config = Config()
    assert config.auth_type == "oauth-m2m"
    assert used == [("sp-app-id", "sp-secret")]


def for_each_of_resources(tf: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(resource type, name) -> its for_each expression, of a parsed Terraform file."""
    return {
        (kind.strip('"'), name.strip('"')): body.get("for_each", "")
        for resource in tf.get("resource", []) for kind, blocks in resource.items() for name, body in blocks.items()
    }


def test_federation_policies_bind_prod_to_its_protected_branches(variant: Variant, generated_project: Path) -> None:
    """The shared bootstrap federation source (main-<cloud>.tf) gets GitLab's issuer and subjects."""
    setup = parse_file(generated_project / f".mlops-setup-scripts/cicd/main-{variant.cloud}.tf")
    (policies,) = [block["federation_policies"] for block in setup["locals"] if "federation_policies" in block]
    assert {
        name: tuple(unquote(policy[key]) for key in ("env", "subject_claim", "subject"))
        for name, policy in policies.items()
    } == {
        **{f"{env}-gitlab": (env, "project_path", "${var.gitlab_project_path}") for env in PULL_REQUEST},
        "prod-gitlab-main": ("prod", "sub", "project_path:${var.gitlab_project_path}:ref_type:branch:ref:main"),
        "prod-gitlab-release": ("prod", "sub", "project_path:${var.gitlab_project_path}:ref_type:branch:ref:release"),
    }
    (issuer,) = [block["oidc_issuer"] for block in setup["locals"] if "oidc_issuer" in block]
    assert issuer == "${var.gitlab_url}"
    # Federation and the fallback secret variables are exclusive, switched by one variable.
    assert for_each_of_resources(setup)[("databricks_service_principal_federation_policy", "cicd")].startswith(
        "${local.federation ? local.federation_policies"
    )
    fallbacks = for_each_of_resources(parse_file(generated_project / ".mlops-setup-scripts/cicd/gitlab.tf"))
    for name in ("databricks_auth_type", "databricks_client_secret"):
        assert fallbacks[("gitlab_project_variable", name)].startswith("${local.federation ? toset([]) :"), name


def resources_of(tf: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(type, name) -> body of every resource and data block of a parsed Terraform file."""
    return {
        (kind.strip('"'), name.strip('"')): body
        for section in ("resource", "data") for block in tf.get(section, []) for kind, blocks in block.items()
        for name, body in blocks.items()
    }


GITLAB_STATE_SUBJECTS = {
    **{env: "project_path:${var.gitlab_project_path}:ref_type:branch:ref:*" for env in PULL_REQUEST},
    "prod": "project_path:${var.gitlab_project_path}:ref_type:branch:ref:main",
}


def test_each_environment_signs_in_to_its_state_with_a_gitlab_id_token(variant: Variant, generated_project: Path) -> None:
    """One cloud identity per environment, trusted for the GitLab ID tokens of that environment's
    jobs (staging: any branch of the project; prod: the protected default branch), and no key."""
    tf = parse_file(generated_project / ".mlops-setup-scripts/cicd/state-access.tf")
    local_values = {name: value for block in tf["locals"] for name, value in block.items()}
    if variant.cloud != "gcp":  # gcp trusts claims mapped to attributes (tests/test_state_access.py)
        assert {env: unquote(subject) for env, subject in local_values["state_login_subjects"].items()} == GITLAB_STATE_SUBJECTS
    found = resources_of(tf)
    assert not {kind for kind, _ in found} & {"aws_iam_access_key", "aws_iam_user", "google_service_account_key", "terraform_remote_state"}
    if variant.cloud == "aws":
        (provider,) = [body for (kind, _), body in found.items() if kind == "aws_iam_openid_connect_provider"]
        assert provider["url"] == "${local.oidc_issuer}"
        audiences = [unquote(a) for a in provider["client_id_list"]]
        (statement,) = found[("aws_iam_policy_document", "assume_from_gitlab")]["statement"]
        conditions = {unquote(c["variable"]): (unquote(c["test"]), [unquote(v) for v in c["values"]]) for c in statement["condition"]}
        assert conditions == {
            "${local.gitlab_host}:aud": ("StringEquals", audiences),
            "${local.gitlab_host}:sub": ("StringLike", ["${local.state_login_subjects[each.key]}"]),
        }
        role = found[("aws_iam_role", "terraform_state")]
        assert (role["for_each"], role["assume_role_policy"]) == (
            "${local.state_objects}", "${data.aws_iam_policy_document.assume_from_gitlab[each.key].json}")
    elif variant.cloud == "gcp":
        (oidc,) = found[("google_iam_workload_identity_pool_provider", "gitlab")]["oidc"]
        assert oidc["issuer_uri"] == "${local.oidc_issuer}"
        audiences = [unquote(a) for a in oidc["allowed_audiences"]]
        condition = unquote(found[("google_iam_workload_identity_pool_provider", "gitlab")]["attribute_condition"])
        assert condition == 'assertion.project_path == \\"${var.gitlab_project_path}\\"'
        members = {env: unquote(m) for env, m in found[("google_service_account_iam_member", "gitlab_jobs")]["for_each"].items()}
        pool = "iam.googleapis.com/${google_iam_workload_identity_pool.gitlab.name}"
        # Pull-request environments (staging) admit every branch's jobs, prod only the default branch's.
        assert members == {**{env: f"principalSet://{pool}/attribute.ref_type/branch" for env in PULL_REQUEST},
                           "prod": f"principalSet://{pool}/attribute.prod_ref/main"}
    else:
        prod = found[("azuread_application_federated_identity_credential", "gitlab_prod")]
        staging = found[("azuread_application_flexible_federated_identity_credential", "gitlab_staging")]
        assert prod["application_id"] == '${azuread_application.terraform_state["prod"].id}'
        assert staging["application_id"] == '${azuread_application.terraform_state["staging"].id}'
        assert (prod["issuer"], staging["issuer"]) == ("${local.oidc_issuer}", "${local.oidc_issuer}")
        assert prod["subject"] == '${local.state_login_subjects["prod"]}'
        assert unquote(staging["claims_matching_expression"]) == "claims['sub'] matches '${local.state_login_subjects[\"staging\"]}'"
        audiences = [unquote(a) for a in prod["audiences"]]
        assert audiences == [unquote(staging["audience"])] == ["api://AzureADTokenExchange"]
    # The jobs that run Terraform ask for a token with exactly that audience, and only they do.
    state_token = "ARM_OIDC_TOKEN" if variant.cloud == "azure" else "STATE_ID_TOKEN"
    with_state_token = {name: job["id_tokens"][state_token]["aud"] for name, job in jobs(generated_project).items()
                        if state_token in job.get("id_tokens", {})}
    assert with_state_token == {f"terraform-{kind}-{env}": audiences[0] for env in DEPLOY for kind in ("plan", "apply")}
    # The issuer the identities trust is the GitLab instance's.
    federation = parse_file(generated_project / f".mlops-setup-scripts/cicd/main-{variant.cloud}.tf")
    assert [block["oidc_issuer"] for block in federation["locals"] if "oidc_issuer" in block] == ["${var.gitlab_url}"]


def test_no_cloud_key_is_stored_in_gitlab(generated_project: Path) -> None:
    """The only masked variables are the CI tokens and the opt-in Databricks secret; the state login is names."""
    masked = set()
    for tf in sorted((generated_project / ".mlops-setup-scripts/cicd").glob("gitlab*.tf")):
        for resource in parse_file(tf).get("resource", []):
            for name, body in resource.get('"gitlab_project_variable"', {}).items():
                if body.get("masked") is True:
                    masked.add(unquote(name))
    assert masked == {"ci_token", "databricks_client_secret"}
    text = "\n".join(p.read_text() for p in ci_files(generated_project))
    assert not re.search(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|ARM_ACCESS_KEY|GOOGLE_CREDENTIALS\b", text)


def test_prod_variables_are_protected_and_scoped_to_their_environment(generated_project: Path) -> None:
    """Environment-scoped variables reach only that environment's jobs; prod's only on protected branches."""
    variables = {}
    for tf in sorted((generated_project / ".mlops-setup-scripts/cicd").glob("gitlab*.tf")):
        for resource in parse_file(tf).get("resource", []):
            for name, body in resource.get('"gitlab_project_variable"', {}).items():
                variables[unquote(name)] = body
    scoped = {name: body for name, body in variables.items() if "environment_scope" in body}
    assert set(scoped) == {
        "databricks_client_id", "state_login", "databricks_auth_type", "databricks_client_secret", "failure_alert_emails",
        "ci_token",
    }
    for name, body in scoped.items():
        if name == "ci_token":
            continue
        scope = str(body["environment_scope"]).replace(" ", "")
        assert str(body["protected"]).replace(" ", "") == "${" + scope[2:-1] + '=="prod"}', name
    assert str(variables["ci_token"]["protected"]) == "${each.value.protected}"
    assert str(variables["ci_token"]["environment_scope"]) == "${each.value.environment_scope}"
    # The push token: protected, only for the output jobs' environment (issue 22 trial, M1).
    setup = (generated_project / ".mlops-setup-scripts/cicd/gitlab.tf").read_text()
    (push,) = re.findall(r"GITLAB_PUSH_TOKEN = \{(.*?)\n    \}", setup, re.DOTALL)
    settings = dict(re.findall(r"^\s+(\w+)\s+=\s+(.+)$", push, re.MULTILINE))
    assert (settings["protected"], settings["environment_scope"]) == ("true", '"terraform-output"')


# ---------------------------------------------------------------- docs


def test_gitlab_docs_links_resolve(generated_project: Path) -> None:
    docs = [generated_project / f for f in ("docs/ml-pull-request.md", "docs/mlops-setup.md", "README.md", f"{JOB_FOLDER}/README.md")]
    assert [str(p) for doc in docs for p in broken_links(doc, generated_project)] == []


def test_docs_speak_of_merge_requests_and_gitlab_files(generated_project: Path) -> None:
    guide = (generated_project / "docs/ml-pull-request.md").read_text()
    assert "(../.gitlab/ci/tests.gitlab-ci.yml)" in guide and "merge request" in guide
    setup = (generated_project / "docs/mlops-setup.md").read_text()
    assert "TF_VAR_gitlab_project_path=" in setup and "Azure DevOps" not in setup and "GitHub" not in setup


# ---------------------------------------------------------------- the pipeline, run locally


def listed_jobs(project: Path, variables: dict[str, str]) -> dict[str, str]:
    """Job name -> `when` for a pipeline with `variables`, as gitlab-ci-local evaluates the rules."""
    result = gitlab_ci_local(project, ["--list-json"], variables)
    assert result.returncode == 0, result.stdout + result.stderr
    return {job["name"]: job["when"] for job in json.loads(result.stdout[result.stdout.index("["):])}


def running(listing: dict[str, str]) -> set[str]:
    return {name for name, when in listing.items() if when != "never"}


@pytest.fixture
def gitlab_checkout(generated_project: Path, tmp_path: Path) -> Path:
    try:
        ensure_gitlab_ci_local()
    except NodeMissing as missing:
        pytest.skip(str(missing))
    project = shutil.copytree(generated_project, tmp_path / generated_project.name)
    as_gitlab_checkout(project, "main")
    return project


def commit_change(project: Path, branch: str, path: str) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)

    git("checkout", "-q", "-b", branch)
    with open(project / path, "a") as file:
        file.write("\n# changed\n")
    git("-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-am", f"Change {path}")


@pytest.mark.parametrize("variant", GITLAB_VARIANTS[:1], ids=lambda v: v.id)
def test_rules_run_the_right_jobs_for_each_event(gitlab_checkout: Path) -> None:
    project = gitlab_checkout
    commit_change(project, "change-code", "notebooks/BatchInference.py")
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"}
    assert running(listed_jobs(project, mr)) == {"unit-tests", "integration-test"}

    subprocess.run(["git", "checkout", "-q", "main"], cwd=project, check=True)
    commit_change(project, "change-resources", "databricks-config/staging/variables.tf")
    listing = listed_jobs(project, mr)
    assert running(listing) == {"terraform-format", "terraform-plan-staging"}

    subprocess.run(["git", "checkout", "-q", "main"], cwd=project, check=True)
    web = running(listed_jobs(project, {"CI_PIPELINE_SOURCE": "web"}))
    assert web >= {"unit-tests", "terraform-apply-staging"}
    assert not web & (PROD_TERRAFORM_JOBS | {"terraform-output-staging"})
    deploy = listed_jobs(project, {"CI_PIPELINE_SOURCE": "trigger", "MODEL_URI": "models:/m/1"})
    assert running(deploy) == {"deploy-model-staging"}
    schedule = {"CI_PIPELINE_SOURCE": "schedule", "CHECK_TEMPLATE_UPDATES": "true"}
    assert running(listed_jobs(project, schedule)) == {"check-template-updates"}


@pytest.mark.parametrize("variant", GITLAB_VARIANTS[:1], ids=lambda v: v.id)
def test_pushes_to_deployed_branches_run_while_they_are_the_source_of_an_open_merge_request(gitlab_checkout: Path) -> None:
    """Issue 22 (ops walk): GitLab sets CI_OPEN_MERGE_REQUESTS on a push to a branch that is the
    source of an open merge request, and the setup guide promotes main -> release through one, so
    merges to main ran no pipeline (no staging apply, no prod plan) while it was open. The jobs'
    rules create the deployment jobs of such a push to main (gitlab-ci-local); the workflow rule
    that skips pushes with an open merge request, which gitlab-ci-local's job listing does not
    apply, exempts main and release by name (static: it failed on the template before the fix)."""
    project = gitlab_checkout
    with open(project / "databricks-config/staging/main.tf", "a") as file:
        file.write("\n# changed\n")
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-am", "Change staging"],
                   cwd=project, check=True)
    open_mr = {"CI_PIPELINE_SOURCE": "push", "CI_OPEN_MERGE_REQUESTS": "ml-team/project!7"}
    assert running(listed_jobs(project, {**open_mr, "CI_COMMIT_BRANCH": "main"})) >= {"terraform-apply-staging", "terraform-plan-prod"}
    (skip,) = [rule["if"] for rule in yaml.safe_load((project / ROOT_FILE).read_text())["workflow"]["rules"]
               if "CI_OPEN_MERGE_REQUESTS" in rule.get("if", "")]
    assert '$CI_COMMIT_BRANCH != "release"' in skip and '$CI_COMMIT_BRANCH != "main"' in skip, skip


# The jobs that get the prod identity from Terraform, and the one that needs them.
PROD_TERRAFORM_JOBS = {"terraform-plan-prod", "terraform-apply-prod", "terraform-output-prod"}
# What whoever starts a pipeline may pass: each outranks the job's own variables.
OVERRIDES = {"CI_DEBUG_TRACE": "true", "DATABRICKS_HOST": "https://evil.example", "TF_CLI_ARGS": "-var=x=1"}
STARTED_BY_SOMEONE = ("web", "api", "trigger", "schedule")


def dangling_needs(project: Path, created: set[str]) -> dict[str, list[str]]:
    """Job -> the jobs it `needs` (not `optional: true`) that the pipeline does not create: GitLab
    rejects such a pipeline as a whole."""
    found = {}
    for name, job in jobs(project).items():
        needed = [need if isinstance(need, str) else need["job"] for need in job.get("needs") or []
                  if isinstance(need, str) or not need.get("optional")]
        if name in created and set(needed) - created:
            found[name] = sorted(set(needed) - created)
    return found


@pytest.mark.parametrize("variant", GITLAB_VARIANTS[:1], ids=lambda v: v.id)
def test_prod_terraform_runs_only_in_push_pipelines_of_the_default_branch(gitlab_checkout: Path) -> None:
    """Issue 22 (ops walk of gcp + GitLab): a Maintainer's Run pipeline on main ran
    terraform-plan-prod, an `action: prepare` job that no approval holds, with pipeline variables
    such as CI_DEBUG_TRACE that print the prod ID token into the log. For every source that a
    person, the API, a trigger or a schedule starts, with such variables, on the default and the
    release branch, gitlab-ci-local creates no prod Terraform job, and no created job needs one
    that is missing; a push that merges a change of databricks-config/prod does create them.
    Prod's model deployment never runs with CI_DEBUG_TRACE."""
    project = gitlab_checkout
    with open(project / "databricks-config/prod/main.tf", "a") as file:
        file.write("\n# changed\n")
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-am", "Change prod"],
                   cwd=project, check=True)
    pushed = running(listed_jobs(project, {"CI_PIPELINE_SOURCE": "push"}))
    assert pushed >= PROD_TERRAFORM_JOBS | {"terraform-apply-staging"}
    assert dangling_needs(project, pushed) == {}
    deployments = [("web", "main"), ("trigger", "release")]
    started = [(source, "main", {}) for source in STARTED_BY_SOMEONE] + [
        (source, branch, {"MODEL_URI": "models:/m/1"}) for source, branch in deployments]
    for source, branch, extra in started:
        variables = {"CI_PIPELINE_SOURCE": source, "CI_COMMIT_BRANCH": branch, **OVERRIDES, **extra}
        created = running(listed_jobs(project, variables))
        assert not created & PROD_TERRAFORM_JOBS, (variables, created)
        assert dangling_needs(project, created) == {}, variables
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7", **OVERRIDES}
    assert not running(listed_jobs(project, mr)) & {name for name in jobs(project) if name.endswith("-prod")}
    # Prod's model deployment, the one prod job a trigger starts, never with debug tracing (which
    # would write its ID token to the log).
    deployment = {"CI_PIPELINE_SOURCE": "trigger", "CI_COMMIT_BRANCH": "release", "MODEL_URI": "models:/m/1"}
    assert "deploy-model-prod" in running(listed_jobs(project, deployment))
    assert "deploy-model-prod" not in running(listed_jobs(project, {**deployment, "CI_DEBUG_TRACE": "true"}))


# One variant: the job differs between variants only in its `rules:changes` list, and the
# project tests it runs are run for every code signature by test_ml_code.py.
@pytest.mark.large
@pytest.mark.parametrize(
    "variant",
    [v for v in GITLAB_VARIANTS if (v.cloud, v.feature_store, v.unity_catalog) == ("gcp", True, False)],
    ids=lambda v: v.id,
)
def test_unit_test_job_runs_with_gitlab_ci_local(
    variant: Variant, gitlab_checkout: Path, mlflow3_python: Path  # noqa: F811
) -> None:
    """The job's own before_script and script, run by gitlab-ci-local's shell executor (the
    feature-store code: its MLflow 3 venv)."""
    project = gitlab_checkout
    env = {**os.environ, "PATH": f"{mlflow3_python.parent}{os.pathsep}{os.environ['PATH']}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    try:  # gitlab-ci-local copies the project with rsync: unpacked from Debian's package when missing
        env = with_tool("rsync", "rsync", env)
    except ToolMissing as missing:
        pytest.skip(str(missing))
    result = gitlab_ci_local(
        project, ["unit-tests", "--force-shell-executor", "--no-artifacts-to-source"], {"CI_PIPELINE_SOURCE": "web"},
        env=env, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    report = project / "test-results/unit-tests.xml"
    assert report.exists()
    junit = report.read_text()
    assert "<testsuite" in junit
    # This run is the project's test suite for its code signature (tests/conftest.py): the whole
    # suite ran and passed.
    counts = {name: int(re.search(rf'\b{name}="(\d+)"', junit).group(1)) for name in ("tests", "failures", "errors")}
    assert counts["tests"] >= MIN_PROJECT_TESTS[variant.ml_code] and counts["failures"] == counts["errors"] == 0, counts


@pytest.mark.large
def test_rsync_is_unpacked_without_root_when_missing(tmp_path: Path) -> None:
    """What a fresh machine without rsync gets: Debian's package unpacked into build/, on PATH."""
    if shutil.which("apt-get") is None:
        pytest.skip("no apt-get: not a Debian system")
    env = with_tool("rsync", "rsync", {"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert env["PATH"].split(os.pathsep)[0].endswith("build/debian-tools/rsync/usr/bin")
    (tmp_path / "source").mkdir()
    (tmp_path / "source/file.txt").write_text("copied\n")
    result = subprocess.run(["rsync", "-a", f"{tmp_path / 'source'}/", str(tmp_path / "copy")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "copy/file.txt").read_text() == "copied\n"


# ---------------------------------------------------------------- the merge request plan, without a token


def merge_request_jobs(project: Path) -> dict[str, dict]:
    """The jobs that a merge request pipeline may run (their YAML is the merge request's own)."""
    return {name: job for name, job in jobs(project).items()
            if any("merge_request_event" in str(rule.get("if", "")) for rule in job.get("rules") or [])}


def test_no_merge_request_job_reads_a_token_and_every_ci_token_is_protected(generated_project: Path) -> None:
    """Issue 22 (minor): the plan-note token (`api` scope, an unprotected variable) reached the
    pipelines of every branch, whose author writes the YAML. GitLab's job token cannot post merge
    request notes, so no merge request job reads a token now, and every token the bootstrap
    stores as a variable is protected."""
    mr_jobs = merge_request_jobs(generated_project)
    assert {"terraform-format", "terraform-plan-staging"} <= set(mr_jobs)
    for name, job in mr_jobs.items():
        text = yaml.safe_dump({key: value for key, value in job.items() if key != "id_tokens"})
        tokens = set(re.findall(r"\b\w*_TOKEN\b", text)) - set(job.get("id_tokens") or {})
        assert tokens == set(), (name, tokens)
    text = (generated_project / ".mlops-setup-scripts/cicd/gitlab.tf").read_text()
    (tokens,) = re.findall(r"ci_tokens = \{(.*?)\n  \}\n", text, re.DOTALL)
    assert re.findall(r"^    (\w+) = \{", tokens, re.MULTILINE) == ["GITLAB_PUSH_TOKEN"]
    assert "protected    = false" not in tokens


@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH")
@pytest.mark.parametrize("variant", GITLAB_VARIANTS[:1], ids=lambda v: v.id)
def test_merge_request_plan_reaches_gitlabs_terraform_widget(generated_project: Path, tmp_path: Path) -> None:
    """The staging plan job saves its plan and writes the report that GitLab's merge request widget
    reads ({create, update, delete} counts): its own commands, run with the real terraform binary on
    a plan that creates, updates and deletes one resource each (terraform_data: no provider)."""
    job = jobs(generated_project)["terraform-plan-staging"]
    assert job["artifacts"]["reports"] == {"terraform": "terraform-plan-staging.json"}
    assert job["artifacts"]["paths"] == ["terraform-plan-staging.txt"] and job["artifacts"]["expose_as"]
    (plan,) = [line for line in job["script"] if " plan " in line]
    (summary,) = [line for line in job["script"] if "show -json" in line]
    assert "-out=staging.tfplan" in plan
    folder = tmp_path / "databricks-config/staging"
    folder.mkdir(parents=True)
    terraform = ["terraform", f"-chdir={folder}"]
    (folder / "main.tf").write_text(
        'resource "terraform_data" "kept" {\n  input = 1\n}\n\nresource "terraform_data" "dropped" {}\n'
    )
    for command in (["init", "-input=false"], ["apply", "-input=false", "-auto-approve"]):
        run([*terraform, *command], cwd=tmp_path).check_returncode()
    (folder / "main.tf").write_text(
        'resource "terraform_data" "kept" {\n  input = 2\n}\n\nresource "terraform_data" "added" {}\n'
    )
    run([*terraform, "plan", "-input=false", "-out=staging.tfplan"], cwd=tmp_path).check_returncode()
    made = run(["bash", "-c", f"set -euo pipefail; {summary}"], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads((tmp_path / "terraform-plan-staging.json").read_text()) == {"create": 1, "update": 1, "delete": 1}


def test_deployed_branches_change_through_approved_merge_requests_and_the_output_bot(generated_project: Path) -> None:
    """Issue 22, finding 2: merge requests need approvals by someone who neither wrote nor pushed to
    them (GitLab Premium), and no one but the output bot pushes to the default or release branch."""
    path = generated_project / ".mlops-setup-scripts/cicd/gitlab.tf"
    found: dict[tuple[str, str], dict] = {}
    for block in parse_file(path)["resource"]:
        for rtype, named in block.items():
            for name, body in named.items():
                found[(unquote(rtype), unquote(name))] = body
    settings = found[("gitlab_project_level_mr_approvals", "review")]
    assert (settings["merge_requests_author_approval"], settings["merge_requests_disable_committers_approval"],
            settings["reset_approvals_on_push"]) == (False, True, True)
    rule = found[("gitlab_project_approval_rule", "review")]
    assert rule["approvals_required"] == "${var.merge_request_approvals}" and unquote(rule["rule_type"]) == "any_approver"
    # Both deployed branches: no direct push (Maintainers included), merges by Maintainers, and
    # the output bot alone may push (its [skip ci] commits of the Terraform outputs).
    protection = found[("gitlab_branch_protection", "deployed")]
    assert [unquote(b) for b in re.findall(r'"[^"]*"', protection["for_each"])] == ["main", "release"]
    assert unquote(protection["branch"]) == "${each.key}"
    assert (unquote(protection["push_access_level"]), unquote(protection["merge_access_level"]),
            protection["allow_force_push"]) == ("no one", "maintainer", False)
    output_bot = '${gitlab_project_access_token.ci["GITLAB_PUSH_TOKEN"].user_id}'
    assert [block["user_id"] for block in protection["allowed_to_push"]] == [output_bot]
    assert [kind for kind, _ in found if kind == "gitlab_branch_protection"] == ["gitlab_branch_protection"]
    # The bot's token pushes from the output jobs only.
    (tokens,) = [block["ci_tokens"] for block in parse_file(path)["locals"] if "ci_tokens" in block]
    assert unquote(tokens["GITLAB_PUSH_TOKEN"]["environment_scope"]) == "terraform-output"
    assert 'variable "merge_request_approvals"' in (generated_project / ".mlops-setup-scripts/cicd/gitlab-variables.tf").read_text()


def test_prod_identities_reach_only_jobs_of_the_protected_prod_environment(variant: Variant, generated_project: Path) -> None:
    """Issue 22: every job that asks for a prod token declares the `prod` environment (whose
    approval rules gate it), and on gcp prod's state identity also demands it of the ID token
    (claims environment and environment_protected), not only the protected default branch."""
    prod_host = TEST_HOSTS[variant.cloud][1].rstrip("/")
    with_prod_token = {name: job.get("environment", {}).get("name") for name, job in jobs(generated_project).items()
                       if prod_host in {str(token["aud"]).rstrip("/") for token in (job.get("id_tokens") or {}).values()}}
    assert with_prod_token == {name: "prod" for name in ("deploy-model-prod", "terraform-plan-prod", "terraform-apply-prod")}
    if variant.cloud == "gcp":
        text = (generated_project / ".mlops-setup-scripts/cicd/state-access.tf").read_text()
        (prod_ref,) = re.findall(r'"attribute\.prod_ref"\s+= "(.*)"$', text, re.MULTILINE)
        condition = prod_ref.replace('\\"', '"').split(" ? ")[0].split(" && ")
        assert condition == ['assertion.ref_type == "branch"', 'assertion.ref == "main"', 'assertion.ref_protected == "true"',
                             '"environment" in assertion', 'assertion.environment == "prod"',
                             'assertion.environment_protected == "true"']


def test_the_prod_deployment_trigger_belongs_to_a_bot(generated_project: Path) -> None:
    """Issue 22, finding 8: the trigger acted as the Maintainer who ran the bootstrap, who then
    could never approve the prod deployments it started (GitLab lets no one approve a deployment
    they triggered), and it would stop working when that person left. A project access token's
    bot creates it now; that token reaches no job and no workspace."""
    path = generated_project / ".mlops-setup-scripts/cicd/gitlab.tf"
    parsed = parse_file(path)
    found = {(unquote(rtype), unquote(name)): body
             for block in parsed["resource"] for rtype, named in block.items() for name, body in named.items()}
    (trigger_name,) = [name for rtype, name in found if rtype == "gitlab_pipeline_trigger"]
    assert strip(found[("gitlab_pipeline_trigger", trigger_name)]["provider"]) == "gitlab.deploy_bot"
    (bot_provider,) = [body for block in parsed["provider"] for name, body in block.items()
                       if unquote(name) == "gitlab" and unquote(body.get("alias", "")) == "deploy_bot"]
    assert strip(bot_provider["token"]) == "gitlab_project_access_token.deploy_bot.token"
    assert bot_provider["early_auth_check"] is False, "the token is unknown until the first apply creates it"
    bot = found[("gitlab_project_access_token", "deploy_bot")]
    assert unquote(bot["access_level"]) == "maintainer" and bot["rotation_configuration"]
    assert path.read_text().count("gitlab_project_access_token.deploy_bot.token") == 1
    assert f"gitlab_pipeline_trigger.{trigger_name}.token" in path.read_text()


def strip(value: object) -> str:
    """A parsed HCL expression without its ``${...}`` wrapper."""
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else unquote(text)


def stand_in_for_variable(project: Path, name: str, folder: Path) -> Path:
    """A Terraform folder in ``folder`` holding only the bootstrap's ``variable "<name>"`` block
    (from ``gitlab-variables.tf``), where ``terraform plan -var`` checks its validation rules."""
    text = (project / ".mlops-setup-scripts/cicd/gitlab-variables.tf").read_text()
    variable = re.search(rf'^variable "{name}" \{{.*?^\}}', text, re.MULTILINE | re.DOTALL)
    assert variable, f"no variable {name} in gitlab-variables.tf"
    folder.mkdir()
    (folder / "main.tf").write_text(variable.group(0) + "\n")
    return folder


def test_prod_deployments_need_at_least_one_approval(tmp_path: Path) -> None:
    """With prod_required_approvals = 0, a model deployment that TriggerModelDeploy starts reached
    prod with no human step: the bootstrap refuses 0, as the real `terraform plan` evaluates the
    generated variable's validation (a config of that variable alone: no provider needed)."""
    from tests.support.generation import generate

    staging, prod = TEST_HOSTS["gcp"]
    project = generate(tmp_path, {"cloud": "gcp", "cicd_platform": "GitLab", "databricks_staging_workspace_host": staging,
                                  "databricks_prod_workspace_host": prod})
    folder = stand_in_for_variable(project, "prod_required_approvals", tmp_path / "stand-in")

    def plan(approvals: int) -> subprocess.CompletedProcess:
        return subprocess.run(["terraform", "plan", "-no-color", "-input=false", f"-var=prod_required_approvals={approvals}"],
                              cwd=folder, capture_output=True, text=True)

    refused = plan(0)
    assert refused.returncode != 0 and "prod_required_approvals must be at least 1" in refused.stderr, refused.stderr
    assert "--var prod_required_approvals=1" in refused.stderr
    assert plan(1).returncode == 0
    gitlab_tf = (project / ".mlops-setup-scripts/cicd/gitlab.tf").read_text()
    assert "approval_rules = [" in gitlab_tf, "every prod job asks for the approvals, unconditionally"


# What whoever runs a pipeline could pass as pipeline variables, which outrank the job's own.
INJECTED = {"PIP_INDEX_URL": "https://evil.example/simple", "PYTHONPATH": "/tmp/evil", "LD_PRELOAD": "/tmp/evil.so",
            "PYTHONSTARTUP": "/tmp/evil.py", "DATABRICKS_HOST": "https://evil.example"}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_deployment_python_gets_no_pipeline_variable(tmp_path: Path, env: str) -> None:
    """Issue 22 (ops walk): a pipeline variable such as PIP_INDEX_URL ran its code with the prod
    identity behind an approval that showed only the job. The job's script lines run in bash, as
    the runner does, with injected variables; the Python they start (a stand-in that prints its
    environment) sees the model and the login, and no injected name or value."""
    from tests.support.generation import generate

    staging, prod = TEST_HOSTS["gcp"]
    project = generate(tmp_path, {"cloud": "gcp", "cicd_platform": "GitLab", "databricks_staging_workspace_host": staging,
                                  "databricks_prod_workspace_host": prod})
    job = jobs(project)[f"deploy-model-{env}"]
    python_lines = [line for line in job["script"] if re.search(r"\bpython\b", line) and "deploy_env()" not in line]
    assert python_lines and all(line.startswith("deploy_env python ") for line in python_lines), python_lines
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    # The stand-in `python` that the allowlisted PATH would find first in the job's image.
    recorder = "import json, os, sys; print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))"
    script = "\n".join(line for line in job["script"] if line not in python_lines)
    script = script.replace("PATH=/usr/local/bin:", f"PATH={stand_in}:/usr/local/bin:")
    (stand_in / "python").write_text(f"#!/usr/bin/python3\n{recorder}\n")
    (stand_in / "python").chmod(0o755)
    login = {"MODEL_URI": "models:/churn/3", "DATABRICKS_CLIENT_ID": "sp-app-id", "DATABRICKS_OIDC_TOKEN": "id-token",
             "DATABRICKS_AUTH_TYPE": "env-oidc"}
    environment = {"PATH": os.environ["PATH"], **login, **INJECTED}
    runs = [subprocess.run(["bash", "-c", f"{script}\n{line}"], env=environment, capture_output=True, text=True, check=True)
            for line in python_lines]
    for run in runs:
        seen = json.loads(run.stdout)["env"]
        assert {name: seen.get(name) for name in login} == login
        assert seen["DATABRICKS_HOST"] == TEST_HOSTS["gcp"][0 if env == "staging" else 1]
        leaked = {name for name in INJECTED if name != "DATABRICKS_HOST" and name in seen}
        assert leaked == set(), f"injected pipeline variables reach the deployment's Python: {leaked}"
    assert json.loads(runs[-1].stdout)["argv"][-2:] == ["models:/churn/3", env]


def gitlab_variant_project(tmp_path: Path) -> Path:
    """A gcp + GitLab project (the variant of the ops walk), generated into ``tmp_path``."""
    from tests.support.generation import generate

    staging, prod = TEST_HOSTS["gcp"]
    return generate(tmp_path, {"cloud": "gcp", "cicd_platform": "GitLab", "databricks_staging_workspace_host": staging,
                               "databricks_prod_workspace_host": prod})


def test_bootstrap_refuses_a_project_where_non_maintainers_set_pipeline_variables(tmp_path: Path) -> None:
    """Issue 22 (ops walk): pipeline variables outrank a job's own (CI_DEBUG_TRACE prints the ID
    tokens), and the bootstrap left who may set them to the project's default. The provider reads
    the setting (data source gitlab_project) but sets it only by managing the whole project, so the
    bootstrap's postcondition demands Maintainer: the real `terraform plan` evaluates the generated
    condition against each setting (the data source's attributes as a stand-in resource's output,
    applied to a local state)."""
    project = gitlab_variant_project(tmp_path)
    text = (project / ".mlops-setup-scripts/cicd/gitlab.tf").read_text()
    block = re.search(r'^data "gitlab_project" "project" \{\n(.*?)^\}', text, re.MULTILINE | re.DOTALL)
    assert block, "gitlab.tf reads the project"
    lifecycle = re.search(r"^  lifecycle \{\n.*?^  \}\n", block.group(1), re.MULTILINE | re.DOTALL)
    assert lifecycle and "postcondition" in lifecycle.group(0), "the project's variable setting is checked"
    folder = tmp_path / "stand-in"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'variable "gitlab_project_path" {\n  default = "ml-team/project"\n}\n\n'
        'variable "restrict" {\n  type = bool\n}\n\nvariable "role" {\n  type = string\n}\n\n'
        'variable "self_approval" {\n  type    = bool\n  default = false\n}\n\n'
        'resource "terraform_data" "project" {\n'
        "  input = { restrict_user_defined_variables = var.restrict, ci_pipeline_variables_minimum_override_role = var.role,\n"
        "    allow_pipeline_trigger_approve_deployment = var.self_approval }\n\n"
        + lifecycle.group(0).replace("self.", "self.output.") + "}\n"
    )

    def plan(restrict: bool, role: str) -> subprocess.CompletedProcess:
        """Apply (a stand-in's output is known only then; a data source's is while planning)."""
        return subprocess.run(["terraform", "apply", "-auto-approve", "-no-color", "-input=false",
                               f"-var=restrict={str(restrict).lower()}", f"-var=role={role}"], cwd=folder, capture_output=True, text=True)

    assert subprocess.run(["terraform", "init", "-input=false"], cwd=folder, capture_output=True).returncode == 0
    for restrict, role in ((False, "maintainer"), (True, "developer"), (True, "owner"), (True, "no_one_allowed")):
        refused = plan(restrict, role)
        shown = role if restrict else "developer"
        assert refused.returncode != 0, (restrict, role)
        message = " ".join(refused.stderr.split())
        assert f'lets role "{shown}" set pipeline variables' in message and "ml-team/project" in message, message
        assert "Minimum role to use pipeline variables: Maintainer" in message
    assert plan(True, "maintainer").returncode == 0
    # Issue 22 (ops walk): with "Allow pipeline triggerer to approve deployment" on, the person who
    # starts terraform-apply-prod could approve it (GitLab approves it for them).
    self_approved = subprocess.run(["terraform", "apply", "-auto-approve", "-no-color", "-input=false", "-var=restrict=true",
                                    "-var=role=maintainer", "-var=self_approval=true"], cwd=folder, capture_output=True, text=True)
    message = " ".join(self_approved.stderr.split())
    assert self_approved.returncode != 0 and "lets whoever triggers a deployment approve it" in message, message
    assert "allow_pipeline_trigger_approve_deployment=false" in message and "ml-team/project" in message


def test_ci_tokens_have_the_least_role_scope_and_lifetime(tmp_path: Path) -> None:
    """Issue 22 (ops walk): the deploy bot's token (Maintainer, api) lived 365 days in the
    bootstrap's state, and the output bot pushed as a Maintainer. The output bot is a Developer
    with write_repository (what a protected branch's allowed_to_push needs); the deploy bot keeps
    what creating and running its trigger needs; both live at most 90 days and rotate in their last
    30, which the real `terraform plan` enforces on the generated variable's validation."""
    project = gitlab_variant_project(tmp_path)
    setup = project / ".mlops-setup-scripts/cicd/gitlab.tf"
    parsed = parse_file(setup)
    found = {(unquote(rtype), unquote(name)): body
             for block in parsed["resource"] for rtype, named in block.items() for name, body in named.items()}
    (tokens,) = [block["ci_tokens"] for block in parsed["locals"] if "ci_tokens" in block]
    assert (unquote(tokens["GITLAB_PUSH_TOKEN"]["access_level"]), [unquote(s) for s in tokens["GITLAB_PUSH_TOKEN"]["scopes"]]) == (
        "developer", ["write_repository"])
    bot = found[("gitlab_project_access_token", "deploy_bot")]
    assert (unquote(bot["access_level"]), [unquote(s) for s in bot["scopes"]]) == ("maintainer", ["api"])
    for body in (found[("gitlab_project_access_token", "ci")], bot):
        assert body["rotation_configuration"] == {"expiration_days": "${var.ci_token_lifetime_days}", "rotate_before_days": 30}
    folder = stand_in_for_variable(project, "ci_token_lifetime_days", tmp_path / "stand-in")

    def plan(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(["terraform", "plan", "-no-color", "-input=false", *arguments], cwd=folder, capture_output=True, text=True)

    assert plan().returncode == 0, "the default is valid"
    for days in (365, 91, 30):
        refused = plan(f"-var=ci_token_lifetime_days={days}")
        assert refused.returncode != 0 and "ci_token_lifetime_days must be 31 to 90" in refused.stderr, refused.stderr
    assert plan("-var=ci_token_lifetime_days=31").returncode == 0
    setup_guide = (project / "docs/mlops-setup.md").read_text()
    assert "deploy bot's project access token (Maintainer, `api`, `ci_token_lifetime_days`: 90 days)" in setup_guide
    assert "Whoever may read that state may use them" in setup_guide


# What a Maintainer could add to a pipeline or to "Run job" to take over git or Terraform.
GIT_INJECTED = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor", "GIT_CONFIG_VALUE_0": "touch /tmp/pwned",
                "GIT_ASKPASS": "/tmp/evil", "GIT_SSH_COMMAND": "/tmp/evil", "LD_PRELOAD": "/tmp/evil.so", "BASH_ENV": "/tmp/evil.sh"}


@pytest.mark.parametrize("variant", GITLAB_VARIANTS[:1], ids=lambda v: v.id)
def test_output_commits_run_only_in_push_pipelines_of_the_default_branch(gitlab_checkout: Path) -> None:
    """Issue 22 (ops walk): terraform-output-<env>, which holds GITLAB_PUSH_TOKEN, also ran in
    pipelines a Maintainer starts (web) on main, whose variables outrank the job's own. For every
    source that a person, the API, a trigger or a schedule starts, and for a push with debug
    tracing, gitlab-ci-local creates no output job; a push that changes databricks-config does."""
    project = gitlab_checkout
    for env in ("staging", "prod"):
        with open(project / f"databricks-config/{env}/main.tf", "a") as file:
            file.write("\n# changed\n")
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-am", "Change both"],
                   cwd=project, check=True)
    outputs = {"terraform-output-staging", "terraform-output-prod"}
    assert running(listed_jobs(project, {"CI_PIPELINE_SOURCE": "push"})) >= outputs
    for source in STARTED_BY_SOMEONE:
        created = running(listed_jobs(project, {"CI_PIPELINE_SOURCE": source, "CI_COMMIT_BRANCH": "main"}))
        assert not created & outputs, (source, created)
    for debug in ({"CI_DEBUG_TRACE": "true"}, {"CI_DEBUG_TRACE": "1"}, {"CI_DEBUG_SERVICES": "True"}):
        created = running(listed_jobs(project, {"CI_PIPELINE_SOURCE": "push", **debug}))
        assert "terraform-apply-staging" in created and not created & outputs, (debug, created)


def test_output_commit_git_gets_no_pipeline_variable(tmp_path: Path) -> None:
    """Issue 22 (ops walk): GIT_CONFIG_COUNT/KEY/VALUE (core.fsmonitor, credential.helper) and the
    like, as pipeline variables, made the output job's git run any command or hand over the push
    token. The job's before_script and script run in bash with such variables, against stand-ins
    for apk, git and the commit script that record their environment: none sees an injected name,
    and git gets the push URL with the token."""
    project = gitlab_variant_project(tmp_path)
    job = jobs(project)["terraform-output-prod"]
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    record = tmp_path / "record.jsonl"
    recorder = f"import json, os, sys; open({str(record)!r}, 'a').write(json.dumps({{'argv': sys.argv, 'env': dict(os.environ)}}) + '\\n')"
    for tool in ("apk", "git"):
        (stand_in / tool).write_text(f"#!/usr/bin/python3\n{recorder}\n")
        (stand_in / tool).chmod(0o755)
    repo = tmp_path / "checkout"
    (repo / JOB_FOLDER / "scripts").mkdir(parents=True)
    (repo / JOB_FOLDER / "scripts/commit-terraform-output.sh").write_text(f"/usr/bin/python3 -c {shlex.quote(recorder)} commit \"$@\"\n")
    lines = [line.replace("PATH=/usr/local/bin:", f"PATH={stand_in}:/usr/local/bin:")
             .replace("PATH=/usr/sbin:", f"PATH={stand_in}:/usr/sbin:") for line in [*job["before_script"], *job["script"]]]
    assert all(str(stand_in) in line for line in lines), "every command of the job runs under env -i"
    environment = {"PATH": f"{stand_in}:{os.environ['PATH']}", "GITLAB_PUSH_TOKEN": "push-token", "CI_SERVER_PROTOCOL": "https",
                   "CI_SERVER_FQDN": "gitlab.invalid", "CI_PROJECT_PATH": "group/project", **GIT_INJECTED}
    done = subprocess.run(["bash", "-c", "set -eo pipefail\n" + "\n".join(lines)], cwd=repo, env=environment,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [Path(call["argv"][0]).name for call in calls] == ["apk", "git", "-c"], calls
    assert calls[1]["argv"][1:] == ["remote", "set-url", "origin", "https://oauth2:push-token@gitlab.invalid/group/project.git"]
    assert calls[2]["argv"][-2:] == ["prod", "--from-artifact"]
    for call in calls:
        leaked = set(call["env"]) & set(GIT_INJECTED)
        assert leaked == set(), f"{call['argv'][0]} sees injected pipeline variables: {leaked}"
    assert "push-token" not in json.dumps(calls[0]["env"]), "apk runs without the push token"


def test_prod_apply_refuses_variables_that_no_one_reviewed(tmp_path: Path) -> None:
    """Issue 22 (ops walk): whoever presses "Run job" on terraform-apply-prod may add variables
    that outrank the job's own (CI_DEBUG_TRACE writes the prod ID tokens to the log), unseen by
    the approver. The job's first command (before any token is read) is the generated guard, run
    here with sh: it passes with the job's own and the bootstrap's variables, and refuses (exit 1,
    naming the variable) an unknown name, debug tracing in each spelling the runner accepts, and
    a changed DATABRICKS_HOST."""
    project = gitlab_variant_project(tmp_path)
    job = jobs(project)["terraform-apply-prod"]
    guard = "sh .gitlab/ci/scripts/refuse-unreviewed-variables.sh prod"
    assert job["before_script"][0] == guard and job["rules"][0]["when"] == "manual"
    assert "refuse-unreviewed-variables" not in json.dumps(jobs(project)["terraform-apply-staging"])
    own = {name: str(value) for name, value in job["variables"].items()}
    reviewed = {"PATH": "/usr/bin:/bin", "HOME": "/root", "CI_JOB_ID": "1", "GITLAB_CI": "true", "FF_SCRIPT_SECTIONS": "false",
                **own, **{name: "x" for name in job["id_tokens"]},
                "GCP_WORKLOAD_IDENTITY_PROVIDER": "p", "GCP_SERVICE_ACCOUNT": "sa", "CI_DEBUG_TRACE": "false"}
    # Every project variable the bootstrap writes into an environment's scope reaches the job.
    bootstrap = (project / ".mlops-setup-scripts/cicd/gitlab.tf").read_text()
    written = re.findall(r'^\s+key\s+= "([A-Za-z_][A-Za-z0-9_]*)"$', bootstrap, re.MULTILINE)
    assert {"DATABRICKS_CLIENT_ID", "TF_VAR_failure_alert_emails"} <= set(written), written
    reviewed.update({name: "x" for name in written if name != "DATABRICKS_AUTH_TYPE"})

    def run_guard(extra: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(["env", "-i", *[f"{k}={v}" for k, v in {**reviewed, **extra}.items()], *shlex.split(guard)],
                              cwd=project, capture_output=True, text=True)

    passed = run_guard({})
    assert passed.returncode == 0, passed.stderr
    for extra in ({"GIT_CONFIG_COUNT": "1"}, {"TF_CLI_ARGS": "-var=x=1"}, {"LD_PRELOAD": "/tmp/evil.so"},
                  {"CI_DEBUG_TRACE": "true"}, {"CI_DEBUG_TRACE": "1"}, {"CI_DEBUG_SERVICES": "TRUE"},
                  {"DATABRICKS_HOST": "https://evil.example"}, {"DATABRICKS_AUTH_TYPE": "pat"}):
        refused = run_guard(extra)
        assert refused.returncode == 1 and "Refusing to run" in refused.stderr, (extra, refused.stderr)
        assert next(iter(extra)) in refused.stderr, (extra, refused.stderr)


def test_model_deployment_docs_name_what_the_job_runs(generated_project: Path) -> None:
    """Issue 22 (ops walk, minor): the CI README said the deployment job runs `python
    steps/deploy.py` and moves a registry stage, and the job file said "registry stage", on the
    MLflow 3 tracks too, whose job runs fare_model.deployment and moves an alias. The README names
    the command the job runs, and neither text speaks of the other track's."""
    script = " ".join(jobs(generated_project)["deploy-model-prod"]["script"])
    aliases = "python -m fare_model.deployment" in script  # MLflow 3 (feature store too); else MLflow 2's stages
    runs, other = ("python -m fare_model.deployment", "steps/deploy.py") if aliases else ("python steps/deploy.py", "fare_model")
    assert runs in script
    readme = (generated_project / JOB_FOLDER / "README.md").read_text()
    header = (generated_project / JOB_FOLDER / "deploy-model.gitlab-ci.yml").read_text().split("\n\n")[0]
    assert runs in readme and other not in readme
    assert ("alias" in header) == aliases and ("stage" in header) != aliases, header

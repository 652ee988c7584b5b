"""The table of environments (hooks/environments.py) is the one place that lists them: a ``qa`` row
added between staging and prod in a copy of this repository reaches every generated artefact that
reads the table, and the copy's own tests pass.
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
from cookiecutter.main import cookiecutter

from hooks.environment_folders import PER_ENVIRONMENT_FILES, SOURCE, generated_paths
from hooks.environments import ENVIRONMENTS, names
from tests.support.generation import answers_for
from tests.support import azure_pipelines_schema, mermaid
from tests.support.markdown_links import broken_links_in, fenced_blocks
from tests.support.template_repo import template_repository
from tests.support.tools import CHECK_JSONSCHEMA
from tests.support.terraform_refs import problems_in_tree
from tests.support.variants import FEATURE_STORE_VARIANTS, RECIPE_VARIANTS, SUPPORTED_VARIANTS, TEMPLATE_DIR, Variant, choices

QA_ROW = 'Environment("qa", "deploy", host_answer="databricks_staging_workspace_host", branch_answer="default_branch"),'
# qa behind an approval of its own, deployed from the release branch like prod.
PROTECTED_QA_ROW = QA_ROW.replace('branch_answer="default_branch"),', 'branch_answer="release_branch", protected=True),')
# The same, approved by prod's reviewers instead of reviewers of its own.
SHARED_REVIEWERS_QA_ROW = PROTECTED_QA_ROW.replace("protected=True),", 'protected=True, reviewers="prod"),')
# The template's tests of what each deploy environment does (tests/support/environments.py), each of
# which pinned staging and prod and failed in a qa fork: the qa copy runs them (names for -k).
ENVIRONMENT_TEST_FILES = ("tests/test_cicd.py", "tests/test_gitlab.py", "tests/test_terraform.py", "tests/test_first_deploy.py",
                          "tests/test_deploy_guards.py", "tests/test_rotation.py", "tests/test_azure_devops_credentials.py",
                          "tests/test_job_operations.py", "tests/test_unity_catalog.py")
ENVIRONMENT_TESTS = ("never_wait", "saved_plan", "only_the_deployment_pipeline", "service_connection_per_environment",
                     "gcp_state_with_the_run_token", "exactly_one_ci_platform", "named_auth_type", "names_its_auth_type",
                     "failed_output_commit", "federation_policies_bind", "signs_in_to_its_state", "never_signs_in",
                     "push_step_holds", "deleted_only_on_purpose", "fresh_credentials", "failure_alert", "documented_secrets")
# Those that generate their own projects (no variant parameter).
ENVIRONMENT_TESTS_WITHOUT_VARIANT = ("keep_can_manage", "config_file_overrides")
ENVIRONMENT_FILES = ("locals.tf", "main.tf", "outputs.tf", "provider.tf", "variables.tf")


def test_table_roles_and_order() -> None:
    """One dev and one ci environment; deploy environments in order of promotion, from staging (the
    integration test's workspace) to prod, the protected ones (behind a human approval) last, since
    every earlier one is tested by pull requests. (A fork's own rows, such as qa, pass too.)"""
    assert names("dev") == ("dev",) and names("ci") == ("test",)
    deploy = [env for env in ENVIRONMENTS if env.role == "deploy"]
    assert (deploy[0].name, deploy[-1].name) == ("staging", "prod")
    protected = [env.protected for env in deploy]
    assert protected == sorted(protected) and not protected[0] and protected[-1]
    assert all(env.host_answer and env.branch_answer for env in deploy)
    with pytest.raises(ValueError, match="unknown environment role 'qa'"):
        names("qa")


def test_every_row_names_prompts_that_exist() -> None:
    """A row's host and branch answers are prompts of cookiecutter.json: a typo such as
    ``branch_answer="relase_branch"`` failed only later, in generation, as a bare KeyError."""
    prompts = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    named = {(env.name, field, getattr(env, field)) for env in ENVIRONMENTS for field in ("host_answer", "branch_answer")}
    assert {(name, field, prompt) for name, field, prompt in named if prompt and prompt not in prompts} == set()


def test_each_protected_environment_has_reviewers_of_its_own_unless_its_row_shares_another_s() -> None:
    """A protected qa reused prod's reviewer variables (prod_reviewer_team_ids, ..._user_ids)."""
    from hooks.environments import Environment

    deploy = [env for env in ENVIRONMENTS if env.role == "deploy"]  # the table's rows (a fork's too)
    protected = {env.name for env in deploy if env.protected}
    assert [env.reviewer_variables in protected for env in deploy] == [env.protected for env in deploy]
    assert Environment("qa", "deploy", protected=True).reviewer_variables == "qa"
    assert Environment("qa", "deploy", protected=True, reviewers="prod").reviewer_variables == "prod"
    assert Environment("qa", "deploy", reviewers="prod").reviewer_variables is None  # no approval, no reviewers


def test_generated_paths_repeat_the_environment_folder_per_deploy_environment() -> None:
    paths = generated_paths(f"{SOURCE.as_posix()}/main.tf")
    assert "databricks-config/staging/main.tf" in paths and "databricks-config/prod/main.tf" in paths
    assert len(paths) == len(names("deploy"))
    assert generated_paths("databricks-config/README.md") == ["databricks-config/README.md"]
    workflow, profile = PER_ENVIRONMENT_FILES
    assert generated_paths(workflow) == [f".github/workflows/deploy-model-{env}.yml" for env in names("deploy")]
    assert generated_paths(profile) == [f"profiles/databricks-{env}.yaml" for env in names("deploy")]


def one_variant_per_platform() -> list[Variant]:
    """Per CI/CD platform a supported variant, Unity Catalog preferred (it has unity-catalog.json)."""
    chosen = []
    for platform in choices("cicd_platform"):
        offered = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == platform]
        chosen.append(next((v for v in offered if v.unity_catalog), offered[0]))
    return chosen


def qa_copy(folder: Path, row: str = QA_ROW) -> Path:
    """A copy of this repository whose table has ``row`` (a qa environment) between staging and prod."""
    repo = template_repository(folder)
    table = repo / "hooks" / "environments.py"
    # A fork that already has a qa row (on one line or several) gets this one instead: these tests
    # prove that a row of each kind works; the fork's own row is tested by its whole suite.
    text = re.sub(r'^    Environment\("qa", .*?\),\n', "", table.read_text(), flags=re.M | re.S)
    prod_row = '    Environment("prod", "deploy"'
    assert text.count(prod_row) == 1
    table.write_text(text.replace(prod_row, f"    {row}\n{prod_row}"))
    return repo


def read(project: Path, relative: str) -> str:
    return (project / relative).read_text()


@pytest.mark.large
def test_a_qa_row_reaches_every_artefact_that_reads_the_table(tmp_path: Path) -> None:
    repo = qa_copy(tmp_path / "repo")
    # Per platform a Unity Catalog variant, the two ML code tracks those do not cover, and gcp's
    # state access on GitLab.
    gcp_gitlab = next(v for v in SUPPORTED_VARIANTS if v.cloud == "gcp" and v.cicd_platform == "GitLab")
    for variant in [*one_variant_per_platform(), FEATURE_STORE_VARIANTS[0], RECIPE_VARIANTS[0], gcp_gitlab]:
        project = Path(cookiecutter(str(repo), no_input=True, output_dir=str(tmp_path / variant.id),
                                    extra_context=answers_for(variant)))
        # Terraform: the folder, its locals and its own state.
        for name in ENVIRONMENT_FILES:
            assert (project / "databricks-config" / "qa" / name).is_file(), (variant.id, name)
        assert not (project / SOURCE).exists()
        assert 'env = "qa"' in read(project, "databricks-config/qa/locals.tf")
        backend = read(project, "databricks-config/qa/provider.tf")
        assert ('prefix = "qa"' if variant.cloud == "gcp" else '"qa.terraform.tfstate"') in backend.replace("  ", " ")
        module_variables = read(project, "databricks-config/modules/ml-resources/variables.tf")
        assert 'contains(["staging", "qa", "prod"], var.env)' in module_variables
        # Bootstrap: service principal, workspace provider, admin profile, state access.
        cicd = project / ".mlops-setup-scripts" / "cicd"
        workspaces = (cicd / "workspaces.tf").read_text()
        assert 'module "qa_service_principal"' in workspaces and 'alias         = "qa_sp"' in workspaces
        assert 'module "qa_workspace_cicd"' in workspaces and 'output "QA_DATABRICKS_CLIENT_ID"' in workspaces
        # qa's principal joins qa's own group, which the guide has assigned to qa's workspace only.
        qa_group = f"{answers_for(variant).get('project_name', 'my-mlops-project')}-qa-service-principals"
        assert f'group_name                   = "{qa_group}"' in workspaces
        assert f"`{qa_group}`: the qa workspace only" in read(project, "docs/mlops-setup.md")
        assert 'alias   = "qa"' in (cicd / "provider.tf").read_text()
        # --rotate-databricks-secrets replaces qa's OAuth secret too; the guide names qa's client id.
        assert '"module.qa_service_principal.databricks_service_principal_secret.cicd"' in (cicd / "bootstrap.py").read_text()
        assert "`STAGING_DATABRICKS_CLIENT_ID`, `QA_DATABRICKS_CLIENT_ID`, `PROD_DATABRICKS_CLIENT_ID`" in read(
            project, "docs/mlops-setup.md")
        assert 'variable "qa_profile"' in (cicd / "variables.tf").read_text()
        assert re.search(r"^\s+qa\s+= ", (cicd / "state-access.tf").read_text(), re.M)
        # The platform's environments and secrets, and the federation policies.
        federation = (cicd / f"main-{variant.cloud}.tf").read_text()
        if variant.cicd_platform == "GitHub Actions":
            github = (cicd / "github.tf").read_text()
            assert 'resource "github_repository_environment" "qa"' in github
            assert re.search(r"^\s+qa\s+= github_repository_environment\.qa\.environment", github, re.M)
            assert '["staging", "qa", "prod"]' in federation
        elif variant.cicd_platform == "GitLab":
            assert re.search(r'^\s+qa\s+= "', (cicd / "gitlab.tf").read_text(), re.M)
            assert "qa-gitlab = {" in federation
            if variant.cloud != "gcp":
                assert re.search(r'^\s+qa\s+= "project_path:.*:ref:\*"', (cicd / "state-access.tf").read_text(), re.M)
        else:
            assert 'qa = "my-mlops-project qa Terraform state"' in re.sub(r" +", " ", (cicd / "azure-devops.tf").read_text())
        # Code: every notebook's env dropdown, the Python helpers, Unity Catalog's catalogs.
        dropdowns = [line for path in sorted((project / "notebooks").glob("*.py"))
                     for line in path.read_text().splitlines() if line.startswith('dbutils.widgets.dropdown("env"')]
        # (DropCiFeatureTables offers the CI environment only: it drops a CI run's tables.)
        deploy_dropdowns = [line for line in dropdowns if '"staging"' in line]
        assert deploy_dropdowns and all('"qa"' in line for line in deploy_dropdowns), (variant.id, dropdowns)
        assert 'TERRAFORM_ENVS = ("staging", "qa", "prod")' in read(project, "steps/utils.py")
        if variant.ml_code == "mlflow_recipes":  # Train and BatchInference load profiles/databricks-<env>.yaml
            profile = read(project, "profiles/databricks-qa.yaml")
            assert '{% include "databricks-config/output/qa.json" %}' in profile and profile.startswith("# Qa: ")
            assert not (project / "profiles" / "databricks-_environment.yaml").exists()
        if variant.unity_catalog:
            catalogs = json.loads(read(project, "databricks-config/unity-catalog.json"))["catalogs"]
            assert list(catalogs) == ["dev", "test", "staging", "qa", "prod"] and catalogs["qa"] == "qa"

        check_cicd_knows_qa(project, variant)
        check_terraform_and_code_know_qa(project, variant)
        check_docs_know_qa(project, variant)
        check_static(project)

    check_qa_catalog_is_its_own(repo)
    # The copy's own fast tests follow the table (one variant per platform keeps this to minutes),
    # those of the deploy environments' particular behaviour included: they pinned staging and
    # prod and failed in such a fork (stack-customization.md D, step 4).
    ids = " or ".join(v.id for v in [*one_variant_per_platform(), gcp_gitlab])
    table_tests = f"(test_pruning or test_environments or test_validation_rules) and (({ids}) or test_generated_paths" \
                  " or test_every_owned_path or catalog or table_roles)"
    environment_tests = f"(({ids}) and ({' or '.join(ENVIRONMENT_TESTS)})) or {' or '.join(ENVIRONMENT_TESTS_WITHOUT_VARIANT)}"
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_pruning.py", "tests/test_environments.py", "tests/test_validation_rules.py",
         *ENVIRONMENT_TEST_FILES, "-k", f"({table_tests}) or {environment_tests}", "-q", "-n", "2", "-p", "no:cacheprovider"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]


def check_qa_catalog_is_its_own(repo: Path) -> None:
    """The copy's answer checks compare qa's Unity Catalog catalog with every other environment's."""
    script = (
        "import json, sys\n"
        "from hooks.validation import find_problems\n"
        "from tests.support.generation import TEST_ANSWERS\n"
        "answers = {**TEST_ANSWERS, 'include_models_in_unity_catalog': 'yes', 'include_mlflow_recipes': 'no'}\n"
        "print(json.dumps({other: find_problems({**answers, '_uc_qa_catalog': other}, '2.7.1')\n"
        "                  for other in ('qa', 'staging', 'prod', 'test', 'dev', 'Qa')}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, check=True)
    problems = json.loads(result.stdout)
    assert problems.pop("qa") == []
    assert [p.split(":")[0] for p in problems["staging"]] == ["_uc_qa_catalog 'staging' equals _uc_staging_catalog 'staging'"]
    assert [p.split(":")[0] for p in problems["prod"]] == ["_uc_prod_catalog 'prod' equals _uc_qa_catalog 'prod'"]
    assert [p.split(":")[0] for p in problems["test"]] == ["_uc_test_catalog 'test' equals _uc_qa_catalog 'test'"]
    assert [p.split(":")[0] for p in problems["dev"]] == ["_uc_dev_catalog 'dev' equals _uc_qa_catalog"]
    assert [p.split(" is not")[0] for p in problems["Qa"]] == ["_uc_qa_catalog 'Qa'"]


@pytest.mark.large
def test_a_protected_qa_row_gets_its_own_approval_on_every_platform(tmp_path: Path) -> None:
    """qa with ``protected=True``: on GitHub Actions its own environment with reviewers and deployment
    branches, its plan and apply after an approval, its deploy workflow and the deploy trigger's secret
    in qa's workspace; on Azure DevOps (check_protected_qa_on_azure_devops) its own approval, branch
    control, model deployment pipeline and service connection trust; on GitLab
    (check_protected_qa_on_gitlab) its protected environment with approvals, protected variables,
    trigger and secret scope, state and Databricks trust, and jobs that no merge request or other
    branch creates."""
    repo = qa_copy(tmp_path / "repo", PROTECTED_QA_ROW)
    by_platform = {v.cicd_platform: v for v in one_variant_per_platform()}
    assert set(by_platform) == {"GitHub Actions", "Azure DevOps", "GitLab"}
    variant = by_platform.pop("GitHub Actions")
    project = Path(cookiecutter(str(repo), no_input=True, output_dir=str(tmp_path / variant.id),
                                extra_context=answers_for(variant)))
    github = read(project, ".mlops-setup-scripts/cicd/github.tf")
    qa_environment = re.search(r'^resource "github_repository_environment" "qa" \{\n(.*?)^\}', github, re.M | re.S)
    assert qa_environment and 'environment         = "qa"' in qa_environment.group(1)
    assert "reviewers {" in qa_environment.group(1) and "custom_branch_policies = true" in qa_environment.group(1)
    # qa's reviewers are its own, declared, named by its preconditions and exported by the setup guide.
    assert "teams = var.qa_reviewer_team_ids\n    users = var.qa_reviewer_user_ids" in qa_environment.group(1)
    assert "local.qa_reviewer_team_members" in qa_environment.group(1) and "prod_reviewer" not in qa_environment.group(1)
    assert 'data "github_organization_teams" "qa_reviewers"' in github
    bootstrap_variables = read(project, ".mlops-setup-scripts/cicd/variables.tf")
    assert re.findall(r'^variable "(\w+_reviewer_\w+)"', bootstrap_variables, re.M) == [
        "qa_reviewer_team_ids", "qa_reviewer_user_ids", "prod_reviewer_team_ids", "prod_reviewer_user_ids"]
    assert "approval every qa job waits for" in bootstrap_variables
    setup = read(project, "docs/mlops-setup.md")
    assert "export TF_VAR_qa_reviewer_team_ids=" in setup and "export TF_VAR_prod_reviewer_team_ids=" in setup
    assert "(qa and prod with required reviewers and deployment branches)" in setup
    assert 'resource "github_repository_environment_deployment_policy" "qa"' in github
    scope = r'"qa_cd_credentials" \{\n  provider   = databricks\.qa_sp\n  name       = "qa-my-mlops-project-cd-credentials"'
    assert re.search(scope, github)
    trigger = read(project, "notebooks/TriggerModelDeploy.py")
    assert 'if env == "qa":\n    start_qa_deployment(model_uri, git_branch)\nelif env == "prod":' in trigger
    assert 'QA_CD_SCOPE = "qa-my-mlops-project-cd-credentials"' in trigger and "deploy-model-qa.yml/dispatches" in trigger
    workflows = yaml_files(project)
    cd = workflows[".github/workflows/terraform-cd.yml"]["jobs"]
    assert (cd["plan_qa"]["needs"], cd["apply_qa"]["needs"], cd["plan_prod"]["needs"]) == (
        ["folders", "apply_staging"], "plan_qa", ["folders", "apply_qa"])
    assert "plan_qa" not in workflows[".github/workflows/terraform-ci.yml"]["jobs"]  # no pull request gets a qa login
    (deploy,) = workflows[".github/workflows/deploy-model-qa.yml"]["jobs"].values()
    assert deploy["environment"] == "qa" and deploy["if"] == "github.ref == 'refs/heads/release'"
    unity_catalog = read(project, "databricks-config/modules/ml-resources/unity-catalog.tf")
    assert 'force_destroy = !contains(["qa", "prod"], var.env)' in unity_catalog
    # qa's experiments, like prod's, are deleted only on purpose (delete_prod_experiments).
    workspaces = read(project, ".mlops-setup-scripts/cicd/workspaces.tf")
    kept = [name for name, body in re.findall(r'^module "(\w+)_service_principal" \{\n(.*?)^\}', workspaces, re.M | re.S)
            if "delete_experiments_with_folder = var.delete_prod_experiments\n" in body]
    assert kept == ["qa", "prod"], kept
    assert "delete qa's and prod's experiment folder" in bootstrap_variables
    # The workflows' guide names each protected environment's own reviewers and approvals.
    guide = read(project, ".github/workflows/README.md")
    assert "- `qa`: **required reviewers** (the bootstrap variable `qa_reviewer_team_ids`)" in guide
    assert "`plan_qa` (approve it" in guide and "- `prod`: **required reviewers**" in guide
    assert "Qa and prod are planned by terraform-cd.yml right before their" in read(project, ".github/workflows/terraform-ci.yml")
    assert "in qa and prod only, each one's secret scope `<env>-my-mlops-project-cd-credentials`" in setup
    check_static(project)

    # A row that shares prod's reviewers: qa's environment reads prod's variables, declared once.
    shared = qa_copy(tmp_path / "shared", SHARED_REVIEWERS_QA_ROW)
    project = Path(cookiecutter(str(shared), no_input=True, output_dir=str(tmp_path / "shared-out"),
                                extra_context=answers_for(variant)))
    github = read(project, ".mlops-setup-scripts/cicd/github.tf")
    qa_environment = re.search(r'^resource "github_repository_environment" "qa" \{\n(.*?)^\}', github, re.M | re.S)
    assert "teams = var.prod_reviewer_team_ids" in qa_environment.group(1) and "qa_reviewer" not in github
    bootstrap_variables = read(project, ".mlops-setup-scripts/cicd/variables.tf")
    assert re.findall(r'^variable "(\w+_reviewer_\w+)"', bootstrap_variables, re.M) == [
        "prod_reviewer_team_ids", "prod_reviewer_user_ids"]
    assert "approval every qa and prod job waits for" in bootstrap_variables
    check_static(project)

    for variant in [by_platform.pop("Azure DevOps"), next(v for v in SUPPORTED_VARIANTS if v.id == "gcp-azuredevops-nofs")]:
        project = Path(cookiecutter(str(repo), no_input=True, output_dir=str(tmp_path / variant.id),
                                    extra_context=answers_for(variant)))
        check_protected_qa_on_azure_devops(project, variant)

    for variant in [by_platform.pop("GitLab"), next(v for v in SUPPORTED_VARIANTS if v.id == "gcp-gitlab-nofs")]:
        project = Path(cookiecutter(str(repo), no_input=True, output_dir=str(tmp_path / variant.id),
                                    extra_context=answers_for(variant)))
        check_protected_qa_on_gitlab(project, variant, tmp_path / f"{variant.id}-checkout")


def check_protected_qa_on_azure_devops(project: Path, variant: Variant) -> None:
    """What prod gets on Azure DevOps, qa (a protected row) gets too, under its own name: an approval
    by its own approvers (qa_approver_ids; prod keeps prod_approver_ids), branch control on its group,
    environment and state connection, its model deployment pipeline with its authorisations and
    denied edits, its service connection's token trusted by its Databricks principal (azure, aws),
    and TriggerModelDeploy naming its pipeline. Fails on the template that refused the row."""
    bootstrap = read(project, ".mlops-setup-scripts/cicd/azure-devops.tf")
    approval = re.search(r'^resource "azuredevops_check_approval" "qa" \{\n(.*?)^\}', bootstrap, re.M | re.S)
    assert approval and 'azuredevops_environment.cicd["qa"].id' in approval.group(1)
    assert "approvers             = var.qa_approver_ids" in approval.group(1)
    prod_approval = re.search(r'^resource "azuredevops_check_approval" "prod" \{\n(.*?)^\}', bootstrap, re.M | re.S)
    assert prod_approval and "approvers             = var.prod_approver_ids" in prod_approval.group(1)
    branch_control = re.search(r'^resource "azuredevops_check_branch_control" "qa" \{\n(.*?)^\}', bootstrap, re.M | re.S)
    assert branch_control and 'variablegroup = azuredevops_variable_group.cicd["qa"].id' in branch_control.group(1)
    assert 'environment   = azuredevops_environment.cicd["qa"].id' in branch_control.group(1)
    assert ('endpoint      = ' in branch_control.group(1)) == (variant.cloud != "gcp")
    assert 'resource "azuredevops_check_branch_control" "prod"' in bootstrap
    pipeline = re.search(r'^    deploy_model_qa = \{\n(.*?)^    \}', bootstrap, re.M | re.S)
    assert pipeline and 'yml_path           = ".azure/devops-pipelines/deploy-model-qa.yml"' in pipeline.group(1)
    assert 'name               = "Deploy model (qa)"' in pipeline.group(1)
    # The pipeline signs in to qa, deploys to qa's environment and (azure, aws) uses its state connection.
    for pipelines in ("environment_pipelines", "deployment_pipelines", "state_pipelines"):
        listed = re.search(rf'^  {pipelines} = \{{\n(.*?)^  \}}', bootstrap, re.M | re.S).group(1)
        assert 'qa      = ["terraform_cicd", "deploy_model_qa"]' in listed or pipelines == "state_pipelines"
        assert '"deploy_model_qa"' not in listed.replace('qa      = ["terraform_cicd", "deploy_model_qa"]', "")
    assert re.search(r'^    deploy_model_qa += \["EditBuildDefinition"', bootstrap, re.M)  # no Contributor edits it
    variables = read(project, ".mlops-setup-scripts/cicd/variables.tf")
    assert re.findall(r'^variable "(\w+_approver_ids)"', variables, re.M) == ["qa_approver_ids", "prod_approver_ids"]
    assert "export TF_VAR_qa_approver_ids=" in read(project, "docs/mlops-setup.md")
    federation = read(project, f".mlops-setup-scripts/cicd/main-{variant.cloud}.tf")
    if variant.cloud == "gcp":
        assert "service-connection" not in federation
    else:
        assert 'contains(["qa", "prod"], each.key) ? { databricksServiceConnectionId' in bootstrap
        assert re.search(r'^    qa-service-connection = \{\n      env       = "qa"', federation, re.M)
        assert ' if !contains(["qa", "prod"], env)' in federation  # no pipeline name signs in to qa
    deploy = yaml_files(project)[".azure/devops-pipelines/deploy-model-qa.yml"]
    (stage,) = deploy["stages"]
    (job,) = stage["jobs"]
    assert stage["condition"] == "eq(variables['Build.SourceBranch'], 'refs/heads/release')"
    assert job["environment"] == "qa" and {"group": "my-mlops-project qa"} in job["variables"]
    steps = job["strategy"]["runOnce"]["deploy"]["steps"]
    assert steps[-1]["script"].endswith(' "$MODEL_URI" qa')
    token_steps = [step for step in steps if step.get("displayName") == "Get the qa service connection's token for Databricks"]
    assert len(token_steps) == (variant.cloud != "gcp")
    trigger = read(project, "notebooks/TriggerModelDeploy.py")
    assert 'deploy_branches = {"qa": "release", "prod": "release"}\nif env in ["qa", "prod"]:' in trigger
    assert "'Deploy model ({env})'" in trigger
    readme = read(project, ".azure/devops-pipelines/README.md")
    assert "[`deploy-model-qa.yml`](deploy-model-qa.yml)" in readme and "`Deploy model (qa) (<repository>)` and" in readme
    check_static(project)
    result = subprocess.run([CHECK_JSONSCHEMA, "--schemafile", azure_pipelines_schema.schema_file(), "--data-transform",
                             "azure-pipelines", "--regex-variant", "nonunicode",
                             *sorted((project / ".azure" / "devops-pipelines").glob("*.yml"))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def check_protected_qa_on_gitlab(project: Path, variant: Variant, checkout: Path) -> None:
    """What prod gets on GitLab, qa (a protected row) gets too: a protected environment with
    approvals of its own (qa_required_approvals), protected variables, its own pipeline trigger in a
    secret scope of qa's workspace, Databricks federation and state trust for the protected default
    branch only; and gitlab-ci-local shows that no merge request, no other branch's push and no
    trigger of another branch creates a qa job, while a default-branch push and a release trigger do.
    Fails on the template that refused the row."""
    setup = read(project, ".mlops-setup-scripts/cicd/gitlab.tf")
    environment = re.search(r'^resource "gitlab_project_protected_environment" "qa" \{\n(.*?)^\}', setup, re.M | re.S)
    assert environment and "required_approvals = var.qa_required_approvals" in environment.group(1)
    assert 'resource "gitlab_project_protected_environment" "prod"' in setup
    assert setup.count('protected         = contains(["qa", "prod"], each.key)') == 4
    assert 'resource "gitlab_pipeline_trigger" "qa_model_deployment"' in setup
    assert re.search(r'"qa_cd_credentials" \{\n  provider = databricks\.qa_sp\n  name     = "qa-my-mlops-project-cd-credentials"', setup)
    variables = read(project, ".mlops-setup-scripts/cicd/gitlab-variables.tf")
    assert re.findall(r'^variable "(\w+_required_approvals)"', variables, re.M) == ["qa_required_approvals", "prod_required_approvals"]
    federation = read(project, f".mlops-setup-scripts/cicd/main-{variant.cloud}.tf")
    assert 'qa-gitlab-main = {\n      env           = "qa"\n      subject_claim = "sub"' in federation
    state = read(project, ".mlops-setup-scripts/cicd/state-access.tf")
    if variant.cloud == "gcp":
        assert "attribute.protected_env/qa" in state and "attribute.protected_env/prod" in state
    elif variant.cloud == "azure":
        assert 'resource "azuread_application_federated_identity_credential" "gitlab_qa"' in state
    trigger = read(project, "notebooks/TriggerModelDeploy.py")
    assert 'QA_CD_SCOPE = "qa-my-mlops-project-cd-credentials"' in trigger
    assert 'if env == "qa":\n    start_qa_deployment(model_uri)\nelif env == "prod":' in trigger
    assert "- Operate, Environments, `qa`:" in read(project, "docs/mlops-setup.md")
    check_static(project)
    # Imported here: a fork specialised to another CI/CD platform has neither module.
    from tests.support.gitlab_ci_local import NodeMissing, as_gitlab_checkout, ensure_gitlab_ci_local
    from tests.test_gitlab import listed_jobs, running

    try:
        ensure_gitlab_ci_local()
    except NodeMissing:
        return  # tests/test_gitlab.py skips its gitlab-ci-local checks too without Node
    project = shutil.copytree(project, checkout)
    as_gitlab_checkout(project, "main")
    with open(project / "databricks-config/qa/main.tf", "a") as file:
        file.write("\n# changed\n")
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-am", "Change qa"],
                   cwd=project, check=True)
    qa_terraform = {"terraform-plan-qa", "terraform-apply-qa", "terraform-output-qa"}
    assert running(listed_jobs(project, {"CI_PIPELINE_SOURCE": "push"})) >= qa_terraform
    qa_jobs = qa_terraform | {"deploy-model-qa"}
    model = {"MODEL_URI": "models:/m/1"}
    for variables in ({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7", **model},
                      {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", **model},
                      {"CI_PIPELINE_SOURCE": "trigger", "CI_COMMIT_BRANCH": "feature", **model},
                      {"CI_PIPELINE_SOURCE": "web", "CI_COMMIT_BRANCH": "main"}):
        assert not running(listed_jobs(project, variables)) & qa_jobs, variables
    release = {"CI_PIPELINE_SOURCE": "trigger", "CI_COMMIT_BRANCH": "release", **model}
    assert "deploy-model-qa" in running(listed_jobs(project, release))
    assert "deploy-model-qa" not in running(listed_jobs(project, {**release, "CI_DEBUG_TRACE": "true"}))


def yaml_files(project: Path) -> dict[str, object]:
    """Every CI/CD YAML file of the project, parsed (GitLab's !reference tags as plain lists)."""
    loader = type("CiLoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!reference", lambda load, node: load.construct_sequence(node))
    paths = [*project.glob(".github/workflows/*.yml"), *project.glob(".azure/devops-pipelines/*.yml"),
             *project.glob(".gitlab-ci.yml"), *project.glob(".gitlab/ci/*.yml")]
    return {path.relative_to(project).as_posix(): yaml.load(path.read_text(), Loader=loader) for path in paths}


def check_cicd_knows_qa(project: Path, variant: Variant) -> None:
    """qa behaves like staging (an unprotected deploy environment) in the platform's CI/CD files:
    planned and tested by pull requests, applied on push, promoted between staging and prod."""
    workflows = yaml_files(project)
    assert workflows, variant.id
    if variant.cicd_platform == "Azure DevOps":
        stages = {stage["stage"]: stage for stage in workflows[".azure/devops-pipelines/terraform-cicd.yml"]["stages"]}
        assert list(stages) == ["Folders", "ApplyStaging", "ApplyQa", "PlanProd", "ApplyProd"]
        assert stages["ApplyQa"]["dependsOn"] == ["Folders", "ApplyStaging"]
        assert stages["ApplyQa"]["jobs"][0]["environment"] == "qa"
        assert stages["PlanProd"]["dependsOn"] == ["Folders", "ApplyQa"]
        ci = workflows[".azure/devops-pipelines/terraform-ci.yml"]["jobs"]
        assert [job["job"] for job in ci] == ["Folders", "Format", "PlanStaging", "PlanQa"]
        return
    if variant.cicd_platform == "GitLab":
        jobs = workflows[".gitlab/ci/terraform.gitlab-ci.yml"]
        assert jobs["terraform-plan-qa"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
        assert "terraform-plan-prod" in jobs and not any("merge_request" in rule["if"] for rule in jobs["terraform-plan-prod"]["rules"])
        assert jobs["terraform-apply-qa"]["needs"] == ["terraform-apply-staging"]
        assert jobs["terraform-apply-qa"]["environment"]["name"] == "qa"
        assert all("when" not in rule for rule in jobs["terraform-apply-qa"]["rules"])
        assert jobs["terraform-output-qa"]["needs"] == ["terraform-apply-qa"]
        assert jobs["terraform-plan-prod"]["needs"] == ["terraform-apply-qa"]
        assert "terraform-plan-qa" not in jobs["terraform-apply-qa"].get("needs", [])
        return
    deploy = workflows[".github/workflows/deploy-model-qa.yml"]
    (job,) = deploy["jobs"].values()
    assert job["environment"] == "qa" and job["if"] == "github.ref == 'refs/heads/main'"
    assert deploy["concurrency"]["group"].endswith("-model-deployment-qa")
    cd = workflows[".github/workflows/terraform-cd.yml"]["jobs"]
    assert cd["apply_staging"]["needs"] == "folders"
    assert cd["apply_qa"]["needs"] == ["folders", "apply_staging"] and cd["apply_qa"]["environment"] == "qa"
    assert cd["plan_prod"]["needs"] == ["folders", "apply_qa"] and "plan_qa" not in cd
    assert "qa" in cd["folders"]["outputs"]
    ci = workflows[".github/workflows/terraform-ci.yml"]["jobs"]
    assert ci["plan_qa"]["environment"] == "qa" and "plan_prod" not in ci
    assert "plan_qa" in ci["comment"]["needs"]
    tests = read(project, ".github/workflows/run-tests-fs.yml" if variant.feature_store else ".github/workflows/run-tests.yml")
    assert "(staging|qa|prod|modules|output)" in tests
    assert "Integration test on staging" in tests


def check_terraform_and_code_know_qa(project: Path, variant: Variant) -> None:
    """The shared module treats qa like staging; the project's code accepts it."""
    module = project / "databricks-config" / "modules" / "ml-resources"
    assert "the default branch in qa" in (module / "variables.tf").read_text()
    assert "../../staging, ../../qa and\n# ../../prod" in (module / "variables.tf").read_text()
    if variant.unity_catalog:
        unity_catalog = (module / "unity-catalog.tf").read_text()
        assert 'force_destroy = var.env != "prod"' in unity_catalog
        assert 'toset(var.env == "staging"' in unity_catalog
    if variant.ml_code != "mlflow_recipes":
        deployment = read(project, "fare_model/deployment.py")
        assert 'choices=["dev", "staging", "qa", "prod"]' in deployment
    else:
        stages = '{"dev": "Staging", "test": "Staging", "staging": "Staging", "qa": "Staging", "prod": "Production"}'
        assert f"_DEPLOYED_STAGE = {stages}" in read(project, "steps/utils.py")
    if variant.feature_store:
        assert 'ENVIRONMENTS = ("dev", "test", "staging", "qa", "prod")' in read(project, "features/feature_tables.py")
    if variant.cloud == "gcp" and variant.cicd_platform != "GitHub Actions":
        state_access = read(project, ".mlops-setup-scripts/cicd/state-access.tf")
        assert re.search(r'^\s+qa\s+= "principalSet://.*(/attribute\.ref_type/branch|/\*)"$', state_access, re.M)
    trigger = read(project, "notebooks/TriggerModelDeploy.py")
    assert trigger.count('if env == "prod":') == 1  # qa, unprotected, deploys in its own job


def check_docs_know_qa(project: Path, variant: Variant) -> None:
    # The trial of stack-customization.md D found the README, overview, pull-request and setup
    # guides' lists written for staging and prod only.
    expected = {
        "databricks-config/README.md": ["`staging/`, `qa/`, `prod/`", "Qa[CD: apply qa]",
                                        "CI/CD runs Terraform in `staging/`, `qa/` and `prod/`"],
        "README.md": ["| QA workspace | "],
        "docs/project-overview.md": ["| QA | "],
        "docs/ml-pull-request.md": ["[qa model]("],
        "docs/mlops-setup.md": ["databricks auth login --profile my-mlops-project-qa --host ", "`qa_profile`"],
    }
    if variant.cicd_platform == "GitHub Actions":
        expected["docs/mlops-setup.md"] += ["GitHub environments `staging`, `qa` and `prod`",
                                           "the GitHub environments `staging`, `qa` and `prod` (prod with"]
        expected[".github/workflows/README.md"] = ["[`deploy-model-qa.yml`](deploy-model-qa.yml)",
                                                   "GitHub environment `staging`, `qa` or `prod`"]
    elif variant.cicd_platform == "GitLab":
        expected["docs/mlops-setup.md"] += ["created the environments `staging`, `qa` and `prod`",
                                           "the GitLab environments `staging`, `qa` and `prod` (prod protected)"]
    missing = [(path, text) for path, texts in expected.items() for text in texts if text not in read(project, path)]
    assert not missing, (variant.id, missing)


def check_static(project: Path) -> None:
    """What the suite checks of every variant, for the qa copy: Python compiles, Terraform is
    formatted (real `terraform fmt`) and every reference resolves (tests/test_terraform.py), the
    guides' links resolve and their diagrams parse (tests/test_docs.py)."""
    guides = sorted(project.rglob("*.md"))
    assert broken_links_in(guides, project) == []
    diagrams = [block for path in guides for block in fenced_blocks(path.read_text(), "mermaid")]
    try:
        assert [error for error in mermaid.parse_errors(diagrams) if error is not None] == []
    except mermaid.NodeMissing:
        pass  # tests/test_docs.py skips its diagram checks too without Node
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")
    terraform = shutil.which("terraform")
    for tree in ("databricks-config", ".mlops-setup-scripts"):
        if terraform:
            result = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", tree], cwd=project,
                                    capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
        assert problems_in_tree(project / tree) == []

"""The table of environments (hooks/environments.py) is the one place that lists them: a ``qa`` row
added between staging and prod in a copy of this repository reaches every generated artefact that
reads the table, and the copy's own tests pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from hooks.environment_folders import SOURCE, generated_paths
from hooks.environments import ENVIRONMENTS, names
from tests.support.generation import answers_for
from tests.support.template_repo import template_repository
from tests.support.variants import SUPPORTED_VARIANTS, Variant, choices

QA_ROW = 'Environment("qa", "deploy", host_answer="databricks_staging_workspace_host", branch_answer="default_branch"),'
ENVIRONMENT_FILES = ("locals.tf", "main.tf", "outputs.tf", "provider.tf", "variables.tf")


def test_table_roles_and_order() -> None:
    """One dev and one ci environment; deploy environments in order of promotion, the protected
    one (prod, behind a human approval) last, since every earlier one is tested by pull requests."""
    assert names("dev") == ("dev",) and names("ci") == ("test",)
    deploy = [env for env in ENVIRONMENTS if env.role == "deploy"]
    assert [env.name for env in deploy] == ["staging", "prod"]
    assert [env.protected for env in deploy] == [False, True]
    assert all(env.host_answer and env.branch_answer for env in deploy)
    with pytest.raises(ValueError, match="unknown environment role 'qa'"):
        names("qa")


def test_generated_paths_repeat_the_environment_folder_per_deploy_environment() -> None:
    paths = generated_paths(f"{SOURCE.as_posix()}/main.tf")
    assert "databricks-config/staging/main.tf" in paths and "databricks-config/prod/main.tf" in paths
    assert len(paths) == len(names("deploy"))
    assert generated_paths("databricks-config/README.md") == ["databricks-config/README.md"]


def one_variant_per_platform() -> list[Variant]:
    """Per CI/CD platform a supported variant, Unity Catalog preferred (it has unity-catalog.json)."""
    chosen = []
    for platform in choices("cicd_platform"):
        offered = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == platform]
        chosen.append(next((v for v in offered if v.unity_catalog), offered[0]))
    return chosen


def qa_copy(folder: Path) -> Path:
    repo = template_repository(folder)
    table = repo / "hooks" / "environments.py"
    text = table.read_text()
    prod_row = '    Environment("prod", "deploy"'
    assert text.count(prod_row) == 1
    table.write_text(text.replace(prod_row, f"    {QA_ROW}\n{prod_row}"))
    return repo


def read(project: Path, relative: str) -> str:
    return (project / relative).read_text()


@pytest.mark.large
def test_a_qa_row_reaches_every_artefact_that_reads_the_table(tmp_path: Path) -> None:
    repo = qa_copy(tmp_path / "repo")
    for variant in one_variant_per_platform():
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
        assert 'alias   = "qa"' in (cicd / "provider.tf").read_text()
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
        assert dropdowns and all('"qa"' in line for line in dropdowns), (variant.id, dropdowns)
        assert 'TERRAFORM_ENVS = ("staging", "qa", "prod")' in read(project, "steps/utils.py")
        if variant.unity_catalog:
            catalogs = json.loads(read(project, "databricks-config/unity-catalog.json"))["catalogs"]
            assert list(catalogs) == ["dev", "test", "staging", "qa", "prod"] and catalogs["qa"] == "qa"

    # The copy's own fast tests follow the table (one variant per platform keeps this to minutes).
    ids = " or ".join(v.id for v in one_variant_per_platform())
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_pruning.py", "tests/test_environments.py", "-k",
         f"({ids}) or test_generated_paths or test_every_owned_path", "-q", "-n", "2", "-p", "no:cacheprovider"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]

"""Finding 10: every secret that remains has a rotation command in the setup guide, and the
commands work in Terraform's terms.

The Databricks OAuth secrets are what the CI/CD bootstrap's ``databricks.staging_sp`` and
``databricks.prod_sp`` providers sign in with. A plain ``-replace`` of one makes Terraform
refresh what the principal owns with the old (possibly expired) secret and configure the
provider with the new, unknown one; so the guide's command must first apply the secrets alone
(``-target``), whose dependencies use no such provider, then everything. The guide's commands are
read from its shell blocks and expanded by the script's own ``apply_runs``; the script is then
run with a stand-in ``terraform`` that records what it is asked to do.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.environments import DEPLOY
from tests.support.generation import generate, hosts_for
from tests.support.markdown_links import fenced_blocks
from tests.support.stand_in_terraform import run_bootstrap
from tests.support.terraform_refs import load_module, unquote
from tests.test_setup_guide import shell_commands

TRIALS = [("aws", "GitHub Actions"), ("azure", "Azure DevOps"), ("gcp", "GitLab")]
CICD = ".mlops-setup-scripts/cicd"


@pytest.fixture(scope="module", params=TRIALS, ids=[f"{c}-{p.split()[0].lower()}" for c, p in TRIALS])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cloud, platform = request.param
    return generate(tmp_path_factory.mktemp(cloud), {"cloud": cloud, "cicd_platform": platform, **hosts_for(cloud)})


def import_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bootstrap_{path.parent.name}_rotation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rotation_section(project: Path) -> str:
    guide = (project / "docs/mlops-setup.md").read_text()
    return guide[guide.index("## Rotating credentials"):guide.index("## Next steps")]


def rotation_commands(project: Path) -> list[list[str]]:
    return [command for block in fenced_blocks(rotation_section(project), "bash") for command in shell_commands(block)]


def secret_signed_providers(cicd: Path) -> dict[str, str]:
    """{provider address (databricks.<alias>): secret resource it signs in with}, from the provider blocks."""
    text = (cicd / "workspaces.tf").read_text()
    found = {}
    for alias, body in re.findall(r'provider "databricks" \{\n  alias\s+= "(\w+)"\n(.*?)\n\}', text, re.DOTALL):
        secret = re.search(r"client_secret\s+=\s+module\.(\w+)\.client_secret", body)
        if secret:
            found[f"databricks.{alias}"] = f"module.{secret.group(1)}.databricks_service_principal_secret.cicd"
    return found


def test_oauth_secret_rotation_never_signs_in_with_the_replaced_secret(project: Path) -> None:
    cicd = project / CICD
    signed = secret_signed_providers(cicd)
    assert sorted(signed) == sorted(f"databricks.{env}_sp" for env in DEPLOY), signed
    script = import_script(cicd / "bootstrap.py")
    runs = []
    for command in rotation_commands(project):
        if command[:2] == ["python", f"{CICD}/bootstrap.py"]:
            runs += script.apply_runs(command[2:]) if hasattr(script, "apply_runs") else [command[2:]]
    replaced = {word.split("=", 1)[1] for run in runs for word in run if word.startswith("-replace=")}
    assert replaced == set(signed.values()), f"the guide does not replace every OAuth secret: {runs}"
    calls = load_module(cicd).module_calls
    for run in runs:
        if not any(word.startswith("-replace=") for word in run):
            continue
        targets = [word.split("=", 1)[1] for word in run if word.startswith("-target=")]
        assert targets, f"{run}: replacing a secret that a provider signs in with needs a targeted apply first"
        for target in targets:
            call = calls[target.split(".")[1]]
            used = {unquote(str(v)).strip("${}") for v in call.get("providers", {}).values()}
            assert not used & set(signed), f"{target} is applied with {used & set(signed)}, which signs in with a secret"
    assert runs[-1] == [], "after the secrets, a full apply updates what holds them"


def test_every_token_has_a_rotation_command(project: Path) -> None:
    """Each token the bootstrap asks for is unset before a bootstrap run in the rotation section."""
    script = import_script(project / CICD / "bootstrap.py")
    commands = rotation_commands(project)
    unset = {word for command in commands if command[0] == "unset" for word in command[1:]}
    assert {f"TF_VAR_{token}" for token in script.TOKEN_PROMPTS} <= unset, commands
    assert any(command[:2] == ["python", f"{CICD}/bootstrap.py"] and len(command) == 2 for command in commands)


def test_rotation_option_runs_the_targeted_then_the_full_apply(project: Path, tmp_path: Path) -> None:
    """The guide's command, run: the script asks terraform for exactly the two applies."""
    run = run_bootstrap(project, tmp_path, "cicd/bootstrap.py", "--rotate-databricks-secrets", "-auto-approve")
    secrets = import_script(run.scripts / "cicd/bootstrap.py").OAUTH_SECRETS
    targeted = " ".join([f"-target={s}" for s in secrets] + [f"-replace={s}" for s in secrets])
    module_dir = (run.scripts / "cicd").resolve()
    assert run.calls == [
        f"{module_dir} {call}"
        for call in ("init", f"apply {targeted} -auto-approve", "output -json", "init", "apply -auto-approve", "output -json")
    ]

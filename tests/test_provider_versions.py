"""Provider versions: one constraint per provider across every generated folder, lower bounds no
older than what the code and docs need, and lock files that CI installs exactly.

The lock-file test runs the real ``terraform``: the guide's ``terraform providers lock`` commands,
then CI's ``init -lockfile=readonly``. Providers cannot be downloaded here, so both read a local
filesystem mirror (``-fs-mirror`` and a CLI configuration, Terraform's own offline mechanism:
https://developer.hashicorp.com/terraform/cli/config/config-file#filesystem_mirror) that holds a
stand-in package of the Databricks provider at its lowest admitted version for every platform the
guide names. Terraform computes and checks the checksums of those packages as it would the real ones.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from hooks.environments import names
from tests.support.generation import generate, hosts_for
from tests.support.markdown_links import fenced_blocks
from tests.support.provider_schemas import admits, required_provider_constraints
from tests.support.variants import choices, covering_pairs

# The three trial variants, and aws + Azure DevOps: between them every provider (a fork:
# every cloud and CI/CD platform it offers).
VARIANTS = covering_pairs([("aws", "GitHub Actions"), ("azure", "Azure DevOps"), ("gcp", "GitLab"),
                           ("aws", "Azure DevOps")])
# Unity Catalog adds resources (and no provider); a fork that fixed it to "no" generates without.
UNITY_CATALOG = "yes" if "yes" in choices("include_models_in_unity_catalog") else "no"
CI_FILES = (".github/workflows", ".gitlab", ".gitlab-ci.yml", ".azure/devops-pipelines")
ENV_FOLDERS = tuple(f"databricks-config/{env}" for env in names("deploy"))
CI_PLATFORM = "linux_amd64"  # GitHub's ubuntu-latest, Azure DevOps' ubuntu-latest, GitLab's Linux runners


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    generated = {}
    for cloud, platform in VARIANTS:
        generated[f"{cloud}-{platform}"] = generate(tmp_path_factory.mktemp(cloud), {
            "cloud": cloud, "cicd_platform": platform, "include_models_in_unity_catalog": UNITY_CATALOG, **hosts_for(cloud),
        })
    return generated


def constraints(project: Path) -> dict[str, set[str]]:
    """{provider: constraints} over every Terraform folder of ``project``."""
    found: dict[str, set[str]] = {}
    for folder in sorted({path.parent for path in project.rglob("*.tf")}):
        for _, provider, constraint in required_provider_constraints(folder):
            found.setdefault(provider, set()).add(constraint)
    return found


def lower_bound(constraint: str) -> tuple[int, ...]:
    (bound,) = re.findall(r">=\s*([\d.]+)", constraint)
    return tuple(int(part) for part in bound.split("."))


def test_every_folder_requires_the_same_provider_versions(projects: dict[str, Path]) -> None:
    """Finding 11: the bootstrap asked for databricks >= 1.90, databricks-config for >= 1.50."""
    merged: dict[str, set[str]] = {}
    for project in projects.values():
        for provider, found in constraints(project).items():
            merged.setdefault(provider, set()).update(found)
    assert {provider: found for provider, found in merged.items() if len(found) > 1} == {}


def test_databricks_lower_bound_is_what_the_docs_promise(projects: dict[str, Path]) -> None:
    """CI signs in with the provider's OIDC auth types; the guide names the release that has them."""
    for name, project in projects.items():
        guide = (project / "docs/mlops-setup.md").read_text()
        (documented,) = re.findall(r"the Terraform provider \(([\d.]+) or newer\)", guide)
        wanted = tuple(int(part) for part in documented.split("."))
        for constraint in constraints(project)["databricks"]:
            assert lower_bound(constraint) >= wanted, f"{name}: databricks {constraint} admits releases older than {documented}"


def test_ci_installs_only_the_locked_providers(projects: dict[str, Path]) -> None:
    for name, project in projects.items():
        inits = [
            (path.relative_to(project), line.strip())
            for entry in CI_FILES if (project / entry).exists()
            for path in ([project / entry] if (project / entry).is_file() else sorted((project / entry).rglob("*.yml")))
            for line in path.read_text().splitlines() if re.search(r"\bterraform\b.*\binit\b", line)
        ]
        assert inits, f"{name}: no terraform init in the CI files"
        assert [init for init in inits if "-lockfile=readonly" not in init[1]] == [], name


def guide_terraform_commands(project: Path) -> list[list[str]]:
    """The guide's ``terraform -chdir=databricks-config/...`` commands, comments dropped."""
    guide = (project / "docs/mlops-setup.md").read_text()
    return [shlex.split(line, comments=True) for block in fenced_blocks(guide, "bash") for line in block.splitlines()
            if re.match(r"terraform -chdir=databricks-config/", line)]


def mirror_package(mirror: Path, version: str, platform: str) -> None:
    """A stand-in provider package in the filesystem mirror's packed layout."""
    folder = mirror / "registry.terraform.io" / "databricks" / "databricks"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"terraform-provider-databricks_{version}_{platform}.zip", "w") as package:
        package.writestr(f"terraform-provider-databricks_v{version}", f"#!/bin/sh\n# stand-in for {platform}\nexit 1\n")


@pytest.mark.large
@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH")
def test_guide_lock_files_make_ci_install_exactly_the_locked_providers(projects: dict[str, Path], tmp_path: Path) -> None:
    project = shutil.copytree(next(iter(projects.values())), tmp_path / "project")
    commands = guide_terraform_commands(project)
    locks = [c for c in commands if c[2:4] == ["providers", "lock"]]
    assert sorted(c[1].removeprefix("-chdir=") for c in locks) == sorted(ENV_FOLDERS), commands
    platforms = {arg.removeprefix("-platform=") for command in locks for arg in command if arg.startswith("-platform=")}
    assert CI_PLATFORM in platforms

    (constraint,) = constraints(project)["databricks"]
    version = ".".join(str(part) for part in lower_bound(constraint)) + ".0"
    assert admits(constraint, version)
    mirror = tmp_path / "mirror"
    for platform in platforms:
        mirror_package(mirror, version, platform)
    cli_config = tmp_path / "offline.tfrc"
    cli_config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n')
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1"}

    def run(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=300)

    for command in commands:  # the guide's commands, reading the mirror instead of the registry
        result = run([*command, *([f"-fs-mirror={mirror}"] if command in locks else [])])
        assert result.returncode == 0, result.stdout + result.stderr
    for folder in ENV_FOLDERS:
        lock = (project / folder / ".terraform.lock.hcl").read_text()
        assert f'version     = "{version}"' in lock and lock.count('"h1:') == len(platforms), lock
        # CI's init (without the backend, which needs the cloud): installs what the lock file pins.
        ci_init = ["terraform", f"-chdir={folder}", "init", "-input=false", "-lockfile=readonly", "-backend=false", "-no-color"]
        result = run(ci_init)
        assert result.returncode == 0, result.stdout + result.stderr
        (project / folder / ".terraform.lock.hcl").unlink()
        shutil.rmtree(project / folder / ".terraform")
        result = run(ci_init)
        assert result.returncode != 0 and "Provider dependency changes detected" in result.stdout + result.stderr, (
            "without a committed lock file CI must stop, not pick providers of its own"
        )

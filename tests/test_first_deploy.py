"""The first deployment, replayed: the git commands of the setup guides run for real.

An ops engineer follows docs/mlops-setup.md and, from its step 6, the "Deploy the ML resources"
section of databricks-config/README.md. Their ``git`` commands are run as written in a copy of
the generated project, against a local bare repository standing in for the hosted one. Every
push of a branch other than the default and release branches opens a pull (merge) request; the
requests still open are merged when the guide next reads the hosted repository (``git pull``,
``git fetch``, a checkout of ``upstream/...``), as the prose between the blocks tells the reader
to. What each request's checks need is then compared with what the request holds (issue 22
trial, B1):

- a request whose tree holds the CI/CD files runs the ML code's tests, which need the ML code:
  every project file outside ``databricks-config/`` and the files there the ML code reads;
- a request whose tree holds ``databricks-config/staging`` runs ``terraform plan``, which reads
  the files named by ``file()`` in the Terraform and checks that the jobs' notebooks exist;
- a request whose checks run before the first staging apply (no request with the Terraform merged
  yet) may not need anything that apply creates: with Unity Catalog, the integration test's schema
  in the test catalog must be created by the test itself, not by Terraform.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.environments import DEPLOY, PROTECTED
from tests.support.markdown_links import fenced_blocks
from tests.support.variants import SUPPORTED_VARIANTS, Variant
from tests.test_setup_guide import CREATED_BY_THE_STEPS, shell_commands

SETUP_GUIDE = "docs/mlops-setup.md"
RESOURCE_GUIDE = "databricks-config/README.md"
DEPLOY_LINK = "../databricks-config/README.md#deploy-the-ml-resources"
CI_PATHS = (".github/workflows/", ".azure/", ".gitlab-ci.yml")
STAGING_TERRAFORM = "databricks-config/staging/main.tf"
GIT_IDENTITY = ["-c", "user.name=Ops", "-c", "user.email=ops@example.invalid", "-c", "init.defaultBranch=main"]
FILE_READ = re.compile(r'file\("\$\{path\.module\}/([^"]+)"\)')
NOTEBOOK_PATH = re.compile(r'notebook_path\s*=\s*"([^"$]+)"')


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)} in {cwd}: {result.stderr}"
    return result.stdout


def guide_git_commands(project: Path) -> list[list[str]]:
    """The guides' ``git`` commands in reading order from ``git init``: the setup guide up to its
    link to the resource guide's deploy section, that section, then the rest of the setup guide."""
    setup = (project / SETUP_GUIDE).read_text()
    cut = setup.index(DEPLOY_LINK)
    resources = (project / RESOURCE_GUIDE).read_text()
    section = resources[resources.index("## Deploy the ML resources"):]
    section = section[: section.find("\n## ", 1) % (len(section) + 1)]
    commands = []
    for text in (setup[:cut], section, setup[cut:]):
        for block in fenced_blocks(text, "bash"):
            commands += [command for command in shell_commands(block) if command[:1] == ["git"]]
    # Commands shown before the repository exists are for later (the project rename's restore).
    start = next(i for i, command in enumerate(commands) if command[:2] == ["git", "init"])
    return commands[start:]


@dataclass
class PullRequest:
    branch: str
    files: set[str]
    after_staging_apply: bool  # whether a request with the Terraform was merged before it was opened
    changed: set[str] = field(default_factory=set)  # the request's diff against its merge base
    head: str = ""  # the commit its checks run on
    merge: str = ""  # the merge commit on the default branch, which the Terraform deployment runs on
    merged_changed: set[str] = field(default_factory=set)  # what that merge changed on the default branch


@dataclass
class Replay:
    """The guide's git commands run in ``work`` against the bare repository ``upstream``."""

    work: Path
    upstream: Path
    scratch: Path
    deployed_branches: set[str]
    requests: list[PullRequest] = field(default_factory=list)
    open: list[PullRequest] = field(default_factory=list)
    staging_applied: bool = False

    def merge_open_requests(self) -> None:
        for request in self.open:
            git(self.scratch, "fetch", "-q", "origin")
            git(self.scratch, "checkout", "-q", "-B", "main", "origin/main")
            git(self.scratch, "merge", "-q", "--no-ff", "-m", f"Merge {request.branch}", f"origin/{request.branch}")
            git(self.scratch, "push", "-q", "origin", "main")
            request.merge = git(self.scratch, "rev-parse", "HEAD").strip()
            request.merged_changed = set(git(self.scratch, "diff", "--name-only", "HEAD^1", "HEAD").split())
            self.staging_applied |= STAGING_TERRAFORM in request.files
        self.open = []

    def run(self, command: list[str]) -> None:
        args = command[1:]
        if args[:2] == ["remote", "add"]:
            args = [*args[:3], str(self.upstream)]
        if args[0] in {"pull", "fetch"} or any(arg.startswith("upstream/") for arg in args):
            self.merge_open_requests()
        if args[0] == "add":  # files a step creates with tools that do not run here (lock files)
            args = [a for a in args if Path(a).name not in CREATED_BY_THE_STEPS or (self.work / a).exists()]
        git(self.work, *args)
        if args[0] == "push" and args[-1] not in self.deployed_branches:
            branch = args[-1]
            files = set(git(self.upstream, "ls-tree", "-r", "--name-only", branch).split())
            changed = set(git(self.upstream, "diff", "--name-only", f"main...{branch}").split())
            head = git(self.upstream, "rev-parse", branch).strip()
            updated = next((r for r in self.open if r.branch == branch), None)
            if updated:  # a push to an open request's branch updates it: its checks run again
                updated.files, updated.changed, updated.head = files, changed, head
            else:
                request = PullRequest(branch, files, self.staging_applied, changed, head)
                self.requests.append(request)
                self.open.append(request)


def replay(project: Path, tmp_path: Path, deployed_branches: set[str]) -> list[PullRequest]:
    """Run the guides' git commands on a copy of ``project``; the pull requests they open."""
    work = shutil.copytree(project, tmp_path / "work")
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(upstream))
    session = Replay(work, upstream, tmp_path / "scratch", deployed_branches)
    for command in guide_git_commands(project):
        session.run(command)
        if not session.scratch.exists() and git(upstream, "branch", "--list", "main").strip():
            git(tmp_path, "clone", "-q", str(upstream), str(session.scratch))  # where requests get merged
    session.merge_open_requests()
    for request in session.requests:  # the trees the checks and deployments run on
        for commit in {request.head, request.merge} - {""}:
            tree = tmp_path / "trees" / commit
            tree.mkdir(parents=True)
            archive = subprocess.run(["git", "archive", commit], cwd=upstream, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return session.requests


def ml_code_needs(project: Path) -> set[str]:
    """What the ML code's tests need: every file outside databricks-config/, and the Unity Catalog
    names there, which the ML code reads."""
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    needed = {f for f in files if not f.startswith("databricks-config/")}
    return needed | ({"databricks-config/unity-catalog.json"} & files)


def terraform_reads(project: Path) -> set[str]:
    """The project files the Terraform of databricks-config reads at plan time: ``file()`` paths
    relative to a module, and the notebooks whose existence the jobs' postconditions check."""
    reads = set()
    for tf in (project / "databricks-config").rglob("*.tf"):
        text = tf.read_text()
        for relative in FILE_READ.findall(text):
            reads.add(str((tf.parent / relative).resolve().relative_to(project.resolve())))
        if "fileexists(" in text:
            reads |= {f"{notebook}.py" for notebook in NOTEBOOK_PATH.findall(text)}
    return reads


def terraform_creates_test_schema(project: Path) -> bool:
    """Whether the staging Terraform creates the project's schema in the CI test catalog."""
    path = project / "databricks-config/modules/ml-resources/unity-catalog.tf"
    text = path.read_text()
    schema = re.search(r'resource "databricks_schema" "project" \{\s*for_each\s*=\s*(.+)', text)
    assert schema, f"{path}: no databricks_schema.project"
    catalogs = re.search(r"^\s*catalogs\s*=\s*(.+)$", text, re.MULTILINE)
    for_each = schema.group(1)
    return "catalogs.test" in for_each or ("local.catalogs" in for_each and bool(catalogs) and "catalogs.test" in catalogs.group(1))


def ci_script(project: Path) -> Path:
    (script,) = [p for p in project.glob(".*/**/scripts/submit_integration_test.py")]
    return script


def first_deploy_problems(project: Path, variant: Variant, tmp_path: Path) -> list[str]:
    answers = variant.answers()
    deployed = {answers.get("default_branch", "main"), answers.get("release_branch", "release")}
    requests = replay(project, tmp_path, deployed)
    problems = []
    tested = [r for r in requests if any(f.startswith(CI_PATHS) for f in r.files)]
    planned = [r for r in requests if STAGING_TERRAFORM in r.files]
    if not tested or not planned:
        problems.append(f"the guides open no request that runs the ML code's tests ({tested}) or the plan ({planned})")
    for request in tested:
        if missing := sorted(ml_code_needs(project) - request.files):
            problems.append(f"{request.branch}: its ML code tests run without {missing[:5]}")
    for request in planned:
        if missing := sorted(terraform_reads(project) - request.files):
            problems.append(f"{request.branch}: its terraform plan reads {missing}, which it does not hold")
    before_apply = [r for r in tested if not r.after_staging_apply]
    if variant.unity_catalog and before_apply:
        if terraform_creates_test_schema(project):
            problems.append(f"{before_apply[0].branch}: the integration test runs before the staging apply that creates its schema")
        if "schemas.create(" not in ci_script(project).read_text():
            problems.append(f"{before_apply[0].branch}: nothing creates the integration test's schema before the first apply")
    return problems


# One variant per what the first deployment depends on: CI/CD platform, Unity Catalog, feature store.
FIRST_DEPLOY_VARIANTS = list({(v.cicd_platform, v.unity_catalog, v.feature_store): v for v in SUPPORTED_VARIANTS}.values())


@pytest.mark.parametrize("variant", FIRST_DEPLOY_VARIANTS, ids=lambda v: v.id)
def test_the_guides_first_deploy_gives_every_check_what_it_needs(variant: Variant, generated_project: Path, tmp_path: Path) -> None:
    assert first_deploy_problems(generated_project, variant, tmp_path) == []


# --- which Terraform jobs each request of the guides starts, and whether their folders exist --------

TERRAFORM_ENV = re.compile(rf"-chdir=(?:databricks-config/)?({'|'.join(DEPLOY)})\b")


def glob_regex(pattern: str) -> re.Pattern:
    """A path glob of GitHub's ``paths`` or GitLab's ``changes``/``exists``: ``**`` spans folders,
    ``*`` stays within one."""
    parts = re.split(r"(\*\*/?|\*)", pattern)
    body = "".join(".*" if p.startswith("**") else "[^/]*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(body + r"\Z")


def github_paths_match(patterns: list[str], path: str) -> bool:
    """GitHub's ``paths`` filter for one file: the last pattern that matches decides (``!`` excludes)."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if glob_regex(pattern.lstrip("!")).match(path):
            included = not negated
    return included


def github_terraform_jobs(project: Path, event: str, changed: set[str], tree: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """(workflow job, environment) of every Terraform job that a ``pull_request`` or a ``push`` to
    the default branch with ``changed`` paths starts on the commit ``tree``: the workflow's path
    filter, then its ``folders`` job's step run for real on that tree, whose outputs gate the jobs."""
    import os

    import yaml

    jobs = []
    for path in sorted((project / ".github/workflows").glob("terraform-*.yml")):
        spec = yaml.safe_load(path.read_text())
        trigger = spec[True].get(event)  # PyYAML reads the key `on` as True
        if trigger is None or not any(github_paths_match(trigger.get("paths", ["**"]), f) for f in changed):
            continue
        outputs = {}
        if "folders" in spec["jobs"]:
            (step,) = [s for s in spec["jobs"]["folders"]["steps"] if s.get("id") == "folders"]
            output = tmp_path / f"{path.stem}-{tree.name}-output"
            env = {**os.environ, "GITHUB_OUTPUT": str(output)}
            subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tree, env=env, check=True, capture_output=True)
            outputs = dict(line.split("=", 1) for line in output.read_text().split())
        skipped = set()
        for name, job in spec["jobs"].items():  # jobs are listed after the jobs they need
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            gate = re.search(r"needs\.folders\.outputs\.(\w+) == 'true'", str(job.get("if", "")))
            if set(needs) & skipped or (gate and outputs.get(gate.group(1)) != "true"):
                skipped.add(name)
                continue
            for env_name in sorted({m for step in job.get("steps", []) for m in TERRAFORM_ENV.findall(str(step.get("run", "")))}):
                jobs.append((f"{path.name}:{name}", env_name))
    return jobs


def gitlab_terraform_jobs(project: Path, event: str, changed: set[str], tree: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """(job, environment) of every Terraform job of the GitLab pipeline of a merge request
    (``pull_request``) or of a push to the default branch (``push``): the first rule whose ``if``
    names that pipeline source and whose ``changes`` and ``exists`` match decides."""
    import yaml

    spec = yaml.safe_load((project / ".gitlab/ci/terraform.gitlab-ci.yml").read_text())
    source = {"pull_request": "merge_request_event", "push": '"push"'}[event]
    files = {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()}
    jobs = []
    for name, job in spec.items():
        envs = sorted({m for line in job.get("script", []) for m in TERRAFORM_ENV.findall(line)})
        for rule in job.get("rules", []):
            if source not in rule.get("if", ""):
                continue
            changes = rule.get("changes", ["**/*"])
            exists = rule.get("exists")
            if any(glob_regex(c).match(f) for c in changes for f in changed) and (
                exists is None or any(glob_regex(e).match(f) for e in exists for f in files)
            ):
                if rule.get("when") != "never":
                    jobs += [(name, env) for env in envs]
            break
    return jobs


AZURE_OUTPUT = re.compile(r"^##vso\[task\.setvariable variable=(\w+);isOutput=true\](\S*)$", re.MULTILINE)
AZURE_FOLDER_GATE = re.compile(r"dependencies\.Folders\.outputs\['(?:Folders\.)?folders\.(\w+)'\],\s*'true'\)")


def azure_triggers(project: Path) -> tuple[list[str], list[str], list[str]]:
    """Terraform CI's build-validation file patterns, and Terraform CICD's push trigger paths and
    ignored paths, as .mlops-setup-scripts/cicd/azure-devops.tf sets them (the YAML has none)."""
    tf = (project / ".mlops-setup-scripts/cicd/azure-devops.tf").read_text()
    (ci,) = re.findall(r"terraform_ci = \{.*?pull_request_files\s*=\s*(\[.*?\])", tf, re.DOTALL)
    (push,) = re.findall(r"deployment_push_trigger = \{(.*?)\n  \}", tf, re.DOTALL)
    (paths,) = re.findall(r"^\s*paths\s*=\s*(\[.*?\])", push, re.MULTILINE)
    (ignored,) = re.findall(r"^\s*ignored_paths\s*=\s*(\[.*?\])", push, re.MULTILINE)
    return [re.findall(r'"([^"]+)"', text) for text in (ci, paths, ignored)]


def azure_policy_match(patterns: list[str], path: str) -> bool:
    """A build-validation policy's file filter for one file: patterns start with ``/``, ``*``
    spans folders, the last matching pattern decides (``!`` excludes)."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if fnmatch.fnmatchcase("/" + path, pattern.lstrip("!")):
            included = not negated
    return included


def azure_under(prefixes: list[str], path: str) -> bool:
    """A CI trigger's path filter for one file: the file is at or below one of the folders."""
    return any(("/" + path + "/").startswith(prefix.rstrip("/") + "/") for prefix in prefixes)


def azure_terraform_jobs(project: Path, event: str, changed: set[str], tree: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """(pipeline job or stage, environment) of every Terraform job of Azure DevOps that a pull
    request (Terraform CI, by build validation) or a push to the default branch (Terraform CICD,
    by its pipeline trigger) with ``changed`` paths starts on the commit ``tree``: the bootstrap's
    filters, then the Folders job's step run for real on that tree, whose output variables gate
    the jobs (CI) or stages (CICD) through their ``condition``; a unit whose dependency was
    skipped is skipped too (``succeeded()``)."""
    import yaml

    ci_files, push_paths, push_ignored = azure_triggers(project)
    if event == "pull_request":
        name = "terraform-ci.yml"
        starts = any(azure_policy_match(ci_files, f) for f in changed)
    else:
        name = "terraform-cicd.yml"
        starts = any(azure_under(push_paths, f) and not azure_under(push_ignored, f) for f in changed)
    if not starts:
        return []
    spec = yaml.safe_load((project / ".azure/devops-pipelines" / name).read_text())
    units = spec.get("stages") or [{"stage": "", "jobs": spec["jobs"]}]
    all_jobs = [job for stage in units for job in stage["jobs"]]
    outputs = {}
    for job in all_jobs:
        for step in job.get("steps", []):
            if step.get("name") == "folders":
                result = subprocess.run(["bash", "-e", "-c", step["script"]], cwd=tree, capture_output=True, text=True, check=True)
                outputs = dict(AZURE_OUTPUT.findall(result.stdout))
    gated = units if "stages" in spec else all_jobs
    skipped: set[str] = set()
    jobs = []
    for unit in gated:  # listed after the units they depend on
        unit_name = unit.get("stage") or unit.get("job") or unit.get("deployment")
        depends = unit.get("dependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        gate = AZURE_FOLDER_GATE.findall(str(unit.get("condition", "")))
        if set(depends) & skipped or any(outputs.get(env) != "true" for env in gate):
            skipped.add(unit_name)
            continue
        for env in sorted(set(TERRAFORM_ENV.findall(yaml.safe_dump(unit)))):
            jobs.append((f"{name}:{unit_name}", env))
    return jobs


TERRAFORM_JOBS = {"GitHub Actions": github_terraform_jobs, "GitLab": gitlab_terraform_jobs, "Azure DevOps": azure_terraform_jobs}


def terraform_trigger_problems(project: Path, variant: Variant, tmp_path: Path) -> list[str]:
    """For each request of the guides: the Terraform jobs its changed paths start, on the request
    (plan) and on its merge into the default branch (deployment), each of which must find its
    environment's folder and what the Terraform reads in that commit (issue 22 trial: the first
    request added databricks-config/unity-catalog.json and its staging plan failed)."""
    answers = variant.answers()
    deployed = {answers.get("default_branch", "main"), answers.get("release_branch", "release")}
    requests = replay(project, tmp_path, deployed)
    jobs_of = TERRAFORM_JOBS[variant.cicd_platform]
    problems, started = [], set()
    for request in requests:
        for event, commit, changed in (("pull_request", request.head, request.changed), ("push", request.merge, request.merged_changed)):
            tree = tmp_path / "trees" / commit
            files = {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()}
            for job, env in jobs_of(project, event, changed, tree, tmp_path):
                started.add((event, env))
                if missing := sorted(({f"databricks-config/{env}/main.tf"} | terraform_reads(project)) - files):
                    problems.append(f"{request.branch} ({event}): {job} runs Terraform in {env} without {missing[:4]}")
    if not {("pull_request", "staging"), ("push", "staging"), ("push", "prod")} <= started:
        problems.append(f"the guides' requests never start a staging plan, a staging apply and a prod plan: {sorted(started)}")
    return problems


TRIGGER_VARIANTS = [v for v in FIRST_DEPLOY_VARIANTS if v.cicd_platform in TERRAFORM_JOBS]


@pytest.mark.parametrize("variant", TRIGGER_VARIANTS, ids=lambda v: v.id)
def test_each_request_of_the_guides_starts_only_terraform_jobs_whose_inputs_exist(
    variant: Variant, generated_project: Path, tmp_path: Path
) -> None:
    """On Azure DevOps the triggers are the bootstrap's build-validation policy and pipeline
    trigger (.mlops-setup-scripts/cicd/azure-devops.tf), the gates the pipelines' Folders job."""
    assert terraform_trigger_problems(generated_project, variant, tmp_path) == []


def test_the_replay_catches_a_resource_request_without_the_ml_code(tmp_path: Path) -> None:
    """The order of the first GitHub + Unity Catalog guide: the CI/CD files alone, then the
    resources before the ML code."""
    project = tmp_path / "project"
    for path, text in {
        "README.md": "",
        "notebooks/Train.py": "",
        "requirements.txt": "",
        ".github/workflows/run-tests.yml": "",
        "databricks-config/staging/main.tf": "",
        "databricks-config/modules/ml-resources/training-job.tf": (
            'locals {\n  r = file("${path.module}/../../../requirements.txt")\n}\n'
            'resource "x" "y" {\n  notebook_path = "notebooks/Train"\n  c = fileexists("x")\n}\n'
        ),
        "docs/mlops-setup.md": (
            "```bash\ngit init --initial-branch=main\ngit remote add upstream <url>\ngit add README.md docs\n"
            "git commit -m one\ngit push upstream main\ngit checkout -b add-cicd\ngit add .github\ngit commit -m ci\n"
            "git push upstream add-cicd\n```\n\n[Deploy](../databricks-config/README.md#deploy-the-ml-resources)\n"
        ),
        "databricks-config/README.md": (
            "## Deploy the ML resources\n\n```bash\ngit checkout -b add-config\ngit add databricks-config\n"
            "git commit -m config\ngit push upstream add-config\n```\n"
        ),
    }.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    assert terraform_reads(project) == {"requirements.txt", "notebooks/Train.py"}
    problems = first_deploy_problems(project, Variant("aws", "GitHub Actions", "no"), tmp_path / "replay")
    assert any(p.startswith("add-cicd: its ML code tests run without ['notebooks/Train.py'") for p in problems), problems
    assert any(p.startswith("add-config: its terraform plan reads ['notebooks/Train.py', 'requirements.txt']") for p in problems), problems


# --- one workspace for staging and prod (the template README's FAQ) ---------------------------------

CO_MANAGERS = re.compile(r"folder_co_managers\s*=\s*local\.single_workspace\s*\?\s*\[([^\]]*)\]\s*:\s*\[\]")


def experiment_folder_managers(project: Path) -> dict[str, set[str]]:
    """Module call -> the principals (module calls) its authoritative permissions on the shared
    experiment folder grant CAN_MANAGE, read from the CI/CD bootstrap's Terraform."""
    cicd = project / ".mlops-setup-scripts/cicd"
    module = (cicd / "service-principal/main.tf").read_text()
    (permissions,) = re.findall(r'resource "databricks_permissions" "experiment_parent" \{.*?\n\}', module, re.DOTALL)
    grants_co_managers = "var.folder_co_managers" in permissions
    root = (cicd / "workspaces.tf").read_text()
    single = re.search(r"single_workspace\s*=\s*(.*)", root)
    pairs = re.findall(r'lower\("([^"]+)"\)\s*==\s*lower\("([^"]+)"\)', single.group(1)) if single else []
    same = bool(pairs) and all(a.lower() == b.lower() for a, b in pairs)
    managers = {}
    for name, body in re.findall(r'module "(\w+_service_principal)" \{(.*?)\n\}', root, re.DOTALL):
        listed = CO_MANAGERS.search(body)
        others = re.findall(r"module\.(\w+)\.application_id", listed.group(1)) if listed and grants_co_managers and same else []
        managers[name] = {name, *others}
    return managers


@pytest.mark.parametrize("hosts", ["two", "one"])
def test_both_principals_keep_can_manage_on_the_experiment_folder(hosts: str, tmp_path: Path) -> None:
    """The folder's permissions are authoritative: in one workspace both modules set them on the
    same folder, so each must grant both principals, or the last apply removes the other's
    CAN_MANAGE (issue 22 trial, m11). With two workspaces each grants its own principal only."""
    from tests.support.generation import TEST_HOSTS, generate_variant

    variant = SUPPORTED_VARIANTS[0]
    staging, prod = TEST_HOSTS[variant.cloud]
    project = generate_variant(tmp_path, variant, databricks_prod_workspace_host=staging if hosts == "one" else prod)
    managers = experiment_folder_managers(project)
    assert set(managers) == {f"{env}_service_principal" for env in DEPLOY}
    if hosts == "one":
        assert all(granted == set(managers) for granted in managers.values()), managers
    else:
        assert managers == {name: {name} for name in managers}


# --- what the guides and the deployment promise after the first deploy ----------------------------

PER_PLATFORM = list({v.cicd_platform: v for v in SUPPORTED_VARIANTS}.values())
GITHUB_ONLY = [v for v in PER_PLATFORM if v.github]


@pytest.mark.parametrize("variant", PER_PLATFORM, ids=lambda v: v.id)
def test_resource_guide_diagram_shows_the_saved_prod_plan(variant: Variant, generated_project: Path) -> None:
    """CI plans staging only; prod applies a saved plan after an approval (issue 22 trial, m12)."""
    (diagram,) = fenced_blocks((generated_project / RESOURCE_GUIDE).read_text(), "mermaid")
    assert "staging and prod" not in diagram and "CI: terraform plan for staging]" in diagram
    assert re.search(r"plan prod into a plan file\].*approv.*apply exactly that plan file", diagram, re.DOTALL | re.IGNORECASE)


@pytest.mark.parametrize("variant", [v for v in PER_PLATFORM if v.cicd_platform != "GitLab"], ids=lambda v: v.id)
def test_setup_guide_says_to_merge_the_output_pull_requests(variant: Variant, generated_project: Path) -> None:
    """Protected branches get the outputs through pull requests; the guide names each one where
    the deployment opens it (issue 22 trial, M3)."""
    guide = (generated_project / SETUP_GUIDE).read_text()
    step6 = guide[guide.index("## 6. Deploy the ML resources"):guide.index("## Rotating credentials")]
    for env in ("staging", "prod"):
        for branch in ("main", "release"):
            assert f"`terraform-output/{env}-{branch}`" in step6, (env, branch)
    assert "merge it after review" in step6


def workflow(project: Path, name: str) -> dict:
    import yaml

    return yaml.safe_load((project / ".github/workflows" / name).read_text())


@pytest.mark.parametrize("variant", GITHUB_ONLY, ids=lambda v: v.id)
def test_required_checks_run_on_every_pull_request(variant: Variant, generated_project: Path) -> None:
    """The ruleset's default required checks name jobs of a workflow that runs on every pull
    request, or resource and output pull requests could never merge; the default is not empty,
    so only tested code merges (issue 22 trial, M4)."""
    variables = (generated_project / ".mlops-setup-scripts/cicd/variables.tf").read_text()
    (default,) = re.findall(r'variable "required_status_checks" \{.*?default\s*=\s*(\[.*?\])', variables, re.DOTALL)
    required = re.findall(r'"([^"]+)"', default)
    assert required
    tests = workflow(generated_project, "run-tests-fs.yml" if variant.feature_store else "run-tests.yml")
    triggers = tests[True]  # PyYAML reads the key `on` as True
    assert triggers["pull_request"] in (None, {}) or not {"paths", "paths-ignore", "branches"} & set(triggers["pull_request"])
    names = {job["name"]: job for job in tests["jobs"].values()}
    assert set(required) <= set(names)
    assert "if" not in names["Unit tests"]  # always runs; the integration test may be skipped (counts as passed)


@pytest.mark.parametrize("variant", GITHUB_ONLY, ids=lambda v: v.id)
def test_staging_deployments_never_wait_for_a_prod_approval(variant: Variant, generated_project: Path) -> None:
    """Concurrency per environment: a prod apply waiting for its approval holds only prod's group
    (issue 22 trial, m2)."""
    cd = workflow(generated_project, "terraform-cd.yml")
    assert "concurrency" not in cd
    deploying = {name: job for name, job in cd["jobs"].items() if "environment" in job}
    # Unprotected environments are applied directly, protected ones planned and then applied.
    assert set(deploying) == {f"apply_{env}" for env in DEPLOY} | {f"plan_{env}" for env in PROTECTED}
    groups = {name: job["concurrency"]["group"] for name, job in deploying.items()}
    by_environment = {env: {group for name, group in groups.items() if name.endswith(f"_{env}")} for env in DEPLOY}
    assert all(len(held) == 1 for held in by_environment.values()), by_environment  # plan and apply share one
    assert len(set().union(*by_environment.values())) == len(DEPLOY), by_environment  # no two environments share one
    assert all(job["concurrency"]["cancel-in-progress"] is False for job in deploying.values())


@pytest.mark.parametrize(("changed", "ml_code"), [
    ("databricks-config/modules/ml-resources/training-job.tf", "false"),
    ("databricks-config/output/staging.json", "false"),
    ("databricks-config/unity-catalog.json", "true"),
    ("model_spec/estimator.py", "true"),
])
@pytest.mark.parametrize("variant", GITHUB_ONLY, ids=lambda v: v.id)
def test_the_integration_test_is_skipped_only_for_terraform_changes(
    variant: Variant, generated_project: Path, tmp_path: Path, changed: str, ml_code: str
) -> None:
    """Runs the `changes` job's step on a pull request's merge commit (base as first parent), as
    actions/checkout leaves it: only a change confined to the Terraform or outputs of
    databricks-config/ skips the integration test (a skipped job passes the required check)."""
    import os

    tests = workflow(generated_project, "run-tests-fs.yml" if variant.feature_store else "run-tests.yml")
    (step,) = [s for s in tests["jobs"]["changes"]["steps"] if s.get("id") == "changes"]
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / changed).parent.mkdir(parents=True, exist_ok=True)
    (repo / changed).write_text("before\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / changed).write_text("after\n")
    git(repo, "commit", "-q", "-am", "change")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    output = tmp_path / "github-output"
    env = {**os.environ, "EVENT_NAME": "pull_request", "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, check=True)
    assert output.read_text() == f"ml_code={ml_code}\n"


@pytest.mark.parametrize("variant", [v for v in PER_PLATFORM if v.cicd_platform == "GitLab"], ids=lambda v: v.id)
def test_gitlab_output_job_commits_the_artifact_without_terraform(variant: Variant, generated_project: Path, tmp_path: Path) -> None:
    """terraform-output-<env> runs the script with --from-artifact where no terraform exists: it
    commits the file the apply job passed on, to both deployed branches (issue 22 trial, M1)."""
    import os

    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    project = shutil.copytree(generated_project, tmp_path / "project")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Generated project")
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "-q", "origin", "main", "main:release")
    (project / "databricks-config/output").mkdir(exist_ok=True)
    (project / "databricks-config/output/prod.json").write_text('{"experiment_name": {"value": "/x"}}\n')
    env = {**os.environ, "PATH": "/usr/bin:/bin", "GIT_AUTHOR_NAME": "t", "GIT_COMMITTER_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    script = project / ".gitlab/ci/scripts/commit-terraform-output.sh"
    result = subprocess.run(["bash", str(script), "prod", "--from-artifact"], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for branch in ("main", "release"):
        assert "databricks-config/output/prod.json" in git(remote, "ls-tree", "-r", "--name-only", branch), branch
    (project / "databricks-config/output/staging.json").unlink(missing_ok=True)
    missing = subprocess.run(["bash", str(script), "staging", "--from-artifact"], cwd=project, env=env, capture_output=True, text=True)
    assert missing.returncode == 1 and "is missing or empty" in missing.stderr

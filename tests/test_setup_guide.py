"""The ops engineer's path, walked statically: every command the setup guides show names what
the generated project has.

For each variant the shell blocks and code spans of the guides an ops engineer follows
(docs/mlops-setup.md, the bootstrap's README, the ML resource config guide) are read command by
command, without running anything:

- scripts run with ``python``, paths given to ``git add`` and every other project path exist;
- a ``TF_VAR_<name>`` exported before a bootstrap, and a ``--var <name>=`` given to it, name a
  variable of the Terraform folder that bootstrap applies (Terraform ignores unknown ``TF_VAR_``
  variables silently), and every variable of that folder without a default is set that way or
  asked for by its ``bootstrap.py``;
- ``-replace=`` and ``-target=`` addresses name a module call and a resource that exist, and
  ``--options`` given to a ``bootstrap.py`` are options it defines (``OPTIONS``);
- the names the guides read from a bootstrap's secrets file are outputs of that folder;
- the Databricks CLI profiles the guide signs in with are the CI/CD bootstrap's defaults, and
  the variable names it mentions in prose are variables of a bootstrap folder.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional


from tests.support.markdown_links import fenced_blocks, lines_outside_fences
from tests.support.terraform_refs import Module, load_module, local_module_folder, unquote
from tests.support.variants import Variant

# Guide -> whether the setting names in its prose (`name`, `name = value`) are bootstrap variables
# (the ML resource config guide's are job parameters).
GUIDES = {"docs/mlops-setup.md": True, ".mlops-setup-scripts/README.md": True, "databricks-config/README.md": False}
SETUP_SCRIPTS = ".mlops-setup-scripts"
# Files that a step of the guide creates, so they cannot exist in a freshly generated project.
CREATED_BY_THE_STEPS = {"terraform.tfstate", ".terraform.lock.hcl"}
# Code spans that look like variable names but are the platforms' own terms (GitLab ID token
# claims and access-token scopes).
PLATFORM_TERMS = {"project_path", "read_repository", "write_repository"}
SHELL_OPERATORS = {"&&", "||", ";", "|"}
CODE_SPAN = re.compile(r"`([^`]+)`")
SNAKE_CASE_SETTING = re.compile(r"([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:\s*=.*)?")
UPPER_CASE_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
SECRETS_FILE = re.compile(r"~/(\.[\w.-]+\.json)")
TF_VAR = re.compile(r"\bTF_VAR_(\w+)")


@dataclass
class Bootstrap:
    """One bootstrap folder: its Terraform, the secrets file it writes and the tokens it asks for."""

    folder: str  # relative to the project, e.g. ".mlops-setup-scripts/cicd"
    module: Module
    secrets_file: Optional[str]
    asks_for: set[str]
    defaults: dict[str, object] = field(default_factory=dict)
    options: set[str] = field(default_factory=set)  # the script's own --options (OPTIONS)


def bootstrap_of(project: Path, folder: str) -> Bootstrap:
    """Read ``folder``'s Terraform and its ``bootstrap.py`` (SECRETS_FILE, TOKEN_PROMPTS) without running them."""
    module = load_module(project / folder)
    secrets_file, asks_for, options = None, set(), set()
    for node in ast.walk(ast.parse((project / folder / "bootstrap.py").read_text())):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "SECRETS_FILE":
                secrets_file = next(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
            elif node.targets[0].id == "TOKEN_PROMPTS" and isinstance(node.value, ast.Dict):
                asks_for = {key.value for key in node.value.keys}
            elif node.targets[0].id == "OPTIONS" and isinstance(node.value, ast.Tuple):
                options = {element.value for element in node.value.elts}
    defaults = {
        name: unquote(str(body["default"]))
        for named in module.blocks.get("variable", [])
        for name, body in ((unquote(k), v) for k, v in named.items())
        if isinstance(body, dict) and "default" in body
    }
    return Bootstrap(folder, module, secrets_file, asks_for, defaults, options)


def bootstraps(project: Path) -> dict[str, Bootstrap]:
    """The project's bootstrap folders by path, those with a ``bootstrap.py``."""
    root = project / SETUP_SCRIPTS
    return {
        f"{SETUP_SCRIPTS}/{path.parent.name}": bootstrap_of(project, f"{SETUP_SCRIPTS}/{path.parent.name}")
        for path in sorted(root.glob("*/bootstrap.py"))
    }


def shell_commands(block: str) -> Iterator[list[str]]:
    """The commands of a shell block as argument lists: continuations joined, comments dropped,
    ``a && b`` split in two."""
    for line in block.replace("\\\n", " ").splitlines():
        command: list[str] = []
        for word in shlex.split(line, comments=True):
            if word in SHELL_OPERATORS:
                yield command
                command = []
            else:
                command.append(word)
        if command:
            yield command


def is_project_path(text: str, project: Path) -> bool:
    """Whether ``text`` is meant as a path inside the project: no placeholder, URL or home folder,
    and its first part is a dot-folder or names something at the project's root."""
    if not text or re.search(r"[<>$~:*\s]|://", text) or text.startswith(("/", "-")):
        return False
    first = text.split("/")[0]
    return "/" in text and (first.startswith(".") or (project / first).exists()) and first not in {".", ".."}


def missing_path(text: str, project: Path) -> Optional[str]:
    """Why ``text`` names nothing in ``project`` (a notebook may be named without its ``.py``), or None."""
    path = text.rstrip("/")
    if Path(path).name in CREATED_BY_THE_STEPS or any((project / name).exists() for name in (path, f"{path}.py")):
        return None
    return f"{text}: no such file or folder in the project"


def sentences(markdown: str) -> Iterator[str]:
    """Units of prose that belong together: table cells, and the sentences of each paragraph."""
    paragraph: list[str] = []
    for _, line in [*lines_outside_fences(markdown), (0, "")]:
        if line.lstrip().startswith("|"):
            yield from line.split("|")
        elif line.strip():
            paragraph.append(line)
            continue
        yield from re.split(r"(?<=[.;])\s+(?=[A-Z`])", " ".join(paragraph))
        paragraph = []


@dataclass
class Walk:
    """What a walk through one project's guides found wrong, in reading order."""

    project: Path
    bootstraps: dict[str, Bootstrap]
    problems: list[str] = field(default_factory=list)
    exported: set[str] = field(default_factory=set)  # TF_VAR_ names exported since the last bootstrap run
    session: set[str] = field(default_factory=set)  # all exported so far: the shell keeps them

    def variable_problems(self, names: set[str], where: str, bootstrap: Optional[Bootstrap]) -> None:
        known = bootstrap.module.variables if bootstrap else {
            name for b in self.bootstraps.values() for name in b.module.variables
        }
        folder = bootstrap.folder if bootstrap else "any bootstrap folder"
        self.problems += [f"{where}: {name} is not a variable of {folder}" for name in sorted(names - set(known))]

    def secrets_problems(self, text: str, where: str) -> None:
        for file_name in SECRETS_FILE.findall(text):
            writers = [b for b in self.bootstraps.values() if b.secrets_file == file_name]
            if not writers:
                self.problems.append(f"{where}: no bootstrap.py writes ~/{file_name}")
                continue
            unknown = {name for name in UPPER_CASE_NAME.findall(text) if name not in writers[0].module.outputs}
            self.problems += [
                f"{where}: {name} is not an output of {writers[0].folder}, which writes ~/{file_name}"
                for name in sorted(unknown)
            ]

    def replace_problems(self, address: str, bootstrap: Bootstrap, where: str, option: str = "-replace") -> None:
        parts = address.split(".")
        module = bootstrap.module
        while parts[:1] == ["module"] and len(parts) > 2:
            call = module.module_calls.get(parts[1])
            folder = local_module_folder(module, call) if call else None
            if folder is None:
                self.problems.append(f"{where}: {option}={address}: no module {parts[1]} in {bootstrap.folder}")
                return
            module, parts = load_module(folder), parts[2:]
        if tuple(parts[:2]) not in module.resources:
            self.problems.append(f"{where}: {option}={address}: no resource {'.'.join(parts[:2])}")

    def run_bootstrap(self, command: list[str], where: str) -> None:
        script = command[1]
        bootstrap = self.bootstraps.get(str(Path(script).parent))
        if bootstrap is None:
            return
        given, words = set(), iter(command[2:])
        for word in words:
            if word in ("--var", "-var"):
                word = "-var=" + next(words, "")
            if word.startswith(("--var=", "-var=")):
                given.add(word.split("=", 2)[1])
            elif word.startswith(("-replace=", "-target=")):
                option, address = word.split("=", 1)
                self.replace_problems(address, bootstrap, where, option)
            elif word.startswith("--") and word not in bootstrap.options:
                self.problems.append(f"{where}: {script} has no option {word}")
        self.variable_problems(given | self.exported, where, bootstrap)
        self.exported.clear()
        if any(word.startswith("[") for word in command):
            return  # a usage synopsis, not a command to run as shown
        unset = {
            name for name, has_default in bootstrap.module.variables.items()
            if not has_default and name not in given | self.session | bootstrap.asks_for
        }
        self.problems += [
            f"{where}: {script} needs {name} (no default), which the guide neither exports as TF_VAR_{name} "
            "nor passes with --var, and bootstrap.py does not ask for"
            for name in sorted(unset)
        ]

    def command(self, command: list[str], where: str) -> None:
        if command[0] == "export":
            names = {name for word in command[1:] for name in TF_VAR.findall(word.split("=")[0])}
            self.exported |= names
            self.session |= names
        elif command[0] == "python" and len(command) > 1:
            if problem := missing_path(command[1], self.project):
                self.problems.append(f"{where}: {problem}")
            else:
                self.run_bootstrap(command, where)
        elif command[:2] == ["git", "add"]:
            for spec in command[2:]:
                path = re.sub(r"^:(!|\(exclude\))", "", spec)
                if path not in {".", "--"} and (problem := missing_path(path, self.project)):
                    self.problems.append(f"{where}: git add {problem}")
        elif command[:3] == ["databricks", "auth", "login"] and "--profile" in command:
            profile = command[command.index("--profile") + 1]
            defaults = {v for b in self.bootstraps.values() for k, v in b.defaults.items() if k.endswith("_profile")}
            if profile not in defaults:
                self.problems.append(f"{where}: profile {profile} is not the default of any *_profile variable")
        for word in command:
            if is_project_path(word, self.project) and command[:2] != ["git", "add"]:
                if problem := missing_path(word, self.project):
                    self.problems.append(f"{where}: {problem}")

    def guide(self, name: str, prose_settings_are_variables: bool) -> None:
        text = (self.project / name).read_text()
        for number, block in enumerate(fenced_blocks(text, "bash"), start=1):
            for line in block.splitlines():
                self.secrets_problems(line, f"{name} shell block {number}")
            for command in shell_commands(block):
                self.command(command, f"{name} shell block {number}: {shlex.join(command)}")
        # What a bootstrap run later in another block does not consume is checked against all folders.
        self.variable_problems(self.exported, f"{name}: exported", None)
        self.exported.clear()
        for sentence in sentences(text):
            where = f"{name}: {sentence.strip()[:80]}"
            self.secrets_problems(sentence, where)
            for span in CODE_SPAN.findall(sentence):
                if is_project_path(span, self.project) and (problem := missing_path(span, self.project)):
                    self.problems.append(f"{where}: {problem}")
                tf_vars = set(TF_VAR.findall(span))
                setting = SNAKE_CASE_SETTING.fullmatch(span)
                if prose_settings_are_variables and setting and setting.group(1) not in PLATFORM_TERMS:
                    tf_vars.add(setting.group(1))
                self.variable_problems(tf_vars, where, None)


def walk_guides(project: Path, guides: dict[str, bool] = GUIDES) -> list[str]:
    """Problems of the commands and names in ``project``'s setup ``guides`` (those it has; see GUIDES)."""
    walk = Walk(project, bootstraps(project))
    for name, prose_settings_are_variables in guides.items():
        if (project / name).exists():
            walk.guide(name, prose_settings_are_variables)
    return walk.problems


# --- the walker itself -----------------------------------------------------------------------------


def small_project(tmp_path: Path, guide: str) -> Path:
    """A project with one bootstrap folder and a guide."""
    folder = tmp_path / SETUP_SCRIPTS / "cicd"
    (folder / "modules" / "sp").mkdir(parents=True)
    (folder / "bootstrap.py").write_text(
        'SECRETS_FILE = Path.home() / ".p-secrets.json"\nTOKEN_PROMPTS = {"git_token": "Token: "}\n'
        'OPTIONS = ("--rotate",)\n'
    )
    (folder / "main.tf").write_text(
        'variable "git_token" {\n  type = string\n}\n\n'
        'variable "repo_url" {\n  type = string\n}\n\n'
        'variable "staging_profile" {\n  type    = string\n  default = "p-staging"\n}\n\n'
        'module "sp" {\n  source = "./modules/sp"\n}\n\n'
        'output "CLIENT_ID" {\n  value = "x"\n}\n'
    )
    (folder / "modules" / "sp" / "main.tf").write_text('resource "databricks_secret" "cicd" {\n  key = "k"\n}\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(guide)
    return tmp_path


GOOD_GUIDE = """# Guide

Writes `~/.p-secrets.json`: `CLIENT_ID`. Set `repo_url` to change it.

```bash
databricks auth login --profile p-staging --host https://x
export TF_VAR_repo_url=https://example.com/repo   # the repository
python .mlops-setup-scripts/cicd/bootstrap.py --rotate \\
  -target=module.sp.databricks_secret.cicd -replace=module.sp.databricks_secret.cicd
git add docs .mlops-setup-scripts
```
"""


def problems_of(tmp_path: Path, guide: str) -> list[str]:
    return walk_guides(small_project(tmp_path, guide), {"docs/guide.md": True})


def test_walker_accepts_a_guide_that_matches_its_project(tmp_path: Path) -> None:
    assert problems_of(tmp_path, GOOD_GUIDE) == []


def test_walker_catches_a_misnamed_script_and_path(tmp_path: Path) -> None:
    guide = GOOD_GUIDE.replace("cicd/bootstrap.py", "cicd/setup.py").replace("git add docs", "git add doc")
    problems = problems_of(tmp_path, guide)
    assert any("cicd/setup.py: no such file" in p for p in problems)
    assert any("git add doc: no such file" in p for p in problems)


def test_walker_catches_an_unknown_and_a_missing_variable(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD_GUIDE.replace("TF_VAR_repo_url", "TF_VAR_repository_url"))
    assert any("repository_url is not a variable of .mlops-setup-scripts/cicd" in p for p in problems)
    assert any("needs repo_url (no default)" in p for p in problems)


def test_walker_catches_an_unknown_output_resource_profile_and_prose_variable(tmp_path: Path) -> None:
    guide = (
        GOOD_GUIDE.replace("`CLIENT_ID`", "`CLIENT_SECRET`")
        .replace("databricks_secret.cicd", "databricks_secret.ci")
        .replace("--rotate", "--rotate-all")
        .replace("--profile p-staging", "--profile p-stage")
        .replace("`repo_url`", "`repository`")
    )
    problems = "\n".join(problems_of(tmp_path, guide))
    assert "CLIENT_SECRET is not an output of .mlops-setup-scripts/cicd" in problems
    assert "-replace=module.sp.databricks_secret.ci: no resource databricks_secret.ci" in problems
    assert "-target=module.sp.databricks_secret.ci: no resource" in problems
    assert "has no option --rotate-all" in problems
    assert "profile p-stage is not the default" in problems
    assert "repository is not a variable" not in problems  # one word: not a setting name
    assert "repo_url" not in problems


def test_walker_reads_continued_and_chained_commands() -> None:
    block = 'read -rs T && export T   # not echoed\npython a.py \\\n  --var x="$X"'
    assert list(shell_commands(block)) == [["read", "-rs", "T"], ["export", "T"], ["python", "a.py", "--var", "x=$X"]]


# --- the generated guides ----------------------------------------------------------------------------


def test_setup_guides_name_what_the_project_has(generated_project: Path) -> None:
    assert walk_guides(generated_project) == []


def test_batch_inference_output_table_needs_create_table(variant: Variant, generated_project: Path) -> None:
    """The job creates its output table, so the privilege the docs name is CREATE TABLE on the schema."""
    readme = " ".join((generated_project / "databricks-config/README.md").read_text().split())
    job = (generated_project / "databricks-config/modules/ml-resources/batch-inference-job.tf").read_text()
    assert "`CREATE TABLE` on the output table's schema" in readme
    assert "MODIFY` on an existing output table" not in readme
    assert "CREATE TABLE on its schema" in job and "MODIFY" not in job

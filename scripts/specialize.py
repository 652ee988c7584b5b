"""Fix answers of this template for good, in the repository it runs in: ``make specialize``.

    python scripts/specialize.py cloud=aws "cicd_platform=GitHub Actions"

For each ``name=value`` (a choice prompt of ``cookiecutter.json`` and one of its choices) it

1. evaluates every Jinja branch and expression of the project template and of ``templates/``
   that the fixed answers decide, and the derived values they fully determine
   (scripts/jinja_specialize.py; the output of every remaining combination stays byte-identical);
2. deletes the template files that only removed choices own (``hooks/pruning.py``'s ``OWNERS``)
   and the partials under ``templates/`` that nothing includes any more, and removes the pruning
   rows that became fixed;
3. turns the prompt into a fixed value that is not asked: it leaves ``cookiecutter.json`` (and
   ``__prompts__``, the README's prompt table and its count) for ``_fixed_answers``
   (hooks/fixed_answers.py), which the hooks, validation and the ``derived`` filter read;
4. deletes the example configs, tests and tool dependencies that only removed choices use
   (``tests/support/choice_owned.py``) and drops the fixed keys from the remaining example configs.

Run it on a clean checkout of your fork and review ``git diff``; it refuses a value that is not a
choice, with the valid ones. The core steps are pure functions (``fold_cookiecutter_json``,
``owned_paths``, ``remove_owner_rows``, ...), unit-tested in tests/test_specialize.py.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repository's packages

from scripts.jinja_specialize import (  # noqa: E402
    Known,
    SpecializeError,
    check_environment_settings,
    specialize_source,
    tracked_derivation,
)

PROJECT_FOLDER = "{{cookiecutter.project_name}}"
PARTIALS_FOLDER = "templates"
FIXED_ANSWERS_KEY = "_fixed_answers"
# Filters whose calls stay in the template (only their arguments are folded): the tests require
# documentation links to go through generate_doc_link rather than literal URLs.
OPAQUE_FILTERS = frozenset({"generate_doc_link"})


def is_url(value: Any) -> bool:
    """URLs stay expressions: tests/test_rendering.py requires hosts to come from the answers."""
    return isinstance(value, str) and "://" in value
README_PROMPT_COUNT = re.compile(r"Cookiecutter asks (\w+) questions")
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen"]


class AnswerError(ValueError):
    """An answer that cannot be fixed; the message names it, its value and a valid example."""


# --- pure core ------------------------------------------------------------------------------------

def parse_answers(words: Sequence[str], cookiecutter_json: Mapping[str, Any]) -> dict[str, str]:
    """``["cloud=aws", "cicd_platform=GitHub Actions"]`` -> ``{"cloud": "aws", ...}``, checked
    against ``cookiecutter.json``: each name must be a choice prompt and each value one of its
    choices. Raises ``AnswerError`` otherwise (nothing has been changed yet)."""
    answers: dict[str, str] = {}
    choices = {k: v for k, v in cookiecutter_json.items() if isinstance(v, list) and not k.startswith("_")}
    example = next(iter(choices.items()), ("cloud", ["aws"]))
    for word in words:
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise AnswerError(f"answer {word!r} is not name=value; for example {example[0]}={example[1][-1]}")
        if name in cookiecutter_json.get(FIXED_ANSWERS_KEY, {}):
            raise AnswerError(f"{name} is fixed already to {cookiecutter_json[FIXED_ANSWERS_KEY][name]!r}")
        if name not in choices:
            raise AnswerError(f"{name}={value!r}: {name} is not a choice prompt of cookiecutter.json; "
                              f"choice prompts: {', '.join(choices)} (for example {example[0]}={example[1][-1]})")
        if value not in choices[name]:
            raise AnswerError(f"{name}={value!r} is not one of its choices {choices[name]}; "
                              f"for example {name}={shlex.quote(choices[name][0])}")
        answers[name] = value
    if not answers:
        raise AnswerError(f"give at least one answer to fix, for example {example[0]}={example[1][-1]}")
    return answers


def possible_values(cookiecutter_json: Mapping[str, Any], fixed: Mapping[str, str]) -> dict[str, list[str]]:
    """What each choice prompt can still be answered: the fixed value, else its choices."""
    values = {k: list(v) for k, v in cookiecutter_json.items() if isinstance(v, list) and not k.startswith("_")}
    values.update({k: [v] for k, v in fixed.items()})
    return values


def possible_derived(derive: Callable[[Mapping[str, Any], str], Any], name: str,
                     domains: Mapping[str, list[str]]) -> Optional[set[str]]:
    """Every value derived value ``name`` can take when each answer ranges over ``domains``; None
    when it reads an answer outside them (any value is then possible). ``include_*`` text prompts
    (``include_mlflow_recipes``) range over yes/no."""
    domains = dict(domains)
    found: set[str] = set()
    for _ in range(8):  # each round adds the yes/no prompt the derivation asked for
        missing: Optional[str] = None
        found.clear()
        for combination in itertools.product(*domains.values()):
            answers = dict(zip(domains, combination))
            evaluate = tracked_derivation(derive, answers)
            determined, value = evaluate(name)
            if not determined:
                missing = _missing_key(derive, answers, name)
                break
            found.add(value)
        if missing is None:
            return found
        if not missing.startswith("include_"):
            return None
        domains[missing] = ["yes", "no"]
    return None


def _missing_key(derive: Callable[[Mapping[str, Any], str], Any], answers: Mapping[str, Any], name: str) -> str:
    class Recorder(dict):
        def __missing__(self, key: str) -> Any:
            raise LookupError(key)

        def get(self, key: str, default: Any = None) -> Any:
            if key not in self:
                raise LookupError(key)
            return self[key]

    try:
        derive(Recorder(answers), name)
    except LookupError as error:
        return str(error.args[0])
    return ""


@dataclass
class Ownership:
    """Which (parameter, choice) rows of an owners table go, and which of their paths."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


def owned_paths(owners: Mapping[tuple[str, str], Iterable[str]], possible: Mapping[str, Optional[set[str]]]
                ) -> Ownership:
    """The rows of ``owners`` (hooks/pruning.py's ``OWNERS`` shape) that specialisation removes,
    and the paths no remaining combination keeps.

    ``possible`` maps each parameter to the values it can still take (None: unknown, any). A row
    goes when its choice is no longer possible, or when its parameter has one possible value (it
    then always holds). A path goes when some parameter that owns it can take none of its owners.
    """
    result = Ownership()
    by_path: dict[str, dict[str, set[str]]] = {}
    for (parameter, choice), paths in owners.items():
        values = possible.get(parameter)
        if values is not None and (choice not in values or len(values) == 1):
            result.rows.append((parameter, choice))
        for path in paths:
            by_path.setdefault(path, {}).setdefault(parameter, set()).add(choice)
    for path, owned in by_path.items():
        if any(possible.get(p) is not None and not (possible[p] & choices) for p, choices in owned.items()):
            result.paths.append(path)
    return result


def remove_owner_rows(source: str, table: str, rows: Iterable[tuple[str, str]]) -> str:
    """Python ``source`` without the entries ``rows`` of the dict literal assigned to ``table``
    (keys are ``(parameter, choice)`` tuples), each entry's comment lines above it included, and
    without module-level constants that nothing reads any more."""
    rows = set(rows)
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for statement in tree.body:
        target = statement.target if isinstance(statement, ast.AnnAssign) else (
            statement.targets[0] if isinstance(statement, ast.Assign) else None)
        if not (isinstance(target, ast.Name) and target.id == table and isinstance(statement.value, ast.Dict)):
            continue
        for key, value in zip(statement.value.keys, statement.value.values):
            if isinstance(key, ast.Tuple) and tuple(ast.literal_eval(key)) in rows:
                first = key.lineno - 1
                while first > 0 and lines[first - 1].strip().startswith("#"):
                    first -= 1
                drop.update(range(first, value.end_lineno))
    source = "".join(line for n, line in enumerate(lines) if n not in drop)
    return _drop_unread_constants(source)


def remove_owned_entries(source: str, table: str, gone: Iterable[str]) -> str:
    """Python ``source`` without the path strings ``gone`` (deleted with a folder another row owned)
    in the rows of the dict ``table`` or in the module's constants, and without rows left empty."""
    gone = set(gone)
    lines = source.splitlines(keepends=True)
    kept = [line for line in lines if not (re.fullmatch(r'\s*"([^"]+)",\s*', line)
                                           and re.fullmatch(r'\s*"([^"]+)",\s*', line).group(1) in gone)]
    source = "".join(kept)
    tree = ast.parse(source)
    empty = [tuple(ast.literal_eval(key))
             for statement in tree.body if isinstance(statement, (ast.Assign, ast.AnnAssign))
             for target in [statement.target if isinstance(statement, ast.AnnAssign) else statement.targets[0]]
             if isinstance(target, ast.Name) and target.id == table and isinstance(statement.value, ast.Dict)
             for key, value in zip(statement.value.keys, statement.value.values)
             if isinstance(value, ast.Tuple) and not value.elts]
    return remove_owner_rows(source, table, empty) if empty else source


def _drop_unread_constants(source: str, functions: bool = False) -> str:
    """Remove private module-level constants (``_NAME = ...``), with ``functions`` also private
    functions (``def _name``), that no other statement reads."""
    while True:
        tree = ast.parse(source)
        read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        lines = source.splitlines(keepends=True)
        for statement in tree.body:
            unread_constant = isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id.startswith("_") \
                and statement.targets[0].id.isupper() and statement.targets[0].id not in read
            unread_function = functions and isinstance(statement, ast.FunctionDef) \
                and statement.name.startswith("_") and statement.name not in read
            if unread_constant or unread_function:
                first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))]) - 1
                while first > 0 and lines[first - 1].strip().startswith("#"):
                    first -= 1
                source = "".join(lines[:first] + lines[statement.end_lineno:])
                break
        else:
            return source


def remove_test_functions(source: str, names: Iterable[str]) -> str:
    """Python ``source`` (a test module) without the module-level functions ``names`` (decorators
    and the comment lines just above included), and without the private helpers and constants
    (``_name``) that nothing reads any more."""
    names = set(names)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for statement in ast.parse(source).body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name in names:
            first = min([statement.lineno, *(d.lineno for d in statement.decorator_list)]) - 1
            while first > 0 and lines[first - 1].strip().startswith("#"):
                first -= 1
            drop.update(range(first, statement.end_lineno))
    source = "".join(line for n, line in enumerate(lines) if n not in drop)
    return re.sub(r"\n{4,}", "\n\n\n", _drop_unread_constants(source, functions=True))


def fold_cookiecutter_json(data: Mapping[str, Any], fixed: Mapping[str, str], known: Known) -> dict[str, Any]:
    """``cookiecutter.json`` with the ``fixed`` prompts moved to ``_fixed_answers`` (with their
    ``__prompts__`` text gone) and every default that reads them folded (URLs included: hosts
    belong in cookiecutter.json). Raises ``SpecializeError`` when a default still reads one."""
    from dataclasses import replace

    known = replace(known, keep_value=lambda value: False)
    table = {**data.get(FIXED_ANSWERS_KEY, {}), **fixed}
    # First: cookiecutter builds the context in this order, and a default rendered before the
    # table is in it could not read the fixed answers through the derived filter.
    result: dict[str, Any] = {FIXED_ANSWERS_KEY: table}
    for key, value in data.items():
        if key in fixed or key == FIXED_ANSWERS_KEY:
            continue
        if key == "__prompts__":
            value = {k: v for k, v in value.items() if k not in table}
        elif isinstance(value, str) and key not in ("_extensions", "_copy_without_render"):
            value = specialize_source(value, known)
        result[key] = value
    for key, value in result.items():
        if isinstance(value, str) and any(re.search(_LEFTOVER.format(name=name), value) for name in table):
            raise SpecializeError(f"cookiecutter.json {key}: the default still reads a fixed answer: {value}")
    return result


def remove_readme_prompts(readme: str, names: Iterable[str], remaining: int,
                          fixed: Optional[Mapping[str, str]] = None) -> str:
    """The template README without the prompts ``names``: their prompt-table rows, their keys in the
    config-file examples (YAML blocks with ``default_context``), their entries in parenthesised
    lists of prompts (``(`cloud`, `cicd_platform`, ...)``, the list dropped when none is left), and
    with its question count set to ``remaining``. A config example whose ``cloud`` differs from
    ``fixed["cloud"]`` also loses its workspace hosts (another cloud's hosts are refused)."""
    names = set(names)
    lines = [line for line in readme.splitlines(keepends=True)
             if not (m := re.match(r"\| `(\w+)` \|", line)) or m.group(1) not in names]
    text = "".join(lines)
    text = re.sub(r"(```yaml\n)(.*?)(```)",
                  lambda m: m.group(1) + (_example_without(m.group(2), names, fixed or {})
                                          if "default_context:" in m.group(2) else m.group(2)) + m.group(3),
                  text, flags=re.DOTALL)
    text = re.sub(r" ?\((`\w+`(?:,\s+`\w+`)+)\)", lambda m: _without_names(m.group(0), m.group(1), names), text)
    return README_PROMPT_COUNT.sub(f"Cookiecutter asks {NUMBER_WORDS[remaining]} questions", text)


def _example_without(example: str, names: set[str], fixed: Mapping[str, str]) -> str:
    """A README config example without the keys ``names`` (and another cloud's workspace hosts)."""
    cloud = re.search(r"^\s+cloud:\s*(\S+)", example, re.MULTILINE)
    if cloud and "cloud" in fixed and cloud.group(1) != fixed["cloud"]:
        names = names | set(re.findall(r"^\s+(\w+_workspace_host):", example, re.MULTILINE))
    return drop_config_keys(example, names)


def _without_names(whole: str, listed: str, names: set[str]) -> str:
    """A parenthesised list of backticked names without ``names`` (kept as is unless it named one)."""
    items = re.findall(r"`(\w+)`", listed)
    if not names & set(items):
        return whole
    kept = [f"`{item}`" for item in items if item not in names]
    return f" ({', '.join(kept)})" if kept else ""


_FORK_BLOCK = re.compile(r"<!-- specialize (\w+)\n(.*?)-->\n(.*?)<!-- /specialize -->\n", re.DOTALL)
# The same inside a Mermaid diagram, where an HTML comment is a syntax error: ``%%`` comment lines.
_MERMAID_FORK_BLOCK = re.compile(r"^([ \t]*)%% specialize (\w+)\n((?:\1%% [^\n]*\n)*?)\1%% -->\n(.*?)\1%% /specialize\n",
                                 re.DOTALL | re.MULTILINE)
# The guides of this repository that a fork keeps (fork blocks resolved, deleted configs replaced).
GUIDES = ("README.md", "CONTRIBUTING.md", "stack-customization.md", "Pipeline.md")


def resolve_fork_blocks(text: str, fixed: Mapping[str, str], choices: Mapping[str, Sequence[str]]) -> str:
    """Markdown ``text`` with the fork blocks of the prompts in ``fixed`` replaced by the fixed
    choice's text. A fork block is what the unspecialised guide says about every choice, preceded
    by an HTML comment (not rendered) holding one alternative per choice, each starting with
    ``<choice>: `` (continued on the following lines)::

        <!-- specialize cicd_platform
        GitHub Actions: CI/CD is in `.github/`.
        GitLab: CI/CD is in `.gitlab-ci.yml` and `.gitlab/`.
        -->
        CI/CD is in `.github/` or `.gitlab-ci.yml` and `.gitlab/`.
        <!-- /specialize -->

    Inside a Mermaid diagram (where an HTML comment does not parse) the same block is written with
    Mermaid's ``%%`` comment lines, all indented like the diagram lines they replace::

            %% specialize cicd_platform
            %% GitHub Actions: participant CI as CI (GitHub Actions)
            %% GitLab: participant CI as CI (GitLab)
            %% -->
            participant CI as CI (GitHub Actions or GitLab)
            %% /specialize

    Blocks of prompts that are not fixed stay as they are. Raises ``SpecializeError`` for a block
    of an unknown prompt or without the fixed choice's alternative (the guide would lie)."""
    def chosen(name: str, alternatives: str) -> Optional[str]:
        if name not in choices and name not in fixed:
            raise SpecializeError(f"fork block of {name!r}, which is not a choice prompt")
        if name not in fixed:
            return None
        found: dict[str, list[str]] = {}
        current: Optional[list[str]] = None
        for line in alternatives.splitlines(keepends=True):
            starts = next((c for c in choices.get(name, [fixed[name]]) if line.startswith(f"{c}: ")), None)
            if starts is not None:
                current = found.setdefault(starts, [line[len(starts) + 2:]])
            elif current is not None:
                current.append(line)
        if fixed[name] not in found:
            raise SpecializeError(f"fork block of {name} has no text for {name}={fixed[name]!r}: {alternatives[:80]!r}")
        return "".join(found[fixed[name]])

    def resolve(match: re.Match[str]) -> str:
        text = chosen(match.group(1), match.group(2))
        return match.group(0) if text is None else text

    def resolve_mermaid(match: re.Match[str]) -> str:
        indent = match.group(1)
        alternatives = "".join(line[len(indent) + 3:] for line in match.group(3).splitlines(keepends=True))
        text = chosen(match.group(2), alternatives)
        return match.group(0) if text is None else "".join(indent + line for line in text.splitlines(keepends=True))

    return _MERMAID_FORK_BLOCK.sub(resolve_mermaid, _FORK_BLOCK.sub(resolve, text))


def replace_deleted_paths(text: str, deleted: Iterable[str], remaining: Sequence[str]) -> str:
    """``text`` with every mention of a ``deleted`` repository path (an example config of a removed
    choice) replaced by one of ``remaining``: the first in the same folder, else the first."""
    for path in deleted:
        folder = path.rsplit("/", 1)[0]
        replacement = next((r for r in remaining if r.rsplit("/", 1)[0] == folder), remaining[0] if remaining else None)
        if replacement is not None:
            text = text.replace(path, replacement)
    return text


def drop_config_keys(config: str, names: Iterable[str]) -> str:
    """An example config (YAML ``default_context``) without the lines of the keys ``names``."""
    names = set(names)
    return "".join(line for line in config.splitlines(keepends=True)
                   if not (m := re.match(r"\s+([A-Za-z_]\w*):", line)) or m.group(1) not in names)


def remove_npm_packages(package_json: dict, lock: dict, packages: Iterable[str]) -> tuple[dict, dict]:
    """``package.json`` and ``package-lock.json`` (lockfile v3) without ``packages`` and the lock
    entries that only they needed (npm ci then installs exactly the rest)."""
    packages = set(packages)
    package_json = {**package_json, "dependencies": {k: v for k, v in package_json["dependencies"].items()
                                                     if k not in packages}}
    entries = dict(lock["packages"])
    root = dict(entries[""])
    root["dependencies"] = {k: v for k, v in root.get("dependencies", {}).items() if k not in packages}
    entries[""] = root
    # Keep what the remaining dependencies reach.
    reachable, queue = {""}, [""]
    while queue:
        entry = queue.pop()
        base = entry
        deps = {**entries[entry].get("dependencies", {}), **entries[entry].get("peerDependencies", {}),
                **entries[entry].get("optionalDependencies", {})}
        for dep in deps:
            # npm's resolution: the nearest node_modules up the tree.
            candidates = []
            folder = base
            while True:
                candidates.append(f"{folder}/node_modules/{dep}" if folder else f"node_modules/{dep}")
                if not folder:
                    break
                folder = folder.rsplit("/node_modules/", 1)[0] if "/node_modules/" in folder else ""
            found = next((c for c in candidates if c in entries), None)
            if found and found not in reachable:
                reachable.add(found)
                queue.append(found)
    lock = {**lock, "packages": {k: v for k, v in entries.items() if k in reachable}}
    return package_json, lock


# --- applying it to a repository --------------------------------------------------------------------

def _import_from(repo: Path, module: str) -> Any:
    import importlib

    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    for name in [m for m in sys.modules if m == "hooks" or m.startswith("hooks.") or m == "local_extensions"]:
        del sys.modules[name]
    return importlib.import_module(module)


def known_for(repo: Path, cookiecutter_json: Mapping[str, Any], fixed: Mapping[str, str]) -> Known:
    """What may be assumed in ``repo``'s templates: ``fixed`` answers, the derived values they
    determine (the repo's hooks/derived.py) and cookiecutter's environment with the template's
    extensions (so that constant filters fold exactly as cookiecutter would render them)."""
    from cookiecutter.environment import StrictEnvironment

    check_environment_settings(cookiecutter_json.get("_jinja2_env_vars", {}))
    derived = _import_from(repo, "hooks.derived")
    _import_from(repo, "local_extensions")
    environment = StrictEnvironment(context={"cookiecutter": dict(cookiecutter_json)}, keep_trailing_newline=True,
                                    **cookiecutter_json.get("_jinja2_env_vars", {}))
    return Known(fixed, tracked_derivation(derived.derived_value, fixed), environment, opaque_filters=OPAQUE_FILTERS,
                 keep_value=is_url)


def _template_files(repo: Path, copy_without_render: Sequence[str]) -> list[Path]:
    files = []
    for folder in (repo / PROJECT_FOLDER, repo / PARTIALS_FOLDER):
        for path in sorted(folder.rglob("*")):
            relative = str(path.relative_to(folder))
            if path.is_file() and not path.is_symlink() and not any(
                    fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
                    for pattern in copy_without_render):
                files.append(path)
    return files


_PARTIAL_REFERENCE = re.compile(r"\{%-?\s*(?:include|import|from)\s+[\"']([^\"']+)[\"']")
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def referenced_partials(text: str) -> set[str]:
    """The partials (paths under templates/) that the Jinja template ``text`` includes or imports;
    usage examples inside Jinja comments (``{# Import with: {% import "x.jinja" ... %} #}``) do
    not count, or a partial that names itself would never be found unused."""
    return set(_PARTIAL_REFERENCE.findall(_JINJA_COMMENT.sub("", text)))


def _unreferenced_partials(repo: Path) -> list[Path]:
    """Partials under templates/ that no template includes or imports any more (to a fixpoint)."""
    gone: list[Path] = []
    while True:
        texts = [p.read_text(errors="replace") for p in _template_files(repo, []) if p not in gone]
        referenced = {m for text in texts for m in referenced_partials(text)}
        partials = [p for p in (repo / PARTIALS_FOLDER).rglob("*") if p.is_file() and p not in gone]
        new = [p for p in partials if str(p.relative_to(repo / PARTIALS_FOLDER)) not in referenced]
        if not new:
            return gone
        gone.extend(new)


def empty_parameter_set_tests(repo: Path) -> dict[str, set[str]]:
    """Test module -> the test functions that pytest, collecting ``repo``'s tests, parametrises
    over no value (tests/support/choice_owned.py writes them to the file its
    ``SPECIALIZE_EMPTY_PARAMETER_SETS`` names). Raises ``SpecializeError`` when collection fails."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "empty.txt"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"], cwd=repo,
            capture_output=True, text=True,
            env={**os.environ, "SPECIALIZE_EMPTY_PARAMETER_SETS": str(report), "PYTHONDONTWRITEBYTECODE": "1"})
        if result.returncode not in (0, 5) or not report.exists():
            raise SpecializeError(f"collecting the tests failed: {(result.stdout + result.stderr)[-2000:]}")
        found: dict[str, set[str]] = {}
        for nodeid in report.read_text().split():
            module, _, name = nodeid.partition("::")
            found.setdefault(module, set()).add(name.split("[", 1)[0].split("::")[-1])
        return found


def _drop_unread_sets(repo: Path, known: Known, copy_without_render: Sequence[str]) -> int:
    """Second pass, once the dead partials are gone: drop every folded ``{% set name = constant %}``
    (``{%- set gitlab = false -%}``) that neither its own template nor any other one reads any more
    (``read_names``; the first pass kept those that a partial's text still named). Returns how many
    files changed; repeats until none does (a dropped set may have been another's last reader)."""
    from scripts.jinja_specialize import read_names

    changed: set[Path] = set()
    while True:
        texts = {}
        for path in _template_files(repo, copy_without_render):
            try:
                texts[path] = path.read_text()
            except UnicodeDecodeError:
                continue
        reads = {path: read_names(text, known.environment) for path, text in texts.items()}
        counts: dict[str, int] = {}
        for names in reads.values():
            for name in names:
                counts[name] = counts.get(name, 0) + 1
        again = False
        for path, text in texts.items():
            elsewhere = frozenset(n for n, c in counts.items() if c - (n in reads[path]) > 0)
            result = specialize_source(text, known, read_elsewhere=elsewhere)
            if result != text:
                path.write_text(result)
                changed.add(path)
                again = True
        if not again:
            return len(changed)


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _prune_empty_folders(folder: Path) -> None:
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(path.iterdir()):
            path.rmdir()


_LEFTOVER = "cookiecutter\\s*\\.\\s*{name}\\b|cookiecutter\\s*\\[\\s*[\"']{name}[\"']"


def specialize_repo(repo: Path, words: Sequence[str], log: Callable[[str], None] = print) -> dict[str, str]:
    """Specialise the template checkout ``repo`` for the answers ``words`` (``name=value``); return
    every answer fixed now (old and new). Raises ``AnswerError`` before changing anything."""
    cc_path = repo / "cookiecutter.json"
    cookiecutter_json = json.loads(cc_path.read_text())
    new = parse_answers(words, cookiecutter_json)
    fixed = {**cookiecutter_json.get(FIXED_ANSWERS_KEY, {}), **new}
    known = known_for(repo, cookiecutter_json, fixed)

    # 1. Jinja branches and expressions.
    partials = repo / PARTIALS_FOLDER
    shared_names = frozenset(
        name for path in partials.rglob("*") if path.is_file()
        for name in re.findall(r"[A-Za-z_]\w*", path.read_text(errors="replace")))
    changed = 0
    for path in _template_files(repo, cookiecutter_json.get("_copy_without_render", [])):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        try:
            result = specialize_source(text, known, exports=partials in path.parents, shared_names=shared_names)
        except SpecializeError as error:
            raise SpecializeError(f"{path.relative_to(repo)}: {error}") from None
        if result != text:
            path.write_text(result)
            changed += 1
    log(f"specialised {changed} template files")

    # 2. Files of removed choices (hooks/pruning.py) and their pruning rows.
    pruning = _import_from(repo, "hooks.pruning")
    derived = _import_from(repo, "hooks.derived")
    domains = possible_values(cookiecutter_json, fixed)
    possible: dict[str, Optional[set[str]]] = {k: set(v) for k, v in domains.items()}
    for parameter, _ in pruning.OWNERS:
        if parameter not in possible and parameter in derived.DERIVED_NAMES:
            possible[parameter] = possible_derived(derived.derived_value, parameter, domains)
    ownership = owned_paths(pruning.OWNERS, possible)
    for path in ownership.paths:
        _delete(repo / PROJECT_FOLDER / path)
    pruning_file = repo / "hooks" / "pruning.py"
    source = remove_owner_rows(pruning_file.read_text(), "OWNERS", ownership.rows)
    vanished = [p for paths in pruning.OWNERS.values() for p in paths if not (repo / PROJECT_FOLDER / p).exists()]
    pruning_file.write_text(remove_owned_entries(source, "OWNERS", vanished))
    log(f"deleted {len(ownership.paths)} template paths; removed {len(ownership.rows)} pruning rows")
    for path in _unreferenced_partials(repo):
        _delete(path)
        log(f"deleted unused partial {path.relative_to(repo)}")
    dropped = _drop_unread_sets(repo, known, cookiecutter_json.get("_copy_without_render", []))
    log(f"removed the constants that only resolved branches read from {dropped} template files")

    # 3. Tests, tool dependencies and example configs of removed choices.
    owned_file = repo / "tests" / "support" / "choice_owned.py"
    if owned_file.exists():
        choice_owned = _import_from(repo, "tests.support.choice_owned")
        owned = owned_paths(choice_owned.TEST_OWNERS, possible)
        for path in owned.paths:
            _delete(repo / path)
        owned_file.write_text(remove_owner_rows(owned_file.read_text(), "TEST_OWNERS", owned.rows))
        npm = owned_paths(choice_owned.NPM_OWNERS, possible)
        by_folder: dict[str, list[str]] = {}
        for entry in npm.paths:
            folder, _, package = entry.partition(":")
            by_folder.setdefault(folder, []).append(package)
        for folder, packages in by_folder.items():
            package_json, lock = (json.loads((repo / folder / name).read_text())
                                  for name in ("package.json", "package-lock.json"))
            package_json, lock = remove_npm_packages(package_json, lock, packages)
            (repo / folder / "package.json").write_text(json.dumps(package_json, indent=2) + "\n")
            (repo / folder / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
            log(f"removed npm packages {', '.join(packages)} from {folder}")
        owned_file.write_text(remove_owner_rows(owned_file.read_text(), "NPM_OWNERS", npm.rows))
        log(f"deleted {len(owned.paths)} test paths of removed choices")
    configs = repo / "tests" / "example-project-configs"
    deleted_configs: list[str] = []
    if configs.is_dir():
        import yaml

        for config in sorted(configs.rglob("*.yaml")):
            context = (yaml.safe_load(config.read_text()) or {}).get("default_context", {})
            if any(name in context and str(context[name]) != value for name, value in fixed.items()):
                config.unlink()
                deleted_configs.append(str(config.relative_to(repo)))
                log(f"deleted example config {config.relative_to(repo)}")
            else:
                config.write_text(drop_config_keys(config.read_text(), fixed))
        _prune_empty_folders(configs)
    remaining_configs = sorted(str(c.relative_to(repo)) for c in configs.rglob("*.yaml")) if configs.is_dir() else []
    choices = {k: v for k, v in cookiecutter_json.items() if isinstance(v, list) and not k.startswith("_")}
    for name in GUIDES:
        guide = repo / name
        if guide.exists():
            text = guide.read_text()
            result = replace_deleted_paths(resolve_fork_blocks(text, fixed, choices), deleted_configs, remaining_configs)
            if result != text:
                guide.write_text(result)
                log(f"rewrote {name} for the fixed answers")

    # 4. The prompts become fixed answers.
    folded = fold_cookiecutter_json(cookiecutter_json, new, known)
    cc_path.write_text(json.dumps(folded, indent=2, ensure_ascii=False) + "\n")
    readme = repo / "README.md"
    if readme.exists():
        prompts = [k for k in folded if not k.startswith("_")]
        readme.write_text(remove_readme_prompts(readme.read_text(), fixed, len(prompts), fixed))
    _prune_empty_folders(repo / PROJECT_FOLDER)
    _prune_empty_folders(partials)

    # 5. Tests parametrised over nothing any more (every value they ran on was removed).
    if (repo / "tests" / "support" / "choice_owned.py").exists():
        for module, names in empty_parameter_set_tests(repo).items():
            path = repo / module
            path.write_text(remove_test_functions(path.read_text(), names))
            subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", "--fix", "--select", "F401",
                            str(path)], cwd=repo, capture_output=True, check=False)
            log(f"deleted {len(names)} tests without parameters from {module}")

    leftovers = [
        f"{path.relative_to(repo)}: {name}"
        for path in _template_files(repo, folded.get("_copy_without_render", []))
        for name in fixed
        if path.suffix != ".parquet" and re.search(_LEFTOVER.format(name=name), path.read_text(errors="replace"))
    ]
    if leftovers:
        raise SpecializeError("fixed answers are still read (no longer in the render context): "
                              + "; ".join(leftovers))
    return fixed


def main(argv: Sequence[str]) -> int:
    """Command line: ``specialize.py [--repo PATH] name=value ...`` (``make specialize ANSWERS=...``)."""
    args = list(argv)
    repo = Path(__file__).resolve().parents[1]
    if args[:1] == ["--repo"] and len(args) > 1:
        repo, args = Path(args[1]).resolve(), args[2:]
    if len(args) == 1 and " " in args[0] and "=" in args[0]:
        args = shlex.split(args[0])  # make passes ANSWERS as one word
    try:
        fixed = specialize_repo(repo, args)
    except (AnswerError, SpecializeError) as error:
        print(f"specialize: {error}", file=sys.stderr)
        return 2
    print(f"Fixed answers: {json.dumps(fixed)}. Review 'git diff', then run 'make test-fast'.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

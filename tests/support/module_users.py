"""Which of a generated project's Python modules something actually uses.

A module is *live* when a file that runs on its own reaches it through imports: a Databricks
notebook (jobs run them), a module named in the Makefile, CI/CD definitions, Terraform, the
recipe configuration (by MLflow Recipes' convention, steps/<step>.py) or a guide's command
(``python -m local_pipeline.mlflow3``), and,
transitively, whatever those import. Tests use modules too, but a production module that only
its own tests import is dead code that is kept alive by its tests; it is reported separately.
Test modules are run by pytest (its ``python_files`` patterns) and their helpers must be
imported by one.

Imports are read with :mod:`ast` (also those inside functions and ``TYPE_CHECKING`` blocks);
an import of one of the project's own packages that names no file is reported too, as a
project that imports a module of another track.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

# Files that are not Python but name modules that run: the Makefile, CI/CD, Terraform jobs,
# MLflow Recipes' configuration, and the guides' commands.
_CONFIG_SUFFIXES = {".yml", ".yaml", ".tf", ".json", ".toml", ".ini", ".cfg", ".txt"}
# A guide uses a module when it runs it; naming it in prose does not.
_RUN_IN_GUIDE = re.compile(r"python -m ([A-Za-z_][A-Za-z0-9_.]*)")
# MLflow Recipes loads its steps' code from steps/<step>.py by convention (recipe.yaml names only
# the functions), and custom metrics from steps/custom_metrics.py.
_RECIPE_STEP_MODULES = ("steps.ingest", "steps.split", "steps.transform", "steps.train", "steps.custom_metrics")
_TEST_PATTERNS = ("test_*.py", "*_test.py", "conftest.py")
_DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\b")
_PY_PATH = re.compile(r"[A-Za-z0-9_./-]+\.py\b")


@dataclass
class ModuleUse:
    """The outcome for one project: paths relative to the project root, sorted."""

    unused: list[str] = field(default_factory=list)
    only_tests: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def _is_test(relative: Path) -> bool:
    return relative.parts[0] == "tests" or any(fnmatch.fnmatch(relative.name, p) for p in _TEST_PATTERNS)


def _is_notebook(path: Path) -> bool:
    return path.read_text(errors="replace").startswith("# Databricks notebook source")


class _Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = {
            path.relative_to(root)
            for path in root.rglob("*.py")
            if not any(part.startswith(".") or part in {"build", ".venv"} for part in path.relative_to(root).parts[:-1])
        }
        self.packages = {m.parts[0] for m in self.modules if len(m.parts) > 1}

    def file_at(self, path: str) -> Path | None:
        """The module at ``path`` as a CI/CD step or Makefile names it: relative to the project root,
        or to the folder the step runs in (``scripts/x.py`` in ``databricks-config/``), when exactly
        one module of the project ends with it."""
        found = self.file_of(path[:-3].replace("/", "."))
        if found is not None:
            return found
        tails = [m for m in self.modules if m.parts[-len(Path(path).parts):] == Path(path).parts]
        return tails[0] if len(tails) == 1 else None

    def file_of(self, dotted: str) -> Path | None:
        """The module file of ``dotted`` (``a.b`` -> a/b.py or a/b/__init__.py), if in the project."""
        parts = dotted.split(".")
        for candidate in (Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py")):
            if candidate in self.modules:
                return candidate
        return None

    def imports_of(self, relative: Path, unresolved: list[str]) -> set[Path]:
        """The project modules ``relative`` imports or names, with their packages' ``__init__``."""
        try:
            tree = ast.parse((self.root / relative).read_text())
        except SyntaxError:
            return set()
        names: list[tuple[str, bool]] = []  # (dotted name, is an import statement)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [(alias.name, True) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.append((node.module, True))
                names += [(f"{node.module}.{alias.name}", False) for alias in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                # A string that is a module's name or path (cloudpickle, code_paths), not prose.
                text = node.value.strip()
                if _PY_PATH.fullmatch(text):
                    names.append((text.lstrip("./")[:-3].replace("/", "."), False))
                    # A path built from parts (``root / "steps" / "transform.py"``): the file name.
                    names += [(".".join(m.with_suffix("").parts), False) for m in self.modules if m.name == text]
                elif _DOTTED.fullmatch(text):
                    names.append((text, False))
                elif text.isidentifier() and len(relative.parts) > 1:
                    # A module chosen by name at run time (importlib): a sibling of this one.
                    names.append((".".join((*relative.parts[:-1], text)), False))
        used: set[Path] = set()
        for dotted, is_import in names:
            found = self.file_of(dotted)
            if found is None and is_import and dotted.split(".")[0] in self.packages:
                unresolved.append(f"{relative}: import {dotted}")
            used |= self._with_packages(found)
        return used

    def _with_packages(self, found: Path | None) -> set[Path]:
        if found is None:
            return set()
        used = {found}
        for depth in range(1, len(found.parts)):
            init = Path(*found.parts[:depth], "__init__.py")
            if init in self.modules:
                used.add(init)
        return used

    def named_in_config(self) -> set[Path]:
        """Modules named in the project's non-Python files (Makefile, CI/CD, Terraform, recipe, docs)."""
        named: set[Path] = set()
        if (self.root / "recipe.yaml").is_file():
            for dotted in _RECIPE_STEP_MODULES:
                named |= self._with_packages(self.file_of(dotted))
        for path in self.root.rglob("*.md"):
            for dotted in _RUN_IN_GUIDE.findall(path.read_text(errors="replace")):
                named |= self._with_packages(self.file_of(dotted))
        for path in self.root.rglob("*"):
            if not path.is_file() or not (path.suffix in _CONFIG_SUFFIXES or path.name == "Makefile"):
                continue
            text = path.read_text(errors="replace")
            for dotted in _DOTTED.findall(text):
                named |= self._with_packages(self.file_of(dotted))
            for py in _PY_PATH.findall(text):
                named |= self._with_packages(self.file_at(py.lstrip("./")))
        return named


def _reach(project: _Project, roots: set[Path], unresolved: list[str]) -> set[Path]:
    seen: set[Path] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += project.imports_of(module, unresolved) - seen
    return seen


def module_use(root: Path) -> ModuleUse:
    """Classify every Python module of the project at ``root`` (see the module docstring)."""
    project = _Project(root)
    unresolved: list[str] = []
    production_roots = {m for m in project.modules if not _is_test(m) and _is_notebook(root / m)}
    production_roots |= {m for m in project.named_in_config() if not _is_test(m)}
    live = _reach(project, production_roots, unresolved)
    test_roots = {
        m for m in project.modules if _is_test(m) and m.name.endswith(".py") and any(fnmatch.fnmatch(m.name, p) for p in _TEST_PATTERNS)
    }
    tested = _reach(project, test_roots, unresolved)
    for test in test_roots:  # pytest imports a test module's packages first
        tested |= project._with_packages(test)
    result = ModuleUse(unresolved=sorted(set(unresolved)))
    for module in sorted(project.modules):
        if module in live or module in test_roots:
            continue
        if module in tested and _is_test(module):
            continue
        (result.only_tests if module in tested else result.unused).append(module.as_posix())
    return result

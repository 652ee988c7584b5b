"""Offline checks that a Terraform configuration hangs together, without providers.

``terraform validate`` needs the providers, which cannot be downloaded here. What it
would catch in our own code can still be checked from the parsed HCL (python-hcl2):

- every ``var.X``, ``local.X``, ``module.X`` (and ``module.X.OUTPUT`` of a local
  module), ``data.TYPE.NAME`` and ``TYPE.NAME`` resource reference names something
  declared in the same module folder;
- every call of a local module passes only variables that module declares, and all of
  those without a default;
- every provider alias used in ``provider = ...`` or ``providers = {...}`` is declared.

A "module folder" is one directory of ``.tf`` files, as Terraform sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import hcl2

# Resource types of the providers this template uses; a reference looks like TYPE.NAME.
PROVIDERS = ("databricks", "aws", "azurerm", "azuread", "azuredevops", "google", "gitlab")
NAME = r"[A-Za-z_][\w-]*"
NOT_AFTER_NAME = r"(?<![\w.])"
VAR_REF = re.compile(rf"{NOT_AFTER_NAME}var\.({NAME})")
LOCAL_REF = re.compile(rf"{NOT_AFTER_NAME}local\.({NAME})")
MODULE_REF = re.compile(rf"{NOT_AFTER_NAME}module\.({NAME})(?:\.({NAME}))?")
DATA_REF = re.compile(rf"{NOT_AFTER_NAME}data\.({NAME})\.({NAME})")
RESOURCE_REF = re.compile(rf"{NOT_AFTER_NAME}((?:{'|'.join(PROVIDERS)})_[a-z0-9_]+)\.({NAME})")
PROVIDER_REF = re.compile(rf"{NOT_AFTER_NAME}((?:{'|'.join(PROVIDERS)}))\.({NAME})")
MODULE_META_ARGUMENTS = {"source", "version", "providers", "depends_on", "count", "for_each"}
PARSER_KEYS = {"__comments__", "__is_block__", "__inline_comments__"}


def unquote(label: str) -> str:
    """python-hcl2 keeps the quotes of block labels and string values."""
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


@dataclass
class Module:
    """What one module folder declares, and every expression written in it."""

    folder: Path
    variables: dict[str, bool] = field(default_factory=dict)  # name -> has a default
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)
    resources: set[tuple[str, str]] = field(default_factory=set)
    data: set[tuple[str, str]] = field(default_factory=set)
    module_calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    provider_aliases: set[tuple[str, str]] = field(default_factory=set)
    blocks: dict[str, list[dict]] = field(default_factory=dict)  # top-level block type -> bodies
    expressions: list[tuple[str, str]] = field(default_factory=list)  # (file name, expression text)
    provider_settings: list[tuple[str, str]] = field(default_factory=list)  # provider/providers values


def parse_file(path: Path) -> dict:
    with path.open() as handle:
        return hcl2.load(handle)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a parsed value (attribute values, nested blocks, lists, maps)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in PARSER_KEYS:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _provider_settings(value: Any) -> Iterator[str]:
    """Values of ``provider`` and ``providers`` attributes, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("provider", "providers"):
                yield from _strings(item)
            elif key not in PARSER_KEYS:
                yield from _provider_settings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _provider_settings(item)


def _labelled(bodies: list[dict]) -> Iterator[tuple[str, dict]]:
    for body in bodies:
        for label, inner in body.items():
            if label not in PARSER_KEYS:
                yield unquote(label), inner


def load_module(folder: Path) -> Module:
    module = Module(folder)
    for path in sorted(folder.glob("*.tf")):
        parsed = parse_file(path)
        for block_type, bodies in parsed.items():
            module.blocks.setdefault(block_type, []).extend(bodies)
            # A moved block's `from` names what is no longer declared; its `to` must resolve.
            checked = [{k: v for k, v in b.items() if k != "from"} for b in bodies] if block_type == "moved" else bodies
            module.expressions += [(path.name, text) for text in _strings(checked)]
            module.provider_settings += [(path.name, text) for text in _provider_settings(bodies)]
        for name, body in _labelled(parsed.get("variable", [])):
            module.variables[name] = "default" in body
        for body in parsed.get("locals", []):
            module.locals.update({k: v for k, v in body.items() if k not in PARSER_KEYS})
        for name, _ in _labelled(parsed.get("output", [])):
            module.outputs.add(name)
        for name, body in _labelled(parsed.get("module", [])):
            module.module_calls[name] = body
        for kind, target in (("resource", module.resources), ("data", module.data)):
            for type_name, named in _labelled(parsed.get(kind, [])):
                target.update((type_name, name) for name, _ in _labelled([named]))
        for type_name, body in _labelled(parsed.get("provider", [])):
            alias = unquote(str(body.get("alias", "")))
            module.provider_aliases.add((type_name, alias))
    return module


def local_module_folder(caller: Module, call: dict) -> Path | None:
    source = unquote(str(call.get("source", "")))
    return (caller.folder / source).resolve() if source.startswith(("./", "../")) else None


def problems_in_module(module: Module) -> list[str]:
    """Human-readable problems of one module folder; empty when everything resolves."""
    problems = []
    called = {name: local_module_folder(module, call) for name, call in module.module_calls.items()}
    called_modules = {name: load_module(folder) for name, folder in called.items() if folder and folder.is_dir()}
    for file_name, text in module.expressions:
        where = f"{module.folder.name}/{file_name}"
        problems += [f"{where}: var.{n} is not declared" for n in VAR_REF.findall(text) if n not in module.variables]
        problems += [f"{where}: local.{n} is not defined" for n in LOCAL_REF.findall(text) if n not in module.locals]
        problems += [
            f"{where}: data.{t}.{n} is not declared" for t, n in DATA_REF.findall(text) if (t, n) not in module.data
        ]
        problems += [
            f"{where}: resource {t}.{n} is not declared"
            for t, n in RESOURCE_REF.findall(text)
            if (t, n) not in module.resources
        ]
        for name, output in MODULE_REF.findall(text):
            if name not in module.module_calls:
                problems.append(f"{where}: module.{name} is not called here")
            elif output and name in called_modules and output not in called_modules[name].outputs:
                problems.append(f"{where}: module.{name}.{output}: that module has no such output")
    for file_name, text in module.provider_settings:
        for provider, alias in PROVIDER_REF.findall(text):
            if (provider, alias) not in module.provider_aliases:
                problems.append(f"{module.folder.name}/{file_name}: provider {provider}.{alias} is not configured")
    for name, call in module.module_calls.items():
        if called[name] is not None and name not in called_modules:
            problems.append(f"module {name}: source folder {called[name]} does not exist")
        if name in called_modules:
            problems += module_call_problems(name, call, called_modules[name])
    return problems


def module_call_problems(name: str, call: dict, target: Module) -> list[str]:
    """Arguments a call passes that its module does not declare, and required ones it misses."""
    arguments = {key for key in call if key not in PARSER_KEYS | MODULE_META_ARGUMENTS}
    required = {variable for variable, has_default in target.variables.items() if not has_default}
    return [f"module {name}: passes undeclared variable {a!r}" for a in sorted(arguments - set(target.variables))] + [
        f"module {name}: misses required variable {r!r}" for r in sorted(required - arguments)
    ]


def module_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds ``.tf`` files."""
    return sorted({path.parent for path in root.rglob("*.tf") if ".terraform" not in path.parts})


def problems_in_tree(root: Path) -> list[str]:
    return [problem for folder in module_folders(root) for problem in problems_in_module(load_module(folder))]

"""Check Terraform ``resource`` and ``data`` blocks against the providers' own schemas, offline.

``terraform validate`` needs the provider binaries, which cannot be downloaded here. The
prebuilt CDK for Terraform provider packages on npm (``@cdktf/provider-<name>``) carry the
same schema: their ``.jsii`` file describes every resource and data source as a
``<Class>Config`` interface whose properties are the arguments (``optional: false`` marks
the required ones) and nested blocks (documented as "``<name>`` block.", typed as structs).
Each property's documentation links to ``...docs/resources/<type>#<argument_name>``, which
gives the exact Terraform name. ``package.json`` names the provider version the package was
generated from (``cdktf.provider.version``).

The packages are pinned in ``tests/terraform-schemas/package-lock.json``; ``ensure_packages``
installs them with ``npm ci`` the first time, as ``tests/support/mermaid.py`` does. The
``.jsii`` files are 3-130 MB of JSON, so ``load_schemas`` keeps only the types asked for and
caches that extract on disk (keyed by package version), so each is parsed once per install.

The cdktf packages carry no deprecation notices and there is none for azuredevops, so
Pulumi's bridged provider wheels on PyPI (pinned with hashes in
``tests/terraform-schemas/pulumi-requirements.txt``, downloaded, never installed) fill both
gaps: their generated ``*Args`` classes raise ``DeprecationWarning`` for deprecated arguments
(matched to cdktf structs by class name), and for azuredevops their constructor signatures are
the schema (required = no default; a nested ``*Args`` type = a block, named as its docstring
names it). Pulumi folds single blocks into objects, so for azuredevops "block or attribute"
is checked only where the docstring says "block"; and it pluralizes the names of lists
(``branch_filter`` -> ``branch_filters``), so a list's singular name is accepted as well.

What ``schema_problems`` reports, each finding naming the file, the block path and the fix:
- an argument or nested block the schema does not have at that nesting level (a misspelling,
  or an argument the provider removed or only computes);
- a required argument or block that is missing;
- a nested block written as an attribute (``x = {...}``) or an attribute written as a block;
- a deprecated argument or block;
- a resource or data source type the provider does not have.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from filelock import FileLock

from tests.support.terraform_refs import PARSER_KEYS, parse_file, unquote
from tests.support.variants import TEMPLATE_DIR

PACKAGES_DIR = TEMPLATE_DIR / "tests" / "terraform-schemas"
INSTALL_COMMAND = [
    "npm", "ci", "--prefix", str(PACKAGES_DIR), "--no-audit", "--no-fund", "--ignore-scripts", "--legacy-peer-deps"
]
_STAMP = PACKAGES_DIR / "node_modules" / ".installed-lock-sha256"
_CACHE_DIR = PACKAGES_DIR / "node_modules" / ".schema-cache"

# Terraform provider name (the resource type prefix) -> npm package with its schema.
PROVIDER_PACKAGES = {
    "aws": "@cdktf/provider-aws",
    "azuread": "@cdktf/provider-azuread",
    "azurerm": "@cdktf/provider-azurerm",
    "databricks": "@cdktf/provider-databricks",
    "github": "@cdktf/provider-github",
    "gitlab": "@cdktf/provider-gitlab",
    "google": "@cdktf/provider-google",
}
# Pulumi wheels: the azuredevops schema, and the deprecations of the providers they cover.
PULUMI_REQUIREMENTS = PACKAGES_DIR / "pulumi-requirements.txt"
PULUMI_WHEELS = PACKAGES_DIR / "pulumi-wheels"
PULUMI_MODULES = {"azuredevops": "pulumi_azuredevops", "databricks": "pulumi_databricks"}
# Resource types whose Pulumi module and class are not the plain conversion of the Terraform name.
PULUMI_NAMES = {
    "azuredevops_serviceendpoint_azurerm": ("service_endpoint_azure_rm.py", "ServiceEndpointAzureRMArgs"),
    "azuredevops_serviceendpoint_aws": ("service_endpoint_aws.py", "ServiceEndpointAwsArgs"),
}
# Providers the template uses that have no offline schema (say so rather than pass).
WITHOUT_SCHEMA = {"terraform": "built into Terraform (terraform_remote_state)"}
SCHEMA_FORMAT = "4"  # bump when the cached extract changes shape

# Arguments and blocks Terraform itself defines on every resource / data block.
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on"}
META_BLOCKS = {"lifecycle", "provisioner", "connection", "dynamic"}

_TYPE_DOC = re.compile(r"docs/(resources|data-sources)/\S+ ([a-z0-9_]+)\}")
_ARGUMENT_DOC = re.compile(r"docs/(?:resources|data-sources)/[\w-]+#(\w+) ")


class NodeMissing(RuntimeError):
    """Node.js or npm is not on PATH, so the schema packages cannot be installed here."""


def _lock_digest() -> str:
    return hashlib.sha256((PACKAGES_DIR / "package-lock.json").read_bytes()).hexdigest()


def ensure_packages() -> None:
    """Install the pinned schema packages under ``tests/terraform-schemas/node_modules`` once.

    Raises NodeMissing without npm, RuntimeError when ``npm ci`` fails.
    """
    if shutil.which("npm") is None:
        raise NodeMissing("npm is needed to install the Terraform provider schema packages; install Node.js 20+")
    with FileLock(str(PACKAGES_DIR / ".install.lock")):
        if not (_STAMP.exists() and _STAMP.read_text() == _lock_digest()):
            result = subprocess.run(INSTALL_COMMAND, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(INSTALL_COMMAND)} failed:\n{result.stdout}\n{result.stderr}")
            _STAMP.write_text(_lock_digest())


def provider_version(provider: str) -> str:
    """Version of the provider whose schema is checked, e.g. '1.99.0' (for azuredevops, the Pulumi
    package's version, which is not the Terraform provider's)."""
    if provider not in PROVIDER_PACKAGES:
        (wheel,) = PULUMI_WHEELS.glob(f"{PULUMI_MODULES[provider]}-*.whl")
        return "pulumi-" + wheel.name.split("-")[1]
    package = json.loads((PACKAGES_DIR / "node_modules" / PROVIDER_PACKAGES[provider] / "package.json").read_text())
    return package["cdktf"]["provider"]["version"]


def ensure_pulumi_wheels() -> None:
    """Download the pinned Pulumi wheels (hash-checked, no dependencies) once."""
    stamp = PULUMI_WHEELS / ".requirements-sha256"
    digest = hashlib.sha256(PULUMI_REQUIREMENTS.read_bytes()).hexdigest()
    PULUMI_WHEELS.mkdir(exist_ok=True)
    with FileLock(str(PULUMI_WHEELS / ".download.lock")):
        if stamp.exists() and stamp.read_text() == digest:
            return
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
            "--dest", str(PULUMI_WHEELS), "-r", str(PULUMI_REQUIREMENTS),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        stamp.write_text(digest)


def _pulumi_sources(provider: str) -> dict[str, str]:
    """File name -> source of every module of the provider's Pulumi wheel."""
    (wheel,) = PULUMI_WHEELS.glob(f"{PULUMI_MODULES[provider]}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        prefix = f"{PULUMI_MODULES[provider]}/"
        return {
            name[len(prefix):]: archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith(prefix) and name.endswith(".py") and "/" not in name[len(prefix):]
        }


_DEPRECATION = re.compile(r'if (\w+) is not None:\n\s+warnings\.warn\("""(.*?)""", DeprecationWarning\)', re.DOTALL)


def _pulumi_deprecations(sources: dict[str, str]) -> dict[str, dict[str, str]]:
    """``Args`` class name without the suffix (e.g. 'JobTaskNotebookTask') -> {argument: notice}."""
    found: dict[str, dict[str, str]] = {}
    for source in sources.values():
        for match in _DEPRECATION.finditer(source):
            start = source.rfind("\nclass ", 0, match.start())
            class_name = re.match(r"\nclass (\w+)", source[start:]).group(1)
            if class_name.endswith("Args"):
                found.setdefault(class_name[: -len("Args")], {})[match.group(1)] = " ".join(match.group(2).split())
    return found


def _pulumi_node(classes: dict[str, ast.ClassDef | ast.FunctionDef], name: str, deprecated: dict) -> Schema:
    """Schema node of a Pulumi ``*Args`` class (or a data source function), from its signature."""
    definition = classes[name]
    function = definition if isinstance(definition, ast.FunctionDef) else next(
        item for item in definition.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"
    )
    docs = ast.get_docstring(function) or ""
    arguments = function.args.kwonlyargs or function.args.args
    defaults = function.args.kw_defaults if function.args.kwonlyargs else (
        [None] * (len(function.args.args) - len(function.args.defaults)) + function.args.defaults
    )
    node: Schema = {"attributes": {}, "blocks": {}, "deprecated": {}, "aliases": {}}
    for argument, default in zip(arguments, defaults):
        if argument.arg in ("__self__", "self", "opts", "resource_name"):
            continue
        annotation = ast.unparse(argument.annotation) if argument.annotation else ""
        nested = re.search(r"'(\w+Args)'", annotation)
        doc = re.search(rf":param [^\n]*? {argument.arg}: ([^\n]*)", docs)
        block_name = re.search(r"`(\w+)` blocks?", doc.group(1)) if doc else None
        required = default is None
        if nested and nested.group(1) in classes:
            name_in_terraform = block_name.group(1) if block_name else argument.arg
            inner = _pulumi_node(classes, nested.group(1), deprecated)
            node["blocks"][name_in_terraform] = {"required": required, "nested": inner}
        else:
            name_in_terraform = argument.arg
            node["attributes"][argument.arg] = required
        if name_in_terraform == argument.arg and "Sequence[" in annotation:
            # Pulumi's bridge pluralizes the Terraform name of a list (branch_filter ->
            # branch_filters, include -> includes) unless it is plural already (filename_patterns):
            # the singular may be the Terraform name.
            node["aliases"][_singular(argument.arg)] = argument.arg
    class_key = name[: -len("Args")] if name.endswith("Args") else name
    node["deprecated"] = {k: v for k, v in deprecated.get(class_key, {}).items()}
    return node


def _pulumi_schemas(provider: str, wanted: set[tuple[str, str]]) -> dict[str, Schema]:
    """Schemas of ``wanted`` types built from the Pulumi wheel's resource and data source modules."""
    sources = _pulumi_sources(provider)
    deprecated = _pulumi_deprecations(sources)
    found: dict[str, Schema] = {}
    inputs = ast.parse(sources.get("_inputs.py", ""))
    classes: dict[str, ast.ClassDef | ast.FunctionDef] = {
        item.name: item for item in inputs.body if isinstance(item, ast.ClassDef)
    }
    for kind, type_name in wanted:
        module = type_name[len(provider) + 1:]
        file_name, definition = (f"{module}.py", f"{_camel(module)}Args") if kind == "resource" else (
            f"get_{module}.py", f"get_{module}"
        )
        file_name, definition = PULUMI_NAMES.get(type_name, (file_name, definition))
        if file_name not in sources:
            continue
        tree = ast.parse(sources[file_name])
        local = {**classes, **{
            item.name: item for item in tree.body if isinstance(item, (ast.ClassDef, ast.FunctionDef))
        }}
        if definition in local:
            found[f"{kind}.{type_name}"] = _pulumi_node(local, definition, deprecated)
    return found


def _singular(plural: str) -> str:
    """The English singular of a snake_case name that Pulumi pluralized (policies -> policy)."""
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if plural.endswith(ending):
            return plural[: -len(ending)] + replacement
    return plural[:-1] if plural.endswith("s") and not plural.endswith("ss") else plural


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


# --- schemas --------------------------------------------------------------------------------------

# A schema node: {"attributes": {name: required}, "blocks": {name: {"required": bool, "nested": node}}}
Schema = dict[str, Any]


def _argument_name(prop: dict) -> str:
    docs = prop.get("docs", {})
    match = _ARGUMENT_DOC.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
    return match.group(1) if match else re.sub(r"(?<!^)([A-Z])", r"_\1", prop["name"]).lower()


def _struct_fqn(type_ref: dict) -> str | None:
    """The struct a property's type refers to (directly, or as the element of a list/set)."""
    if "fqn" in type_ref and not type_ref["fqn"].startswith("cdktf."):
        return type_ref["fqn"]
    if "collection" in type_ref:
        return _struct_fqn(type_ref["collection"]["elementtype"])
    for member in type_ref.get("union", {}).get("types", []):
        found = _struct_fqn(member)
        if found:
            return found
    return None


def _node(types: dict, fqn: str, deprecated: dict[str, dict[str, str]]) -> Schema:
    struct = fqn.rsplit(".", 1)[1].removesuffix("Config")
    node: Schema = {"attributes": {}, "blocks": {}, "deprecated": dict(deprecated.get(struct, {}))}
    for prop in types[fqn].get("properties", []):
        name, required = _argument_name(prop), not prop.get("optional", False)
        is_block = prop.get("docs", {}).get("summary", "").endswith(" block.")
        nested = _struct_fqn(prop["type"])
        if is_block and nested:
            node["blocks"][name] = {"required": required, "nested": _node(types, nested, deprecated)}
        else:
            node["attributes"][name] = required
    return node


def _extract(provider: str, wanted: set[tuple[str, str]]) -> dict[str, Schema]:
    """Schemas of ``wanted`` (kind, type) pairs from one provider's package, keyed 'resource.TYPE'."""
    if provider not in PROVIDER_PACKAGES:
        return _pulumi_schemas(provider, wanted)
    deprecated = _pulumi_deprecations(_pulumi_sources(provider)) if provider in PULUMI_MODULES else {}
    types = json.loads((PACKAGES_DIR / "node_modules" / PROVIDER_PACKAGES[provider] / ".jsii").read_text())["types"]
    found: dict[str, Schema] = {}
    for fqn, jsii_type in types.items():
        match = _TYPE_DOC.search(jsii_type.get("docs", {}).get("summary", ""))
        if not match or jsii_type.get("kind") != "class":
            continue
        kind = "resource" if match.group(1) == "resources" else "data"
        if (kind, match.group(2)) in wanted and f"{fqn}Config" in types:
            found[f"{kind}.{match.group(2)}"] = _node(types, f"{fqn}Config", deprecated)
    return found


def load_schemas(wanted: Iterable[tuple[str, str]]) -> dict[str, Schema | None]:
    """Schemas of the given (``resource`` or ``data``, type) pairs, keyed ``'resource.TYPE'``.

    A type the provider does not have maps to None; types of providers without a schema
    package are left out. Installs the packages first (see ``ensure_packages``).
    """
    ensure_packages()
    ensure_pulumi_wheels()
    by_provider: dict[str, set[tuple[str, str]]] = {}
    for kind, type_name in wanted:
        provider = type_name.split("_", 1)[0]
        if provider in PROVIDER_PACKAGES or provider in PULUMI_MODULES:
            by_provider.setdefault(provider, set()).add((kind, type_name))
    schemas: dict[str, Schema | None] = {}
    _CACHE_DIR.mkdir(exist_ok=True)
    for provider, pairs in by_provider.items():
        pulumi_pin = hashlib.sha256(PULUMI_REQUIREMENTS.read_bytes()).hexdigest()[:8]
        cache = _CACHE_DIR / f"{provider}-{provider_version(provider)}-{pulumi_pin}-format{SCHEMA_FORMAT}.json"
        with FileLock(str(cache) + ".lock"):
            cached = json.loads(cache.read_text()) if cache.exists() else {"schemas": {}, "absent": []}
            missing = {p for p in pairs if f"{p[0]}.{p[1]}" not in cached["schemas"] and f"{p[0]}.{p[1]}" not in cached["absent"]}
            if missing:
                extracted = _extract(provider, missing)
                cached["schemas"].update(extracted)
                cached["absent"] += sorted(f"{k}.{t}" for k, t in missing if f"{k}.{t}" not in extracted)
                cache.write_text(json.dumps(cached))
        for kind, type_name in pairs:
            schemas[f"{kind}.{type_name}"] = cached["schemas"].get(f"{kind}.{type_name}")
    return schemas


# --- checking ---------------------------------------------------------------------------------------


@dataclass
class TypedBlock:
    """One ``resource`` or ``data`` block of a file."""

    path: Path
    kind: str  # "resource" or "data"
    type_name: str
    name: str
    body: dict = field(repr=False)

    @property
    def address(self) -> str:
        return f"{'data.' if self.kind == 'data' else ''}{self.type_name}.{self.name}"


def typed_blocks(folder: Path) -> Iterator[TypedBlock]:
    """Every resource and data block in the ``.tf`` files directly in ``folder``."""
    for path in sorted(folder.glob("*.tf")):
        parsed = parse_file(path)
        for kind in ("resource", "data"):
            for body in parsed.get(kind, []):
                for type_label, named in body.items():
                    if type_label in PARSER_KEYS:
                        continue
                    for name, block_body in named.items():
                        if name not in PARSER_KEYS:
                            yield TypedBlock(path, kind, unquote(type_label), unquote(name), block_body)


def _is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return f"rename it to '{close[0]}'" if close else "remove it (see the provider's documentation for what replaces it)"


def _body_problems(where: str, body: dict, node: Schema, top_level: bool) -> Iterator[str]:
    attributes, blocks = node["attributes"], node["blocks"]
    aliases = node.get("aliases", {})
    present: set[str] = set()
    for key, value in body.items():
        if key in PARSER_KEYS:
            continue
        key = aliases.get(key, key)
        if top_level and key in META_ARGUMENTS | META_BLOCKS - {"dynamic"}:
            continue
        if key in node.get("deprecated", {}):
            yield f"{where}: '{key}' is deprecated: {node['deprecated'][key]}"
        if key == "dynamic" and isinstance(value, list):
            for dynamic in value:
                for label, inner in dynamic.items():
                    if label in PARSER_KEYS:
                        continue
                    block_name = aliases.get(unquote(label), unquote(label))
                    present.add(block_name)
                    if block_name not in blocks:
                        yield (
                            f"{where}: dynamic \"{block_name}\" generates a block the schema does not have here: "
                            f"{_suggest(block_name, blocks)}"
                        )
                        continue
                    for content in inner.get("content", []):
                        yield from _body_problems(f"{where} > {block_name}", content, blocks[block_name]["nested"], False)
            continue
        present.add(key)
        if key in blocks:
            if not _is_block(value):
                yield f"{where}: '{key}' is a nested block: write it as `{key} {{ ... }}` instead of `{key} = ...`"
                continue
            for item in value:
                yield from _body_problems(f"{where} > {key}", item, blocks[key]["nested"], False)
        elif key in attributes:
            if _is_block(value):
                yield f"{where}: '{key}' is an argument, not a block: write it as `{key} = {{ ... }}`"
        else:
            yield f"{where}: unknown argument or block '{key}': {_suggest(key, attributes.keys() | blocks.keys())}"
    for name, required in attributes.items():
        if required and name not in present:
            yield f"{where}: required argument '{name}' is missing: add `{name} = ...`"
    for name, spec in blocks.items():
        if spec["required"] and name not in present:
            yield f"{where}: required block '{name}' is missing: add `{name} {{ ... }}`"


def schema_problems(folder: Path, schemas: dict[str, Schema | None]) -> list[str]:
    """Findings for every resource and data block in ``folder`` (one module folder).

    ``schemas`` comes from ``load_schemas``; blocks of providers it has no entry for are
    skipped. Each finding reads ``<folder>/<file>: <block path>: <problem>: <fix>``.
    """
    problems: list[str] = []
    for block in typed_blocks(folder):
        key = f"{block.kind}.{block.type_name}"
        if key not in schemas:
            continue
        where = f"{folder.name}/{block.path.name}: {block.kind} \"{block.type_name}\" \"{block.name}\""
        schema = schemas[key]
        if schema is None:
            problems.append(f"{where}: the provider has no {block.kind} type '{block.type_name}': check the type name")
            continue
        problems += _body_problems(where, block.body, schema, True)
    return problems


# --- required_providers -------------------------------------------------------------------------------


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-")[0]))


def admits(constraint: str, version: str) -> bool:
    """Whether a Terraform version constraint (``">= 1.50, < 2.0"``, ``"~> 4.9"``) admits ``version``.

    Rules: https://developer.hashicorp.com/terraform/language/expressions/version-constraints
    (missing parts count as zero; ``~> X.Y`` allows only the rightmost part to grow).
    """
    have = _version_tuple(version)
    for clause in constraint.split(","):
        match = re.fullmatch(r"\s*(>=|<=|!=|~>|>|<|=)?\s*v?([\d.]+)\s*", clause)
        if not match:
            raise ValueError(f"not a Terraform version constraint: {clause!r} in {constraint!r}")
        operator, wanted = match.group(1) or "=", _version_tuple(match.group(2))
        width = max(len(wanted), len(have))
        ours, theirs = have + (0,) * (width - len(have)), wanted + (0,) * (width - len(wanted))
        if operator == "~>":
            fixed = len(wanted) - 1 if len(wanted) > 1 else 0
            ok = ours >= theirs and ours[:fixed] == theirs[:fixed]
        else:
            ok = {
                "=": ours == theirs, "!=": ours != theirs, ">": ours > theirs,
                ">=": ours >= theirs, "<": ours < theirs, "<=": ours <= theirs,
            }[operator]
        if not ok:
            return False
    return True


def required_provider_constraints(folder: Path) -> Iterator[tuple[str, str, str]]:
    """(file name, provider name, version constraint) for each ``required_providers`` entry."""
    for path in sorted(folder.glob("*.tf")):
        for terraform in parse_file(path).get("terraform", []):
            for required in terraform.get("required_providers", []):
                for name, spec in required.items():
                    if name not in PARSER_KEYS and isinstance(spec, dict) and "version" in spec:
                        yield path.name, name, unquote(str(spec["version"]))


def constraint_problems(folder: Path) -> list[str]:
    """``required_providers`` constraints in ``folder`` that exclude the provider version checked."""
    problems = []
    for file_name, provider, constraint in required_provider_constraints(folder):
        if provider in PROVIDER_PACKAGES:
            checked = provider_version(provider)
            if not admits(constraint, checked):
                problems.append(
                    f"{folder.name}/{file_name}: required_providers.{provider} version \"{constraint}\" excludes "
                    f"{checked}, the version whose schema is checked: widen the constraint to admit it"
                )
    return problems

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

What ``schema_problems`` reports, each finding naming the file, the block path and the fix:
- an argument or nested block the schema does not have at that nesting level (a misspelling,
  or an argument the provider removed or only computes);
- a required argument or block that is missing;
- a nested block written as an attribute (``x = {...}``) or an attribute written as a block;
- a resource or data source type the provider does not have.
The schema carries no deprecation flags, so deprecated-but-present arguments are not found
here (the provider prints them at plan time).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import shutil
import subprocess
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
    "google": "@cdktf/provider-google",
}
# Providers the template uses that have no offline schema package (say so rather than pass).
WITHOUT_SCHEMA = {"azuredevops": "no @cdktf/provider-azuredevops package exists", "terraform": "built into Terraform"}

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
    """Version of the Terraform provider whose schema the installed package holds, e.g. '1.99.0'."""
    package = json.loads((PACKAGES_DIR / "node_modules" / PROVIDER_PACKAGES[provider] / "package.json").read_text())
    return package["cdktf"]["provider"]["version"]


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


def _node(types: dict, fqn: str) -> Schema:
    node: Schema = {"attributes": {}, "blocks": {}}
    for prop in types[fqn].get("properties", []):
        name, required = _argument_name(prop), not prop.get("optional", False)
        is_block = prop.get("docs", {}).get("summary", "").endswith(" block.")
        nested = _struct_fqn(prop["type"])
        if is_block and nested:
            node["blocks"][name] = {"required": required, "nested": _node(types, nested)}
        else:
            node["attributes"][name] = required
    return node


def _extract(package: str, wanted: set[tuple[str, str]]) -> dict[str, Schema]:
    """Schemas of ``wanted`` (kind, type) pairs from one package's .jsii, keyed 'resource.TYPE'."""
    types = json.loads((PACKAGES_DIR / "node_modules" / package / ".jsii").read_text())["types"]
    found: dict[str, Schema] = {}
    for fqn, jsii_type in types.items():
        match = _TYPE_DOC.search(jsii_type.get("docs", {}).get("summary", ""))
        if not match or jsii_type.get("kind") != "class":
            continue
        kind = "resource" if match.group(1) == "resources" else "data"
        if (kind, match.group(2)) in wanted and f"{fqn}Config" in types:
            found[f"{kind}.{match.group(2)}"] = _node(types, f"{fqn}Config")
    return found


def load_schemas(wanted: Iterable[tuple[str, str]]) -> dict[str, Schema | None]:
    """Schemas of the given (``resource`` or ``data``, type) pairs, keyed ``'resource.TYPE'``.

    A type the provider does not have maps to None; types of providers without a schema
    package are left out. Installs the packages first (see ``ensure_packages``).
    """
    ensure_packages()
    by_provider: dict[str, set[tuple[str, str]]] = {}
    for kind, type_name in wanted:
        provider = type_name.split("_", 1)[0]
        if provider in PROVIDER_PACKAGES:
            by_provider.setdefault(provider, set()).add((kind, type_name))
    schemas: dict[str, Schema | None] = {}
    _CACHE_DIR.mkdir(exist_ok=True)
    for provider, pairs in by_provider.items():
        package = PROVIDER_PACKAGES[provider]
        cache = _CACHE_DIR / f"{provider}-{provider_version(provider)}.json"
        with FileLock(str(cache) + ".lock"):
            cached = json.loads(cache.read_text()) if cache.exists() else {"schemas": {}, "absent": []}
            missing = {p for p in pairs if f"{p[0]}.{p[1]}" not in cached["schemas"] and f"{p[0]}.{p[1]}" not in cached["absent"]}
            if missing:
                extracted = _extract(package, missing)
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
    present: set[str] = set()
    for key, value in body.items():
        if key in PARSER_KEYS:
            continue
        if top_level and key in META_ARGUMENTS | META_BLOCKS - {"dynamic"}:
            continue
        if key == "dynamic" and isinstance(value, list):
            for dynamic in value:
                for label, inner in dynamic.items():
                    if label in PARSER_KEYS:
                        continue
                    block_name = unquote(label)
                    present.add(block_name)
                    if block_name not in blocks:
                        yield f"{where}: dynamic \"{block_name}\" generates a block the schema does not have here: {_suggest(block_name, blocks)}"
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

"""The one module ``cookiecutter.json`` names in ``_extensions``: it loads the Jinja filters of the
template being rendered. FROZEN: never change this file; see CONTRIBUTING.md ("Template updates").

Why it exists: ``cruft update`` renders two versions of this template in one Python process (the
project's commit, then the new one, checked out in turn into the same folder), and Python serves
every later ``import`` of a module name with the module imported first. A filter module imported by
a plain name would serve the new render with the old version's code (a new derived value then fails
with ``KeyError``: cruft/cruft#253). So this file holds no template logic: each time a Jinja
environment is made it finds the template folder being rendered, imports that folder's
``local_extensions.py`` and ``hooks/`` as a package named after the folder and a digest of their
content, and lets its ``install(environment)`` add the filters; the Jinja hooks of the extensions it
returns (``preprocess``, ``filter_stream``) run through this one. Whichever copy of this file a
process imported first, every render runs its own template's code; that holds only while this
file behaves the same in every release, hence frozen (``tests/test_upgrade_matrix.py`` pins it).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Optional

from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import TokenStream

_ENTRY = "mlops_stack_jinja.py"


def template_folder() -> Path:
    """The template being rendered: the last ``sys.path`` entry holding this file and a
    ``cookiecutter.json`` (cookiecutter and cruft append the template's folder while they render),
    else this file's folder."""
    for entry in reversed(sys.path):
        folder = Path(entry or ".")
        if (folder / _ENTRY).is_file() and (folder / "cookiecutter.json").is_file():
            return folder.resolve()
    return Path(__file__).resolve().parent


def template_module(folder: Path) -> ModuleType:
    """``folder``'s ``local_extensions`` module, imported as ``_mlops_stack_<digest>.local_extensions``
    where the digest covers the folder's path and the content of ``local_extensions.py`` and
    ``hooks/*.py``: a changed file gets a fresh module, an unchanged one is imported once."""
    digest = hashlib.sha256(str(folder).encode())
    for path in sorted([folder / "local_extensions.py", *(folder / "hooks").glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    name = "_mlops_stack_" + digest.hexdigest()[:20]
    if name not in sys.modules:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        sys.modules[name] = importlib.util.module_from_spec(spec)
    return importlib.import_module(name + ".local_extensions")


class TemplateExtensions(Extension):
    """Adds the rendered template's filters to ``environment`` and runs its extensions' hooks.

    ``install(environment)`` returns the extensions it made for ``environment`` (their filters are
    registered by then); Jinja calls only this class's hooks, which pass to theirs in order.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.installed: list[Extension] = list(template_module(template_folder()).install(environment))

    def preprocess(self, source: str, name: Optional[str], filename: Optional[str] = None) -> str:
        for extension in self.installed:
            source = extension.preprocess(source, name, filename)
        return source

    def filter_stream(self, stream: TokenStream) -> TokenStream:
        for extension in self.installed:
            stream = extension.filter_stream(stream)  # type: ignore[assignment]
        return stream

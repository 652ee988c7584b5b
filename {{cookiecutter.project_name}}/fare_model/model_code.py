"""The feature code a logged model carries, under an import name no repository module can take.

A fitted pipeline refers to its feature function (a ``FunctionTransformer``) by module and
name, and whoever loads the model imports that module. MLflow's ``code_paths`` only
*prepends* the logged code to ``sys.path`` (``mlflow.utils.model_utils._add_code_to_system_path``):
a process that has already imported the repository's ``steps`` (every notebook, validation,
the tests) keeps *that* ``model_spec.features``, so an older version would be scored with today's
feature code and validation would compare against a wrong champion.

So the model is built from a copy of ``model_spec/features.py`` imported as
``fare_features_<digest>`` (the first 16 hex digits of the SHA-256 of its source) and logged
with that one file as its code. Versions with different feature code get different names and
load side by side in one process; the same code always gets the same name. The file must
stay self-contained (it imports third-party packages only): it is loaded without the repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Iterator

FEATURE_SOURCE = Path(__file__).resolve().parents[1] / "model_spec" / "features.py"
MODULE_PREFIX = "fare_features_"


@dataclass(frozen=True)
class BundledCode:
    """The imported copy of the feature code and the file to log as the model's ``code_paths``."""

    module: ModuleType
    path: Path


@contextlib.contextmanager
def bundled_feature_code(source: Path = FEATURE_SOURCE) -> Iterator[BundledCode]:
    """``source`` imported under ``fare_features_<digest>`` from a copy in a temporary folder.

    Yields the module (registered in ``sys.modules``, so that the fitted pipeline pickles
    references to it) and the copy's path, to log as the model's code while the context is
    open; the folder is removed on exit, the imported module stays. Raises ``OSError`` when
    ``source`` cannot be read.
    """
    code = source.read_bytes()
    name = f"{MODULE_PREFIX}{hashlib.sha256(code).hexdigest()[:16]}"
    with tempfile.TemporaryDirectory(prefix="fare-model-code-") as folder:
        path = Path(folder) / f"{name}.py"
        path.write_bytes(code)
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        yield BundledCode(module=module, path=path)

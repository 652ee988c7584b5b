"""No generated Python module is dead: something in the project imports or runs each one.

Code left over from another ML track (the Recipes split in an MLflow 3 project, imports of
modules the track does not generate) contradicts the live code and misleads its reader; tests
that keep such a module alive only hide it. One project per ML track is enough: cloud and CI/CD
platform change no module (tests/test_code_signature.py pins that), and each track's CI files
are read as users too. How a use is found: tests/support/module_users.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.module_users import module_use
from tests.support.variants import SUPPORTED_VARIANTS, Variant

# The first supported variant of each ML track (ML code x Unity Catalog).
ONE_PER_TRACK = list({(v.ml_code, v.unity_catalog): v for v in reversed(SUPPORTED_VARIANTS)}.values())


@pytest.fixture(params=ONE_PER_TRACK, ids=[v.id for v in ONE_PER_TRACK])
def variant(request: pytest.FixtureRequest) -> Variant:
    return request.param


def test_every_generated_module_has_a_user(generated_project: Path) -> None:
    use = module_use(generated_project)
    assert use.unresolved == [], "imports of modules this project does not have"
    assert use.unused == [], "modules nothing imports or runs"
    assert use.only_tests == [], "modules only their tests use (dead code kept alive by tests)"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_check_finds_dead_tested_and_missing_modules(tmp_path: Path) -> None:
    """The analysis itself: a notebook's import and a Makefile command are uses; a test is a use of
    helpers only."""
    project = _write(
        tmp_path,
        {
            "notebooks/Train.py": "# Databricks notebook source\nfrom pkg.live import f\n",
            "Makefile": "run:\n\tpython -m pkg.command\n",
            "pkg/__init__.py": "",
            "pkg/live.py": "import pkg.gone\n",
            "pkg/command.py": "",
            "pkg/dead.py": "",
            "pkg/tested.py": "",
            "tests/__init__.py": "",
            "tests/helpers.py": "",
            "tests/test_tested.py": "from pkg.tested import x\nfrom tests.helpers import y\n",
        },
    )
    use = module_use(project)
    assert use.unused == ["pkg/dead.py"]
    assert use.only_tests == ["pkg/tested.py"]
    assert use.unresolved == ["pkg/live.py: import pkg.gone"]

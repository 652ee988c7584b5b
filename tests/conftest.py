"""Fixtures shared by the template's tests.

``generated_project`` is the one way a test gets a project: parametrise the test (or
use the ``variant`` fixture) over ``SUPPORTED_VARIANTS`` and ask for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.generation import generate_variant
from tests.support.variants import SUPPORTED_VARIANTS, Variant


@pytest.fixture(scope="session")
def _generated_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[Variant, Path]:
    """Cache of generated projects: each variant is generated once per test session (per worker)."""
    return {}


@pytest.fixture(params=SUPPORTED_VARIANTS, ids=[v.id for v in SUPPORTED_VARIANTS])
def variant(request: pytest.FixtureRequest) -> Variant:
    """Every supported variant, with readable ids such as ``aws-github-nofs``."""
    return request.param


@pytest.fixture
def generated_project(
    variant: Variant, _generated_projects: dict[Variant, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A project generated for ``variant`` with the test answers; treat it as read-only."""
    if variant not in _generated_projects:
        _generated_projects[variant] = generate_variant(tmp_path_factory.mktemp(variant.id), variant)
    return _generated_projects[variant]

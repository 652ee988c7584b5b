"""Test options for the template repo: ``--large`` and ``--large-only``.

Large tests install packages, run the generated projects' own tests and pipelines, or
call linters on every variant. ``pytest tests`` skips them and says how to run them.
"""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--large", action="store_true", default=False, help="also run tests marked 'large'")
    parser.addoption("--large-only", action="store_true", default=False, help="run only tests marked 'large'")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "large: slow test; run with --large or --large-only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    large = config.getoption("--large")
    large_only = config.getoption("--large-only")
    skip_large = pytest.mark.skip(reason="large test: run with 'pytest tests --large' (or --large-only)")
    skip_small = pytest.mark.skip(reason="not a large test, and --large-only was given")
    for item in items:
        is_large = "large" in item.keywords
        if is_large and not (large or large_only):
            item.add_marker(skip_large)
        elif not is_large and large_only:
            item.add_marker(skip_small)

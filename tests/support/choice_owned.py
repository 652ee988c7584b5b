"""Which parts of the template's own test set-up belong to which answer, for ``make specialize``.

``TEST_OWNERS`` maps a ``(prompt, choice)`` to repository paths (tests, their support modules,
tool folders) that only that choice uses; ``NPM_OWNERS`` to ``"<folder>:<npm package>"`` entries of
a test tool's ``package.json``. Same shape and rule as ``OWNERS`` in hooks/pruning.py: when a fork
fixes the prompt to another answer, scripts/specialize.py deletes the paths and packages, and
removes the rows. Add a row with a test file that only one choice needs.

Tests tied to one choice inside a shared file are dropped at collection instead
(``pytest_collection_modifyitems`` below): mark them ``@pytest.mark.choice(cloud="gcp")`` when they
need the prompt itself (they type or refuse answers to it), ``@pytest.mark.answers(cloud="gcp")``
when they only generate with that answer (a fork that fixed cloud to gcp keeps them), or give
them a ``Variant`` or a choice string (``"gcp"``, ``"GitLab"``) as a parameter; a test whose marker
or parameters need an answer the template cannot take any more is deselected, with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import pytest

from tests.support.variants import ALL_VARIANTS, FIXED_ANSWERS, Variant, choices

TEST_OWNERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("cicd_platform", "Azure DevOps"): (
        "tests/test_azure_devops_credentials.py",
        "tests/test_azure_deploy_run_name.py",
    ),
    ("cicd_platform", "GitLab"): (
        "tests/test_gitlab.py",
        "tests/support/gitlab_ci_local.py",
        "tests/gitlab-ci-local",
    ),
}

_SCHEMAS = "tests/terraform-schemas"
NPM_OWNERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("cloud", "aws"): (f"{_SCHEMAS}:@cdktf/provider-aws",),
    ("cloud", "azure"): (f"{_SCHEMAS}:@cdktf/provider-azurerm",),
    ("cloud", "gcp"): (f"{_SCHEMAS}:@cdktf/provider-google",),
    ("cicd_platform", "GitHub Actions"): (f"{_SCHEMAS}:@cdktf/provider-github",),
    ("cicd_platform", "GitLab"): (f"{_SCHEMAS}:@cdktf/provider-gitlab",),
}

# The prompts whose choices a test may name as a plain string parameter (yes/no are too common).
_NAMED_CHOICE_PROMPTS = ("cloud", "cicd_platform")


def removed_choices() -> dict[str, str]:
    """Choice -> prompt, for every choice of ``_NAMED_CHOICE_PROMPTS`` the template no longer offers."""
    every = {"cloud": ["azure", "aws", "gcp"], "cicd_platform": ["GitHub Actions", "Azure DevOps", "GitLab"]}
    return {
        choice: prompt for prompt in _NAMED_CHOICE_PROMPTS for choice in every[prompt]
        if choice not in choices(prompt)
    }


def _values(value: Any) -> Iterable[Any]:
    if isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    else:
        yield value


def unavailable(answers: dict[str, str], params: dict[str, Any], generates: dict[str, str] | None = None) -> str | None:
    """Why a test with marker answers ``answers`` and parameters ``params`` cannot run on this
    template (a specialised fork), or None. A marker needs each prompt it names to be asked and to
    offer the value. Parameters count when they are a ``Variant`` of a removed choice, a removed
    cloud or CI/CD platform, or answers (a dict, or ``name=value`` text joined by ``+``) that
    contradict a fixed answer. ``generates`` (the ``answers`` marker) needs each value to be a choice
    or the fixed answer of its prompt."""
    for prompt, value in (generates or {}).items():
        if value not in choices(prompt):
            return f"generates with {prompt}={value!r}, which this template no longer offers"
    for prompt, value in answers.items():
        if prompt in FIXED_ANSWERS:
            return f"needs the prompt {prompt}, which this template fixes to {FIXED_ANSWERS[prompt]!r}"
        if value not in choices(prompt):
            return f"needs {prompt}={value!r}, which this template no longer offers"
    gone = removed_choices()
    for answers_given in (v for v in params.values() if isinstance(v, dict)):  # answers a test generates with
        for name, answer in answers_given.items():
            if name in FIXED_ANSWERS and answer != FIXED_ANSWERS[name]:
                return f"answers {answers_given}: {name} is fixed to {FIXED_ANSWERS[name]!r}"
    for value in _values(params):
        if isinstance(value, Variant) and value not in ALL_VARIANTS:
            return f"variant {value.id} uses an answer this template no longer offers"
        if isinstance(value, str):
            for pair in value.split("+"):  # "cloud=gcp", "include_feature_store=yes+include_mlflow_recipes=no"
                name, equals, answer = pair.partition("=")
                if equals and name in FIXED_ANSWERS and answer != FIXED_ANSWERS[name]:
                    return f"parameter {value!r}: {name} is fixed to {FIXED_ANSWERS[name]!r}"
            text = value.split("=", 1)[1] if "=" in value and value.split("=", 1)[0] in gone.values() else value
            if text in gone:
                return f"parameter {value!r}: {gone[text]}={text!r} is no longer offered"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "choice(**answers): the test needs these prompts offering these choices (dropped in a fork that fixes them)")
    config.addinivalue_line(
        "markers", "answers(**answers): the test generates with these answers (dropped in a fork that no longer offers one)")


# scripts/specialize.py sets it to a file: collection writes there the tests that got an empty
# parameter set (the node ids), which it then deletes, instead of refusing them.
EMPTY_PARAMETER_SETS_ENV = "SPECIALIZE_EMPTY_PARAMETER_SETS"


def has_empty_parameter_set(item: pytest.Item) -> bool:
    """pytest's mark for a test parametrised over nothing (a fork removed every value it ran on)."""
    return any(str(m.kwargs.get("reason", "")).startswith("got empty parameter set") for m in item.iter_markers("skip"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests that need answers a specialised template no longer offers. A test whose
    parameters a fork removed entirely would pass without checking anything: make specialize
    deletes it (``EMPTY_PARAMETER_SETS_ENV``), and a fork's collection refuses one that is left."""
    empty = [item.nodeid for item in items if has_empty_parameter_set(item)]
    report = os.environ.get(EMPTY_PARAMETER_SETS_ENV)
    if report:
        Path(report).write_text("".join(f"{nodeid}\n" for nodeid in empty))
    elif empty and FIXED_ANSWERS:
        raise pytest.UsageError(
            "tests parametrised over no value in this specialised template (they would check nothing): "
            + ", ".join(empty) + "; delete them, or own their file by the choice in TEST_OWNERS")
    if not FIXED_ANSWERS and not removed_choices():
        return
    keep, drop = [], []
    for item in items:
        answers: dict[str, str] = {}
        generates: dict[str, str] = {}
        for marker in item.iter_markers("choice"):
            answers.update(marker.kwargs)
        for marker in item.iter_markers("answers"):
            generates.update(marker.kwargs)
        params = getattr(getattr(item, "callspec", None), "params", {})
        (drop if unavailable(answers, params, generates) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

"""Answers that a specialised fork fixes for good (``make specialize``, scripts/specialize.py).

A fork that keeps one cloud or one CI/CD platform stops asking that prompt: the prompt leaves
``cookiecutter.json`` and its answer moves to the private table ``_fixed_answers`` there
(``{"cloud": "aws"}``). The template's files no longer read it (specialisation evaluated every
use away), but the hooks, the validation rules and the ``derived`` filter still reason about
every answer: they read the context through ``with_fixed_answers``.

This module must stay import-light: it runs inside every generation.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

FIXED_ANSWERS_KEY = "_fixed_answers"


def fixed_answers(context: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed answers of a cookiecutter context (empty for the unspecialised template)."""
    table = context.get(FIXED_ANSWERS_KEY) or {}
    return dict(table) if isinstance(table, Mapping) else {}


def with_fixed_answers(context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` with the fixed answers added, as if they had been answered; the fixed value
    wins over a stale one (a replay or ``.cruft.json`` from before the fork was specialised),
    which ``check_fixed_answers`` reports."""
    return {**context, **fixed_answers(context)}


def check_fixed_answers(context: Mapping[str, Any]) -> Optional[str]:
    """An answer given for a fixed prompt must equal the fixed value; None when none differs.

    The message names the parameter, the value and the only valid one, e.g. ``cloud 'gcp' ...``."""
    fixed = fixed_answers(context)
    for name, value in fixed.items():
        if name in context and context[name] != value:
            return (
                f"{name} '{context[name]}' is not available: this template is specialised to {name}='{value}' "
                f"(_fixed_answers in its cookiecutter.json). Leave {name} out or pass {name}={value}."
            )
    return None

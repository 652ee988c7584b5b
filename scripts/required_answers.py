"""Answers that ``--no-input`` generation needs because a prompt's default is refused.

A fork may add a prompt that has no valid default, e.g. ``"cluster_policy_id": ""`` with a rule in
hooks/validation.py that refuses an empty value. ``cookiecutter --no-input`` then stops, and so
would every test helper and ``make demo``, which generate with partial answers. The answer each
of them supplies is the prompt's example value, ``EXAMPLES`` in hooks/validation.py (the value the
refusal messages show), so a new required prompt needs a rule and an example, nothing else.

    python scripts/required_answers.py          # name=value words, shell-quoted (make demo)
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

REPO = Path(__file__).resolve().parents[1]


class MissingExample(LookupError):
    """A prompt whose default is refused has no example value to answer it with."""


def default_answers(cookiecutter_json: Mapping[str, Any], overrides: Mapping[str, str],
                    render: Callable[[Any, Mapping[str, Any]], Any]) -> dict[str, Any]:
    """The context ``cookiecutter --no-input`` builds: each prompt's and private setting's default
    rendered (``render``: hooks/validation.py's ``render_default``) in order, ``overrides`` first."""
    answers: dict[str, Any] = {}
    for key, default in cookiecutter_json.items():
        if key.startswith("__"):
            continue
        if key in overrides:
            answers[key] = overrides[key]
        elif key.startswith("_"):
            answers[key] = default
        else:
            answers[key] = render(default, answers)
    return answers


def required_answers(cookiecutter_json: Mapping[str, Any], examples: Mapping[str, str],
                     refused: Callable[[Mapping[str, Any]], set[str]],
                     render: Callable[[Any, Mapping[str, Any]], Any],
                     given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The example answer of every prompt whose default is refused along with ``given``.

    ``refused(context)`` names the parameters the validation rules refuse. Raises
    ``MissingExample`` naming a refused prompt that ``examples`` lacks."""
    given = dict(given or {})
    chosen: dict[str, str] = {}
    for _ in range(len(cookiecutter_json)):
        context = default_answers(cookiecutter_json, {**chosen, **given}, render)
        refusals = refused(context)
        names = [n for n in cookiecutter_json if n in refusals and n not in given and n not in chosen]
        if not names:
            return chosen
        answerable = [name for name in names if name in examples]
        if not answerable:  # a refusal that follows from another answer would have gone by now
            name = names[0]
            raise MissingExample(
                f"prompt {name!r} has no valid default and no example: add {name!r} to EXAMPLES in "
                f"hooks/validation.py, e.g. EXAMPLES[{name!r}] = \"<a valid value>\"")
        chosen.update({name: examples[name] for name in answerable})
    return chosen


def for_repo(repo: Path = REPO, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """``required_answers`` of the template at ``repo``, with its own rules and examples."""
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from cookiecutter import __version__

    from hooks import validation

    cookiecutter_json = json.loads((repo / "cookiecutter.json").read_text())

    def refused(context: Mapping[str, Any]) -> set[str]:
        problems = validation.find_problems(context, __version__)
        return validation.problem_parameters(problems, context)

    return required_answers(cookiecutter_json, validation.EXAMPLES, refused, validation.render_default, given)


def main(argv: Sequence[str]) -> int:
    try:
        answers = for_repo()
    except MissingExample as error:
        print(f"required_answers: {error}", file=sys.stderr)
        return 2
    print(" ".join(shlex.quote(f"{name}={value}") for name, value in answers.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Jinja filters that the template's files and ``cookiecutter.json`` use.

``cookiecutter.json`` names only ``mlops_stack_jinja.TemplateExtensions``, which imports this file
under a name unique to its content and calls ``install``: a process that rendered another version
of the template first (``cruft update`` does) still gets this version's filters. For the same
reason this module reaches the helpers in ``hooks/`` through ``_hooks``, relative to its own
package, never as a top-level ``hooks`` (see CONTRIBUTING.md, "Template updates").
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from types import FrameType, ModuleType
from typing import Mapping, MutableMapping, Optional, Sequence

import cookiecutter
from cookiecutter.exceptions import FailedHookException
from cookiecutter.utils import simple_filter
from jinja2 import Environment
from jinja2.ext import Extension


def _hooks(name: str) -> ModuleType:
    """The module ``hooks/<name>.py`` of this template: relative to this module's package when
    ``mlops_stack_jinja`` imported it, else the top-level ``hooks`` package (tests, old replays)."""
    return importlib.import_module(f"{__package__}.hooks.{name}" if __package__ else f"hooks.{name}")


DOC_BASE_URLS = {
    "aws": "https://docs.databricks.com",
    "azure": "https://learn.microsoft.com/azure/databricks",
    "gcp": "https://docs.gcp.databricks.com",
}
# Pages whose Azure path is not simply the AWS path without ".html".
AZURE_PATH_OVERRIDES = {"repos/set-up-git-integration.html": "repos/repos-setup"}


def doc_link(path: str, cloud: str) -> str:
    """The Databricks documentation URL of ``path`` (an AWS-style docs path) for ``cloud``."""
    path = path.lstrip("/")
    if cloud == "azure":
        page, _, anchor = path.partition("#")
        if page in AZURE_PATH_OVERRIDES:
            page = AZURE_PATH_OVERRIDES[page]
        elif page == "index.html" or page.endswith("/index.html"):
            page = page[: -len("index.html")]  # Learn serves section index pages at the folder URL
        else:
            page = page.replace(".html", "")
        path = f"{page}#{anchor}" if anchor else page
    return f"{DOC_BASE_URLS[cloud]}/{path}"


@simple_filter
def generate_doc_link(path: str, cloud: str) -> str:
    return doc_link(path, cloud)


@simple_filter
def regex_replace(value: str, pattern: str, replacement: str) -> str:
    return re.sub(pattern, replacement, value)


@simple_filter
def derived(answers: Mapping[str, str], name: str) -> str:
    """A value derived from the answers, e.g. ``{{ cookiecutter | derived("model_name") }}``.

    See ``hooks/derived.py``: derived values are computed at every use, never stored, so a
    replayed or edited context cannot hand the template a stale one.
    """
    return _hooks("derived").derived_value(_hooks("fixed_answers").with_fixed_answers(answers), name)


@simple_filter
def from_json(text: str) -> object:
    """The value of a JSON text, e.g. a table of the template that templates and tests both read:
    ``{% set pins %}{% include "cicd/action_pins.json" %}{% endset %}{{ (pins | from_json)[...] }}``.
    Raises ``json.JSONDecodeError`` on text that is not JSON."""
    return json.loads(text)


@simple_filter
def environments(answers: Mapping[str, str], role: Optional[str] = None) -> list[dict[str, object]]:
    """The project's environments (``hooks/environments.py``) with their values for the answers,
    e.g. ``{% for env in cookiecutter | environments("deploy") %}{{ env.name }}: {{ env.host }}``.

    See ``hooks.derived.environments`` for the keys of each environment and the roles.
    """
    return _hooks("derived").environments(_hooks("fixed_answers").with_fixed_answers(answers), role)


@simple_filter
def environment_names(answers: Mapping[str, str], *roles: str) -> list[str]:
    """The names of the environments of ``roles`` (``hooks/environments.py``), role by role in the
    order given, each in table order: ``cookiecutter | environment_names("deploy", "ci")`` is
    ``["staging", "prod", "test"]``. Raises ``ValueError`` for an unknown role."""
    return [name for role in roles for name in _hooks("environments").names(role)]


@simple_filter
def template_path(relative: str) -> str:
    """Absolute path of a file of this template, for hooks that run from a temporary copy."""
    return str(Path(__file__).resolve().parent / relative)


class AnswersRefused(FailedHookException):
    """Raised when answers are refused; ``message`` holds every problem and the retry command.

    The message is printed on stderr before raising. cookiecutter's command line echoes the
    exception on stdout, so its text is only a pointer to that message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return "Generation refused: fix the answers listed above."


_TEMPLATE_FOLDER = Path(__file__).resolve().parent


def _this_template(here: Path = _TEMPLATE_FOLDER) -> str:
    """This template's folder, for the retry command while ``_template`` is not in the context yet
    (prompt time). A clone in a folder made by ``tempfile.mkdtemp`` (cruft clones there) will be
    gone, so the command then shows a placeholder instead; a user's own checkout elsewhere under
    the temporary directory keeps its path."""
    return "<template>" if _hooks("cruft_record").in_temporary_clone(here) else str(here)


def command_line_program(argv: Sequence[str]) -> Optional[str]:
    """``cookiecutter`` or ``cruft`` when ``argv`` (``sys.argv``) is that program's command line
    (its script, or ``python -m`` of it); None from the Python API, where callers want an exception."""
    if not argv:
        return None
    path = Path(argv[0])
    name = path.parent.name if path.name == "__main__.py" else path.name
    return name if name in ("cookiecutter", "cruft") else None


def command_line_answers(argv: Sequence[str]) -> list[str]:
    """The names of the ``name=value`` answers on cookiecutter's command line ``argv``."""
    return [arg.split("=", 1)[0] for arg in argv[1:] if "=" in arg and not arg.startswith("-")]


def _option(argv: Sequence[str], option: str) -> Optional[str]:
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def config_file_problems(context: Mapping[str, object], argv: Sequence[str]) -> list[str]:
    """A config file's answers that cookiecutter dropped (``check_config_answers_applied``), when
    ``argv`` is a ``cookiecutter --no-input`` command line that reads one (``--config-file``, or the
    user config cookiecutter finds itself). Interactive runs and replays are left alone: there the
    answers may differ from the file on purpose."""
    if command_line_program(argv) != "cookiecutter" or "--no-input" not in argv or "--default-config" in argv \
            or any(arg.startswith("--replay") for arg in argv):
        return []
    from cookiecutter.config import get_user_config

    check_config_answers_applied = _hooks("validation").check_config_answers_applied

    try:
        config = get_user_config(config_file=_option(argv, "--config-file"))
    except Exception:  # noqa: BLE001 - cookiecutter has read it already; never fail on a second read
        return []
    overridden = set(command_line_answers(argv))
    config_answers = {k: v for k, v in (config.get("default_context") or {}).items() if k not in overridden}
    problem = check_config_answers_applied(config_answers, context)
    return [problem] if problem else []


_warned_unknown: set[str] = set()


def warn_unknown_answers(context: Mapping[str, object], argv: Sequence[str]) -> None:
    """On cookiecutter's command line, name on stderr (once) each ``name=value`` the template lacks."""
    unknown_names = _hooks("validation").unknown_names
    if command_line_program(argv) != "cookiecutter":
        return
    for name in unknown_names(command_line_answers(argv), context):
        if name not in _warned_unknown:
            _warned_unknown.add(name)
            print(f"Ignored {name}=...: this template has no prompt named '{name}' (see its README's prompt table).",
                  file=sys.stderr)


def refuse_bad_answers(context: Mapping[str, object], argv: Sequence[str] = (), so_far: bool = False) -> None:
    """Print every problem and how to run again on stderr, then stop: ``AnswersRefused`` from the
    Python API; exit status 1 from the command line (``argv`` is ``sys.argv``), since cookiecutter
    would echo an exception on stdout and cruft would print a traceback.

    ``context`` is the cookiecutter context (answers plus cookiecutter's ``_`` keys). After
    cookiecutter, the message ends with a command that repeats the answers the user gave (those
    that differ from their defaults) with the refused ones marked; after cruft, with a cruft command.
    With ``so_far``, ``context`` holds the answers given up to a prompt: the config-file check,
    which needs every answer, waits for the end.
    """
    import json

    validation = _hooks("validation")
    cruft_retry_hint, format_problems = validation.cruft_retry_hint, validation.format_problems
    problems = validation.find_problems(context, cookiecutter.__version__)
    problems += [] if so_far else config_file_problems(context, argv)
    if not problems:
        return
    program = command_line_program(argv)
    if program == "cruft":
        subcommand = next((a for a in argv[1:] if not a.startswith("-")), "")
        bad = validation.problem_parameters(problems, context)
        message = format_problems(problems) + "\n" + cruft_retry_hint(subcommand, bad, context)
    else:
        template = str(context.get("_template") or _this_template())
        defaults = json.loads((_TEMPLATE_FOLDER / "cookiecutter.json").read_text())
        output_dir = (_option(argv, "--output-dir") or _option(argv, "-o")) if program == "cookiecutter" else None
        message = format_problems(problems, context, template, defaults, output_dir)
    print(message, file=sys.stderr)
    if program:
        raise SystemExit(1)
    raise AnswersRefused(message)


def cruft_private_answers(frame: Optional[FrameType] = None) -> dict[str, str]:
    """The private answers (``hooks.derived.PRIVATE_ANSWERS``) of the project that cruft renders the
    template for, when a caller up the stack of ``frame`` (default: this call) is cruft's
    ``_generate_output``; else none.

    cruft diff and update render the template from ``.cruft.json`` but pass cookiecutter only the
    answers without a leading ``_`` (cruft 2.16, cruft/cruft#306 and #341), so private answers would
    fall back to their defaults and updates would undo them. ``_generate_output`` holds the project's
    ``cruft_state``, with ``--variables-to-update`` applied for the new render: its values are the ones
    the user gave. Should a later cruft pass them itself, they arrive as overrides and this finds
    the same values.
    """
    names = _hooks("derived").PRIVATE_ANSWERS
    frame = frame or sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_generate_output" and str(frame.f_globals.get("__name__", "")).startswith("cruft."):
            state = frame.f_locals.get("cruft_state")
            stored = state.get("context", {}).get("cookiecutter", {}) if isinstance(state, dict) else {}
            return {name: stored[name] for name in names if isinstance(stored.get(name), str)}
        frame = frame.f_back
    return {}


def carry_private_answers(context: MutableMapping[str, object]) -> None:
    """Put the project's private answers into cookiecutter's answers (``context``) while cruft
    renders for diff or update (see ``cruft_private_answers``), before anything reads them."""
    context.update(cruft_private_answers())


def normalise_answers(context: MutableMapping[str, object]) -> None:
    """Write yes/no answers (``YES_NO_PROMPTS``) in a usual spelling (``Yes``, ``y``, ``true``) as
    ``yes`` or ``no`` into cookiecutter's answers, before any file or rule reads them."""
    validation = _hooks("validation")
    for name in validation.YES_NO_PROMPTS:
        value = context.get(name)
        if isinstance(value, str) and validation.yes_or_no(value):
            context[name] = validation.yes_or_no(value)


@simple_filter
def checked_so_far(context: MutableMapping[str, object]) -> str:
    """Check the answers given so far; renders as nothing. ``cookiecutter.json`` starts the default
    of each prompt that follows a text prompt with it (cookiecutter renders a prompt's default with
    the answers before it, just before asking): a wrong answer is refused right after its prompt,
    not after the last one. Choice prompts' options stay literal, so the answer before a choice is
    checked at the next text prompt. Runs only when someone types the answers (a terminal, no
    ``--no-input``, not cruft): answers from a file or the command line are all judged at once at
    the end, so that one run lists every problem."""
    argv = sys.argv
    if "--no-input" in argv or command_line_program(argv) == "cruft" or not sys.stdin.isatty():
        return ""
    normalise_answers(context)
    refuse_bad_answers(context, argv, so_far=True)
    return ""


@simple_filter
def check_answers(context: Mapping[str, object]) -> str:
    """Validate the answers while cookiecutter renders its private variables.

    This runs before cookiecutter creates any folder, so a refused answer leaves
    nothing on disk, not even the parent folders a '/' in project_name would create.
    Replays and cruft's stored contexts skip this rendering: ``CheckAnswersBeforeWriting``
    checks those. Under cruft's diff and update it first restores the project's private answers
    (``carry_private_answers``): cookiecutter's answers are this very mapping.
    """
    if isinstance(context, MutableMapping):
        carry_private_answers(context)
        normalise_answers(context)
    warn_unknown_answers(context, sys.argv)
    refuse_bad_answers(context, sys.argv)
    return "yes"


class CheckAnswersBeforeWriting(Extension):
    """Check the answers before cookiecutter creates the project folder, whatever started it.

    A replay file or cruft's stored context hands cookiecutter already-rendered answers, so
    ``check_answers`` never runs, and the pre-generation hook runs only after the output
    folder and the project folder (and any parents a '/' in project_name makes) exist. The
    first thing cookiecutter renders in every route is the project folder's name: this
    extension prefixes that one template with a call to ``check_answers``, which renders as
    nothing or refuses before anything touches the disk.
    """

    PROJECT_FOLDER = "{{cookiecutter.project_name}}"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.setdefault("check_answers", check_answers)

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if source == self.PROJECT_FOLDER and name is None:
            return "{{ (cookiecutter | check_answers)[:0] }}" + source
        return source


def install(environment: Environment) -> list[Extension]:
    """Make this module's extensions for ``environment`` (each registers its filters) and return
    them. ``mlops_stack_jinja`` calls this for every Jinja environment cookiecutter makes and runs
    the returned extensions' ``preprocess`` and ``filter_stream`` (Jinja tags are not passed on);
    keep the name, signature and return value: every released ``mlops_stack_jinja`` relies on them."""
    return [extension(environment) for extension in (generate_doc_link, regex_replace, from_json, template_path, check_answers,
                                                     checked_so_far, derived, environments, environment_names,
                                                     CheckAnswersBeforeWriting)]

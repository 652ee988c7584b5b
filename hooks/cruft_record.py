"""Record the answers and the template's version in cruft's format (``.cruft.json``).

``cruft create`` writes ``.cruft.json`` itself; a project made with plain ``cookiecutter``
gets the same file from the post-generation hook, so ``cruft check`` and ``cruft update``
work on every generated project. The format is cruft's own (cruft 2.16: ``template``,
``commit``, ``checkout``, ``context``, ``directory``).

This module must stay import-light: it runs inside every generation.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Mapping, Optional

CRUFT_FILE = ".cruft.json"
# Keys cookiecutter adds that describe one machine's run, not the project: cruft leaves them out.
_RUN_ONLY_KEYS = ("_output_dir", "_repo_dir", "_checkout")


def made_by_cruft(context: Mapping[str, Any]) -> bool:
    """cruft adds ``_commit`` to the context it generates from (create, check, update, diff)."""
    return "_commit" in context


def in_temporary_clone(path: Path) -> bool:
    """Whether ``path`` lies in a folder made by ``tempfile.mkdtemp`` (``<tmp>/tmp<random>/...``),
    as cruft's clones of the template and its check/diff/update outputs do: gone after the run.
    A user's own folder elsewhere under the temporary directory does not count."""
    import tempfile

    temporary = Path(tempfile.gettempdir()).resolve()
    path = path.resolve()
    return path.is_relative_to(temporary) and path != temporary and path.relative_to(temporary).parts[0].startswith("tmp")


def _git(repo_dir: Path, *args: str) -> Optional[str]:
    try:
        result = subprocess.run(["git", "-C", str(repo_dir), *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip() or None


def template_source(template: str, repo_dir: Path) -> str:
    """Where cruft can clone the template from.

    ``template`` is what the user gave cookiecutter; ``repo_dir`` is the folder cookiecutter
    read it from. A local folder is recorded as its absolute path (as ``cruft create`` does);
    a remote one (cloned by cookiecutter, maybe from an abbreviation such as ``gh:org/repo``)
    as the clone's ``origin`` URL.
    """
    if not _is_remote(template):
        # A local path may be relative to where cookiecutter ran ('cookiecutter .'), which the
        # hooks do not know: ``repo_dir`` is that same folder, made absolute.
        return str(repo_dir.resolve())
    return _git(repo_dir, "remote", "get-url", "origin") or template


def _is_remote(template: str) -> bool:
    """A URL or one of cookiecutter's abbreviations (``gh:``, ``gl:``, ``bb:``), not a local folder."""
    return "://" in template or template.startswith(("gh:", "gl:", "bb:", "git@", "git+"))


def cruft_state(context: Mapping[str, Any], repo_dir: Path) -> dict[str, Any]:
    """The content of ``.cruft.json`` for a project generated with ``context`` from ``repo_dir``.

    ``commit`` is the template's git commit (``None`` when the template is not a git working
    tree; ``cruft link`` can record one later).
    """
    template = template_source(str(context.get("_template", repo_dir)), repo_dir)
    commit = _git(repo_dir, "rev-parse", "HEAD")
    # In cruft's order: cookiecutter.json's keys first (the hooks get the context with sorted keys).
    order = [*json.loads((repo_dir / "cookiecutter.json").read_text()), *context]
    answers = {k: context[k] for k in dict.fromkeys(order) if k in context and k not in _RUN_ONLY_KEYS}
    answers.update({"_template": template, "_commit": commit})
    return {
        "template": template,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": answers},
        "directory": None,
    }


def write_cruft_file(project: Path, context: Mapping[str, Any], repo_dir: Path) -> None:
    """Write ``.cruft.json`` into ``project`` as cruft does (2-space JSON, trailing newline).

    Regenerating over a project keeps the ``skip`` list (paths ``cruft update`` leaves alone)
    of the ``.cruft.json`` already there: that list is the team's, not the template's.
    """
    state = cruft_state(context, repo_dir)
    path = project / CRUFT_FILE
    try:
        skip = json.loads(path.read_text()).get("skip")
    except (OSError, ValueError, AttributeError):
        skip = None
    if skip:
        state["skip"] = skip
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": "))
    path.write_text(text + "\n")

"""stack-customization.md names only what exists: every path, identifier and make command in its
backticks, and its specialise command is the one tests/test_specialize_fork.py runs."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from tests.support.variants import FIXED_ANSWERS, TEMPLATE_DIR

GUIDE = TEMPLATE_DIR / "stack-customization.md"
PROJECT = TEMPLATE_DIR / "{{cookiecutter.project_name}}"
# Where a path of the guide may live: the repository, the project template, the Jinja partials.
ROOTS = (TEMPLATE_DIR, PROJECT, TEMPLATE_DIR / "templates")
# Names the guide used after they had moved (hooks/derived.py holds them since).
STALE = ("__node_type_id", "__cicd_platform_key")
# Names the guide asks the reader to create (task B's example prompt and tag).
NEW_NAMES = {"cluster_policy_id", "cost_center"}
IDENTIFIER = re.compile(r"^_{0,2}[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+_{0,2}(\(\))?$|^[A-Z][A-Z0-9_]{3,}$")


def code_spans(text: str) -> list[str]:
    """The inline code spans of Markdown ``text`` (fenced blocks left out)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"`([^`\n]+)`", text)


def is_path(span: str) -> bool:
    return (" " not in span and "<" not in span and "*" not in span and not span.startswith(("{{ ", "-", "@"))
            and ("/" in span or re.search(r"\w\.(py|md|json|tf|yml|yaml|jinja|parquet|txt)$", span) is not None))


def missing_paths(spans: list[str]) -> list[str]:
    """Paths that exist nowhere: with a folder, under one of ``ROOTS``; a bare file name (listed
    after its folder in the guide), anywhere in the template."""
    paths = [s.removeprefix("{{cookiecutter.project_name}}/").rstrip("/") for s in spans if is_path(s)]
    return [p for p in paths if p and not any((root / p).exists() for root in ROOTS)
            and ("/" in p or not any(TEMPLATE_DIR.rglob(p)))]


def repository_text() -> str:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=TEMPLATE_DIR,
                           capture_output=True, text=True, check=True).stdout.split()
    texts = []
    for name in files:
        path = TEMPLATE_DIR / name
        if path != GUIDE and path.is_file() and path.suffix in (".py", ".json", ".jinja", ".tf", ".md", ".yml", ""):
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def unknown_identifiers(spans: list[str], corpus: str) -> list[str]:
    names = {s.removesuffix("()") for s in spans if IDENTIFIER.match(s)} - NEW_NAMES
    return sorted(n for n in names if not re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", corpus))


def test_the_guide_names_no_stale_value() -> None:
    text = GUIDE.read_text()
    assert [name for name in STALE if name in text] == []


@pytest.mark.skipif(bool(FIXED_ANSWERS), reason="the guide describes the full template; this specialised fork "
                    "deleted the files of the choices it removed")
def test_every_path_the_guide_names_exists() -> None:
    assert missing_paths(code_spans(GUIDE.read_text())) == []


def test_every_identifier_the_guide_names_exists_in_the_code() -> None:
    assert unknown_identifiers(code_spans(GUIDE.read_text()), repository_text()) == []


def test_the_checks_catch_a_stale_guide() -> None:
    spans = ["hooks/prunning.py", "steps/utils.py", "NODE_TYPE_ID", "with_fixed_answers", "__node_type_id"]
    assert missing_paths(spans) == ["hooks/prunning.py"]
    assert unknown_identifiers(spans, "NODE_TYPE_IDS = {}\ndef with_fixed_answers(): ...") == [
        "NODE_TYPE_ID", "__node_type_id"]


def test_every_make_command_of_the_guide_exists() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (TEMPLATE_DIR / "Makefile").read_text(), re.M))
    project_targets = set(re.findall(r"^([a-z-]+):", (PROJECT / "Makefile").read_text(), re.M))
    text = GUIDE.read_text()
    code = "\n".join(code_spans(text) + re.findall(r"```.*?```", text, flags=re.S))
    used = set(re.findall(r"\bmake ([a-z-]+)", code))
    assert used - targets - project_targets == set()


@pytest.mark.parametrize("fork", ["aws-github"])
def test_the_guide_s_specialise_command_is_the_one_the_fork_test_runs(fork: str) -> None:
    from tests.test_specialize_fork import FORKS

    command = re.search(r'make specialize ANSWERS="([^"]+)"', GUIDE.read_text())
    assert command is not None and shlex.split(command.group(1)) == FORKS[fork]

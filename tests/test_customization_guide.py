"""stack-customization.md names only what exists: every path, identifier and make command in its
backticks, and its specialise command is the one tests/test_specialize_fork.py runs."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.variants import FIXED_ANSWERS, TEMPLATE_DIR

GUIDE = TEMPLATE_DIR / "stack-customization.md"
PROJECT = TEMPLATE_DIR / "{{cookiecutter.project_name}}"
# Where a path of the guide may live: the repository, the project template, the Jinja partials.
ROOTS = (TEMPLATE_DIR, PROJECT, TEMPLATE_DIR / "templates")
# Names the guide used after they had moved (hooks/derived.py holds them since).
STALE = ("__node_type_id", "__cicd_platform_key")
# Names the guide asks the reader to create (task B's example prompt and tag, task D's qa names).
NEW_NAMES = {"cluster_policy_id", "cost_center", "databricks_qa_workspace_host", "_uc_qa_catalog", "qa_reviewer_team_ids",
             "qa_reviewer_user_ids"}
IDENTIFIER = re.compile(r"^_{0,2}[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+_{0,2}(\(\))?$|^[A-Z][A-Z0-9_]{3,}$"
                        r"|^__[a-z]+__$|^[a-z]+[A-Z][A-Za-z0-9]*$")
# A call with arguments (`score_trips(spark, model_uri, trips)`): the function's name must exist.
CALL = re.compile(r"^([A-Za-z_]\w*)\([^()]*\)$")
# Terraform references (`local.job_cluster`, `var.job_compute`): the local or variable must be defined.
TERRAFORM_REFERENCE = re.compile(r"^(local|var)\.(\w+)$")


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
        own = path in (GUIDE, Path(__file__).resolve())  # the guide, and this test's examples of stale names
        if not own and path.is_file() and path.suffix in (".py", ".json", ".jinja", ".tf", ".md", ".yml", ""):
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def unknown_identifiers(spans: list[str], corpus: str) -> list[str]:
    """Names in ``spans`` (bare, ``name()`` or ``name(arguments)``) that ``corpus`` never names."""
    names = {s.removesuffix("()") for s in spans if IDENTIFIER.match(s)}
    names |= {match.group(1) for s in spans if (match := CALL.match(s))}
    names -= NEW_NAMES
    return sorted(n for n in names if not re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", corpus))


def unknown_derived_values(spans: list[str]) -> list[str]:
    """``derived("name")`` uses in ``spans`` whose name hooks/derived.py does not compute."""
    from hooks.derived import DERIVED_NAMES

    used = {name for s in spans for name in re.findall(r'derived\("(\w+)"\)', s)}
    return sorted(used - set(DERIVED_NAMES))


def unknown_terraform_references(spans: list[str], terraform: str) -> list[str]:
    """``local.x`` and ``var.x`` in ``spans`` that no locals block or variable of ``terraform`` defines."""
    defined = {("var", name) for name in re.findall(r'^variable "(\w+)"', terraform, re.M)}
    defined |= {("local", name) for name in re.findall(r"^  (\w+)\s*=", terraform, re.M)}
    used = [match.groups() for s in spans if (match := TERRAFORM_REFERENCE.match(s))]
    return sorted(f"{kind}.{name}" for kind, name in used if (kind, name) not in defined)


def unknown_modules(spans: list[str]) -> list[str]:
    """``python -m package.module`` commands in ``spans`` whose module is no file of the project template."""
    modules = {m for s in spans for m in re.findall(r"python -m ([\w.]+)", s)}
    return sorted(m for m in modules if not any((root / (m.replace(".", "/") + ".py")).exists() for root in ROOTS))


def terraform_text() -> str:
    return "\n".join(path.read_text() for root in (PROJECT, TEMPLATE_DIR / "templates")
                     for path in root.rglob("*") if path.suffix in (".tf", ".jinja"))


def test_the_guide_names_no_stale_value() -> None:
    text = GUIDE.read_text()
    assert [name for name in STALE if name in text] == []


@pytest.mark.skipif(bool(FIXED_ANSWERS), reason="the guide describes the full template; this specialised fork "
                    "deleted the files of the choices it removed")
def test_every_path_the_guide_names_exists() -> None:
    assert missing_paths(code_spans(GUIDE.read_text())) == []


@pytest.mark.skipif(bool(FIXED_ANSWERS), reason="the guide describes the full template; this specialised fork "
                    "deleted the code of the choices it removed")
def test_every_identifier_the_guide_names_exists_in_the_code() -> None:
    assert unknown_identifiers(code_spans(GUIDE.read_text()), repository_text()) == []


@pytest.mark.skipif(bool(FIXED_ANSWERS), reason="the guide describes the full template; this specialised fork "
                    "deleted the files of the choices it removed")
def test_every_derived_value_terraform_name_and_module_the_guide_names_exists() -> None:
    spans = code_spans(GUIDE.read_text())
    assert unknown_derived_values(spans) == []
    assert unknown_terraform_references(spans, terraform_text()) == []
    assert unknown_modules(spans) == []


def test_the_checks_catch_a_stale_guide() -> None:
    spans = ["hooks/prunning.py", "steps/utils.py", "NODE_TYPE_ID", "with_fixed_answers", "__node_type_id",
             "__prompts__", "__propmts__", "modelUri", "score_trip(spark, trips)", "score_trips(spark, trips)"]
    corpus = "NODE_TYPE_IDS = {}\ndef with_fixed_answers(): ...\n__prompts__ = 1\nmodelUri = 2\ndef score_trips(): ..."
    assert missing_paths(spans) == ["hooks/prunning.py"]
    assert unknown_identifiers(spans, corpus) == ["NODE_TYPE_ID", "__node_type_id", "__propmts__", "score_trip"]
    derived = ['{{ cookiecutter | derived("model_name") }}', '{{ cookiecutter | derived("modle_name") }}']
    assert unknown_derived_values(derived) == ["modle_name"]
    terraform = 'variable "job_compute" {\n}\nlocals {\n  job_cluster = {}\n}\n'
    assert unknown_terraform_references(["local.job_cluster", "var.job_compute", "local.cluster", "var.x"],
                                        terraform) == ["local.cluster", "var.x"]
    assert unknown_modules(["python -m fare_model.deployment x", "python -m fare_model.deploy x"]) == [
        "fare_model.deploy"]


def test_every_make_command_of_the_guide_exists() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (TEMPLATE_DIR / "Makefile").read_text(), re.M))
    project_targets = set(re.findall(r"^([a-z-]+):", (PROJECT / "Makefile").read_text(), re.M))
    text = GUIDE.read_text()
    code = "\n".join(code_spans(text) + re.findall(r"```.*?```", text, flags=re.S))
    used = set(re.findall(r"\bmake ([a-z-]+)", code))
    assert used - targets - project_targets == set()


@pytest.mark.parametrize("fork", ["aws-github"])
def test_the_guide_s_specialise_command_is_the_one_the_fork_test_runs(fork: str) -> None:
    from tests.test_specialize_fork import ALL_FORKS

    command = re.search(r'make specialize ANSWERS="([^"]+)"', GUIDE.read_text())
    assert command is not None and shlex.split(command.group(1)) == ALL_FORKS[fork]

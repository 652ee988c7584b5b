"""Answers typed at cookiecutter's prompts, in a terminal as a user types them: a wrong answer is
refused at the next prompt whose default the template renders (not after the last), yes/no
answers take the usual spellings, and the retry command keeps ``--output-dir``.

Prompt positions and counts come from cookiecutter.json, and hosts from the default cloud, so the
tests hold in a fork that fixes answers (``make specialize``) or adds prompts.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.support.generation import DEFAULT_CLOUD, REQUIRED_ANSWERS, TEST_HOSTS
from tests.support.variants import COOKIECUTTER_JSON, TEMPLATE_DIR

# The prompts cookiecutter asks, in order: "[i/N]" in the terminal.
PROMPTS = [name for name in COOKIECUTTER_JSON if not name.startswith("_")]
# A staging host of the default cloud, as in the workspace's address bar: no scheme, then upper case.
HOST = TEST_HOSTS[DEFAULT_CLOUD][0]


def shown_as(name: str) -> str:
    """How cookiecutter numbers the prompt ``name``: ``[5/12]``."""
    return f"[{PROMPTS.index(name) + 1}/{len(PROMPTS)}]"


def typed(**answers: str) -> list[str]:
    """The lines a user types: ``answers`` at their prompts, Enter (the default) at the others up
    to the last prompt answered; a prompt without a valid default (a fork's required prompt) gets
    its example answer (``REQUIRED_ANSWERS``)."""
    last = max(PROMPTS.index(name) for name in answers)
    return [answers.get(name, REQUIRED_ANSWERS.get(name, "")) for name in PROMPTS[: last + 1]]

# The cookiecutter of the interpreter running the tests (a copy of the repository has no .venv).
COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"


def type_answers(answers: list[str], output: Path) -> tuple[int, str]:
    """Run ``cookiecutter <template> -o <output>`` in a pseudo-terminal, type ``answers`` (one line
    each, '' for the default) and return the exit status and everything the terminal showed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([str(COOKIECUTTER), str(TEMPLATE_DIR), "-o", str(output)], stdin=terminal,
                               stdout=terminal, stderr=terminal, close_fds=True, env={**os.environ, "COLUMNS": "200"})
    os.close(terminal)
    for answer in answers:
        os.write(controller, f"{answer}\r".encode())
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(controller)
    return process.returncode, shown.decode(errors="replace")


def test_a_wrong_project_name_is_refused_before_the_next_text_prompt(tmp_path: Path) -> None:
    """Choice prompts (cloud, cicd_platform) keep their options literal, so project_name is judged
    when the next text prompt's default is rendered, before that prompt is shown."""
    after = PROMPTS[PROMPTS.index("project_name") + 1:]
    next_text = next(name for name in after if isinstance(COOKIECUTTER_JSON[name], str))
    before_it = PROMPTS[PROMPTS.index(next_text) - 1]
    status, shown = type_answers(typed(project_name="1bad", **{next_text: ""}), tmp_path / "out")
    assert status == 1
    assert "project_name '1bad' starts with '1'" in shown
    assert shown_as(before_it) in shown and shown_as(next_text) not in shown
    assert f"cookiecutter {TEMPLATE_DIR} --no-input --output-dir {tmp_path / 'out'}" in shown
    assert "project_name=1bad `# <- fix`" in shown
    assert not (tmp_path / "out").exists()


def test_a_wrong_host_is_refused_right_after_its_prompt(tmp_path: Path) -> None:
    without_scheme = HOST.removeprefix("https://")
    status, shown = type_answers(typed(project_name="my-project", databricks_staging_workspace_host=without_scheme,
                                       databricks_prod_workspace_host=""), tmp_path / "out")
    assert status == 1
    assert f"databricks_staging_workspace_host '{without_scheme}' must start with 'https://'" in shown
    assert shown_as("databricks_staging_workspace_host") in shown
    assert shown_as("databricks_prod_workspace_host") not in shown


def test_usual_yes_no_spellings_and_an_upper_case_scheme_are_normalised(tmp_path: Path) -> None:
    answers = typed(project_name="typed-project", databricks_staging_workspace_host=HOST.upper() + "/?o=1",
                    databricks_prod_workspace_host=TEST_HOSTS[DEFAULT_CLOUD][1], include_mlflow_recipes="Yes")
    status, shown = type_answers(answers, tmp_path / "out")
    assert status == 0, shown
    project = tmp_path / "out" / "typed-project"
    recorded = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert recorded["include_mlflow_recipes"] == "yes"
    assert (project / "recipe.yaml").exists()
    assert f'workspace_host = "{HOST}"' in (project / "databricks-config" / "staging" / "locals.tf").read_text()

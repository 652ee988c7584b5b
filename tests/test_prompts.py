"""Answers typed at cookiecutter's prompts, in a terminal as a user types them: a wrong answer is
refused at the next prompt whose default the template renders (not after the twelfth), yes/no
answers take the usual spellings, and the retry command keeps ``--output-dir``.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

from tests.support.variants import TEMPLATE_DIR

COOKIECUTTER = TEMPLATE_DIR / ".venv" / "bin" / "cookiecutter"


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


def test_a_wrong_project_name_is_refused_before_the_fourth_prompt(tmp_path: Path) -> None:
    """cloud and cicd_platform are choices (their options stay literal), so project_name is judged
    when the fourth prompt's default is rendered, before that prompt is shown."""
    status, shown = type_answers(["1bad", "", "", "", "", ""], tmp_path / "out")
    assert status == 1
    assert "project_name '1bad' starts with '1'" in shown
    assert "[3/12]" in shown and "[4/12]" not in shown
    assert f"cookiecutter {TEMPLATE_DIR} --no-input --output-dir {tmp_path / 'out'}" in shown
    assert "project_name=1bad `# <- fix`" in shown
    assert not (tmp_path / "out").exists()


def test_a_wrong_host_is_refused_right_after_its_prompt(tmp_path: Path) -> None:
    status, shown = type_answers(["my-project", "", "", "", "adb-1.2.azuredatabricks.net", "", ""], tmp_path / "out")
    assert status == 1
    assert "databricks_staging_workspace_host 'adb-1.2.azuredatabricks.net' must start with 'https://'" in shown
    assert "[5/12]" in shown and "[6/12]" not in shown


def test_usual_yes_no_spellings_and_an_upper_case_scheme_are_normalised(tmp_path: Path) -> None:
    answers = ["typed-project", "", "", "", "HTTPS://ADB-1.2.azuredatabricks.net/?o=1", "https://adb-3.4.azuredatabricks.net",
               "", "", "", "", "", "Yes"]
    status, shown = type_answers(answers, tmp_path / "out")
    assert status == 0, shown
    project = tmp_path / "out" / "typed-project"
    recorded = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert recorded["include_mlflow_recipes"] == "yes"
    assert (project / "recipe.yaml").exists()
    assert 'workspace_host = "https://adb-1.2.azuredatabricks.net"' in (
        project / "databricks-config" / "staging" / "locals.tf").read_text()

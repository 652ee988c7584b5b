"""A project rename through cruft keeps every Terraform backend on the existing state storage.

The state names derive from ``project_name`` (templates/terraform_state_names.jinja), so
``cruft update --variables-to-update '{"project_name": ...}'`` regenerates them. The setup guide
says how to keep them; this runs that path for real: cruft update with a new name, then the
guide's own ``git checkout`` command, and compares the backends with the ones before.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.generation import TEST_ANSWERS, hosts_for
from tests.support.markdown_links import fenced_blocks
from tests.support.template_repo import commit_all, git, template_repository
from tests.test_cruft import create
from tests.test_terraform import assert_backends_match_bootstrap, backends


def guide_restore_command(project: Path) -> list[str]:
    guide = (project / "docs/mlops-setup.md").read_text()
    commands = [shlex.split(line) for block in fenced_blocks(guide, "bash") for line in block.splitlines()
                if line.startswith("git checkout HEAD -- ")]
    assert len(commands) == 1, "the guide must say how to keep the state names through a rename"
    return commands[0]


@pytest.mark.large
@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_rename_keeps_the_backends_on_the_existing_state(tmp_path: Path, cloud: str) -> None:
    template = template_repository(tmp_path / "template")
    answers = {**TEST_ANSWERS, "cloud": cloud, **hosts_for(cloud)}
    project = create("cruft create", template, tmp_path / "out", answers)
    git(project, "init", "-q")
    commit_all(project, "generated")
    before = backends(project)

    cruft_cli = Path(sys.executable).parent / "cruft"
    renamed = subprocess.run([str(cruft_cli), "update", "-y", "--variables-to-update", '{"project_name": "fraud-model"}'],
                             cwd=project, capture_output=True, text=True)
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr
    assert "fraud-model" in (project / "README.md").read_text(), "the rename did not happen"
    assert backends(project) != before, "a rename derives new state names (what the guide's step undoes)"

    subprocess.run(guide_restore_command(project), cwd=project, check=True, capture_output=True)
    assert backends(project) == before
    assert_backends_match_bootstrap(project, cloud)
    assert not re.search(r"fraud-model-tfstate|fraudmodel", (project / ".mlops-setup-scripts/cicd/state-access.tf").read_text())

"""The code signature that lets identical variants share one run of a large test."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.code_signature import code_signature


def test_comments_docs_and_ci_files_do_not_change_the_signature(generated_project: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(generated_project, tmp_path / "copy"))
    utils = copy / "steps" / "utils.py"
    utils.write_text("# a different documentation link\n" + utils.read_text())
    (copy / "README.md").write_text("changed")
    (copy / "databricks-config" / "README.md").write_text("changed")
    assert code_signature(copy) == code_signature(generated_project)


def test_code_and_data_changes_change_the_signature(generated_project: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(generated_project, tmp_path / "copy"))
    utils = copy / "steps" / "utils.py"
    utils.write_text(utils.read_text() + "\nCHANGED = True\n")
    assert code_signature(copy) != code_signature(generated_project)
    utils.write_text((generated_project / "steps" / "utils.py").read_text())
    (copy / "data" / "sample.parquet").write_bytes(b"other data")
    assert code_signature(copy) != code_signature(generated_project)

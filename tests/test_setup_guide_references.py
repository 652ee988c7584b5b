"""Issue 22 (minor): comments and descriptions in the generated project that send the reader to a
section of the setup guide by its title (``docs/mlops-setup.md, Prerequisites``) name a section the
rendered guide has; the CI/CD bootstrap's ``delete_prod_experiments`` named "Remove the project",
which does not exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.variants import SUPPORTED_VARIANTS, Variant

# A title starts with a capital letter; "step 5" and the like are no titles.
TITLE_REFERENCE = re.compile(r"docs/mlops-setup\.md, ([A-Z][^).\"\n]*)")
# Per CI/CD platform a variant (each platform's guide has its own sections).
ONE_PER_PLATFORM = list({v.cicd_platform: v for v in SUPPORTED_VARIANTS}.values())


def titled_references(project: Path) -> list[tuple[str, str]]:
    """(file, section title) of every reference by title, in the project's text files."""
    found = []
    for path in sorted(project.rglob("*")):
        if path.is_file() and path.suffix in {".tf", ".py", ".yml", ".yaml", ".md", ".sh"}:
            text = path.read_text(errors="replace")
            found += [(str(path.relative_to(project)), title.strip()) for title in TITLE_REFERENCE.findall(text)]
    return found


def guide_titles(project: Path) -> set[str]:
    """The guide's section titles, numbering dropped ("## 3. Run the bootstrap" -> "Run the bootstrap")."""
    headings = re.findall(r"^#{2,4} (.+)$", (project / "docs/mlops-setup.md").read_text(), re.MULTILINE)
    return {re.sub(r"^\d+\. ", "", heading).strip() for heading in headings}


@pytest.mark.parametrize("variant", ONE_PER_PLATFORM, ids=lambda v: v.id)
def test_every_reference_to_a_setup_guide_section_names_one_it_has(variant: Variant, generated_project: Path) -> None:
    references = titled_references(generated_project)
    assert references, "no reference by title found: the pattern no longer matches the project's wording"
    titles = guide_titles(generated_project)
    assert [(path, title) for path, title in references if title not in titles] == []

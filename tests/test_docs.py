"""Documentation checks: links resolve, Databricks docs links come from the filter, diagrams parse.

Applies to the template repo's own Markdown and to the Markdown of every generated variant
(GitHub-style relative links and heading anchors), to every Databricks documentation URL a
generated project contains, and to every Mermaid block (parsed by Mermaid itself).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_extensions import DOC_BASE_URLS, doc_link
from tests.support import mermaid
from tests.support.markdown_links import anchors, broken_links, broken_links_in, fenced_blocks, github_slug, links
from tests.support.variants import COOKIECUTTER_JSON, FIXED_ANSWERS, RECIPE_VARIANTS, SUPPORTED_VARIANTS, TEMPLATE_DIR, Variant

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_name}}"
# Folders of the template repo that hold no documentation of the template (tools, caches,
# build output) or that hold Jinja, checked through the generated projects instead.
NOT_REPO_DOCS = {".git", ".venv", "node_modules", "build", ".pytest_cache", ".hypothesis", PROJECT_TEMPLATE.name}
# Any Databricks documentation URL, whichever cloud and whoever wrote it.
DATABRICKS_DOCS_URL = re.compile(
    r"https?://(?:docs\.databricks\.com|docs\.gcp\.databricks\.com"
    r"|(?:learn|docs)\.microsoft\.com/(?:[a-z]{2}-[a-z]{2}/)?azure/databricks)[^\s)\"'<>`]*"
)


def repo_markdown_files() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATE_DIR.rglob("*.md")
        if not NOT_REPO_DOCS.intersection(path.relative_to(TEMPLATE_DIR).parts)
    )


def project_markdown_files(project: Path) -> list[Path]:
    return sorted(project.rglob("*.md"))


def text_files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue


def describe(problems) -> str:
    return "\n".join(str(problem) for problem in problems)


# --- the link checker itself -------------------------------------------------------------


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def reasons(folder: Path, name: str) -> list[str]:
    return [problem.reason for problem in broken_links(folder / name, folder)]


def test_checker_catches_a_link_to_a_missing_file(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "See [b](docs/b.md) and [c](c.md).\n", "c.md": "# C\n"})
    assert reasons(tmp_path, "a.md") == ["file does not exist"]


def test_checker_catches_a_broken_heading_anchor(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.md": "# Top\n\n[ok](b.md#set-up-ci) [bad](b.md#setup-ci) [self](#top) [self bad](#bottom)\n",
            "b.md": "# B\n\n## Set up CI\n",
        },
    )
    assert reasons(tmp_path, "a.md") == ["no heading with anchor #setup-ci in b.md", "no heading with anchor #bottom in a.md"]


@pytest.mark.parametrize("link", ["[x]()", "[x](<>)", "[x](#)", "[x]( )", '<a href="">x</a>', "[x]:"])
def test_checker_catches_an_empty_link_target(tmp_path: Path, link: str) -> None:
    write(tmp_path, {"a.md": f"# Title\n\n{link}\n"})
    assert reasons(tmp_path, "a.md") == ["empty link target"]


def test_checker_refuses_links_that_leave_the_tree(tmp_path: Path) -> None:
    write(tmp_path, {"project/a.md": "[up](../outside.md)\n", "outside.md": "# Outside\n"})
    assert [p.reason for p in broken_links(tmp_path / "project/a.md", tmp_path / "project")] == [
        "points outside the checked tree"
    ]


def test_checker_ignores_code_and_external_links_and_follows_folders(tmp_path: Path) -> None:
    text = (
        "```bash\necho [x](missing.md)\n```\n"
        "Inline `[y](missing.md)` code. [web](https://example.com/x) [mail](mailto:a@b.c)\n"
        "[folder](docs) [root](/docs/guide.md) ![img](docs/guide.md \"title\")\n"
    )
    write(tmp_path, {"a.md": text, "docs/guide.md": "# Guide\n"})
    assert reasons(tmp_path, "a.md") == []


def test_links_finds_inline_reference_and_html_targets() -> None:
    text = '[a](x.md) [![badge](img.svg)](y.md)\n[ref]: z.md\n<a href="w.md">w</a>\n'
    assert sorted(link.target for link in links(text)) == ["img.svg", "w.md", "x.md", "y.md", "z.md"]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Set up CI/CD", "set-up-cicd"),
        ("`make local-pipeline`: train locally", "make-local-pipeline-train-locally"),
        ("Step 2. Deploy (prod)", "step-2-deploy-prod"),
        ("The `include_feature_store` prompt", "the-include_feature_store-prompt"),
        ("*Emphasis* and [a link](x.md)", "emphasis-and-a-link"),
        ("Dev -> staging -> prod", "dev---staging---prod"),
    ],
)
def test_github_slugs(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_anchors_number_duplicates_and_skip_code_blocks() -> None:
    text = "# Usage\n## Usage\nSetext\n------\n```\n# not a heading\n```\n<a id=\"custom\"></a>\n"
    assert anchors(text) == {"usage", "usage-1", "setext", "custom"}


def test_fenced_blocks_by_language() -> None:
    text = "```mermaid\nflowchart LR\n  a --> b\n```\n````python\nx = 1\n````\n~~~mermaid\nsequenceDiagram\n~~~\n"
    assert fenced_blocks(text, "mermaid") == ["flowchart LR\n  a --> b", "sequenceDiagram"]


# --- links of the template repo and of every generated project ------------------------------


def test_template_repo_has_its_guides() -> None:
    names = {path.relative_to(TEMPLATE_DIR).as_posix() for path in repo_markdown_files()}
    assert {"README.md", "Pipeline.md", "stack-customization.md"} <= names


def test_template_repo_markdown_links_resolve() -> None:
    problems = broken_links_in(repo_markdown_files(), TEMPLATE_DIR)
    assert problems == [], describe(problems)


def test_generated_markdown_links_resolve(variant: Variant, generated_project: Path) -> None:
    problems = broken_links_in(project_markdown_files(generated_project), generated_project)
    assert problems == [], describe(problems)


# Guides a generated README must link to whenever the variant has them.
GUIDES = (
    "docs/project-overview.md",
    "docs/ml-developer-guide.md",
    "docs/ml-developer-guide-fs.md",
    "docs/mlops-setup.md",
    "docs/ml-pull-request.md",
    "databricks-config/README.md",
    ".github/workflows/README.md",
    ".azure/devops-pipelines/README.md",
    ".gitlab/ci/README.md",
)


def test_generated_readme_links_every_guide_of_the_variant(variant: Variant, generated_project: Path) -> None:
    readme = generated_project / "README.md"
    linked = {
        (readme.parent / link.target.split("#")[0]).resolve()
        for link in links(readme.read_text())
        if link.target and not link.target.startswith(("#", "http"))
    }
    present = [guide for guide in GUIDES if (generated_project / guide).exists()]
    assert [guide for guide in present if (generated_project / guide).resolve() not in linked] == []


# --- Databricks documentation links ------------------------------------------------------------


# Documentation path -> cloud -> the URL doc_link makes of it.
DOC_LINKS = {
    "repos/index.html": {
        "aws": "https://docs.databricks.com/repos/index.html",
        "gcp": "https://docs.gcp.databricks.com/repos/index.html",
        "azure": "https://learn.microsoft.com/azure/databricks/repos/",
    },
    "dev-tools/terraform/index.html#x": {"azure": "https://learn.microsoft.com/azure/databricks/dev-tools/terraform/#x"},
    "/dev-tools/terraform/index.html": {"aws": "https://docs.databricks.com/dev-tools/terraform/index.html"},
    "dev-tools/databricks-utils.html#dbutils-jobs-taskvalues": {
        "azure": "https://learn.microsoft.com/azure/databricks/dev-tools/databricks-utils#dbutils-jobs-taskvalues",
        "gcp": "https://docs.gcp.databricks.com/dev-tools/databricks-utils.html#dbutils-jobs-taskvalues",
    },
    "repos/set-up-git-integration.html": {
        "azure": "https://learn.microsoft.com/azure/databricks/repos/repos-setup",
        "aws": "https://docs.databricks.com/repos/set-up-git-integration.html",
    },
    "repos/set-up-git-integration.html#anchor": {
        "azure": "https://learn.microsoft.com/azure/databricks/repos/repos-setup#anchor",
    },
}


@pytest.mark.parametrize(
    ("path", "cloud", "url"), [(path, cloud, url) for path, urls in DOC_LINKS.items() for cloud, url in urls.items()]
)
def test_doc_link_mapping(path: str, cloud: str, url: str) -> None:
    assert doc_link(path, cloud) == url


@pytest.mark.choice(cloud="azure")  # every cloud of the unspecialised template
def test_every_cloud_has_a_docs_base_url() -> None:
    assert set(DOC_BASE_URLS) == set(COOKIECUTTER_JSON["cloud"])


CLOUD_ALIAS = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*cookiecutter\.cloud\s*-?%\}")


def doc_link_cloud_arguments(text: str) -> list[tuple[str, bool]]:
    """Each ``generate_doc_link(...)`` argument of a template file, and whether it is the chosen cloud.

    The chosen cloud is ``cookiecutter.cloud`` or a name the file sets to it.
    """
    chosen = {"cookiecutter.cloud", *CLOUD_ALIAS.findall(text)}
    if "cloud" in FIXED_ANSWERS:  # a specialised fork (make specialize) names its one cloud
        chosen |= {f'"{FIXED_ANSWERS["cloud"]}"', f"'{FIXED_ANSWERS['cloud']}'"}
    return [(argument.strip(), argument.strip() in chosen) for argument in re.findall(r"generate_doc_link\(([^)]*)\)", text)]


@pytest.mark.choice(cloud="aws")  # with the cloud fixed to aws, "aws" is the chosen cloud
def test_doc_link_arguments_are_classified() -> None:
    text = '{%- set cloud = cookiecutter.cloud -%}\n{{ "a.html" | generate_doc_link(cloud) }} {{ "b.html" | generate_doc_link("aws") }}'
    assert doc_link_cloud_arguments(text) == [("cloud", True), ('"aws"', False)]
    assert doc_link_cloud_arguments('{{ "a.html" | generate_doc_link(cloud) }}') == [("cloud", False)]


def test_the_template_passes_the_chosen_cloud_to_every_doc_link() -> None:
    """A hard-coded cloud (``generate_doc_link('aws')``) would send azure users to the aws docs."""
    calls = {}
    for path, text in text_files(PROJECT_TEMPLATE):
        for argument, is_chosen_cloud in doc_link_cloud_arguments(text):
            calls.setdefault(is_chosen_cloud, []).append(f"{path.relative_to(PROJECT_TEMPLATE)}: {argument}")
    assert calls.get(True), "the template links no Databricks documentation"
    assert calls.get(False, []) == []


def databricks_docs_urls(project: Path) -> dict[str, list[str]]:
    urls: dict[str, list[str]] = {}
    for path, text in text_files(project):
        for url in DATABRICKS_DOCS_URL.findall(text):
            urls.setdefault(url, []).append(str(path.relative_to(project)))
    return urls


def urls_not_from_the_filter(urls: dict[str, list[str]], cloud: str) -> dict[str, list[str]]:
    """URLs that the filter cannot have produced for ``cloud``: another base, or an azure '.html' page."""
    base = DOC_BASE_URLS[cloud] + "/"
    return {
        url: files
        for url, files in urls.items()
        if not url.startswith(base) or (cloud == "azure" and ".html" in url.split("#")[0])
    }


def test_urls_not_from_the_filter_are_detected() -> None:
    aws_url = doc_link("repos/index.html", "aws")
    azure_url = doc_link("repos/index.html", "azure")
    localised = "https://learn.microsoft.com/en-us/azure/databricks/repos/"
    azure_html = "https://learn.microsoft.com/azure/databricks/repos/index.html"
    urls = {url: ["README.md"] for url in (aws_url, azure_url, localised, azure_html)}
    assert set(urls_not_from_the_filter(urls, "azure")) == {aws_url, localised, azure_html}
    assert set(urls_not_from_the_filter(urls, "aws")) == {azure_url, localised, azure_html}


def test_generated_docs_urls_come_from_the_filter_for_the_chosen_cloud(variant: Variant, generated_project: Path) -> None:
    urls = databricks_docs_urls(generated_project)
    assert urls, "the generated docs link no Databricks documentation at all"
    assert urls_not_from_the_filter(urls, variant.cloud) == {}


# --- Mermaid diagrams ----------------------------------------------------------------------------


def diagrams_of(files: list[Path], root: Path) -> list[tuple[str, str]]:
    """(where, diagram) for every Mermaid block of ``files``."""
    return [
        (f"{path.relative_to(root)} diagram {index}", block)
        for path in files
        for index, block in enumerate(fenced_blocks(path.read_text(), "mermaid"), start=1)
    ]


def unparsable(diagrams: list[tuple[str, str]]) -> dict[str, str]:
    try:
        errors = mermaid.parse_errors([diagram for _, diagram in diagrams])
    except mermaid.NodeMissing as missing:
        pytest.skip(str(missing))
    return {where: error for (where, _), error in zip(diagrams, errors) if error is not None}


@pytest.mark.large
def test_mermaid_parser_accepts_valid_and_rejects_broken_diagrams() -> None:
    diagrams = [
        ("flowchart", "flowchart LR\n  dev[Dev] -->|merge| staging[(Staging)]"),
        ("sequence", "sequenceDiagram\n  participant CI\n  CI->>Databricks: run tests\n  Databricks-->>CI: result"),
        ("broken flowchart", "flowchart LR\n  dev[Dev --> staging"),
        ("broken arrow", "flowchart LR\n  a --> --> b"),
        ("broken sequence", "sequenceDiagram\n  CI->>: no receiver"),
        ("unknown type", "flowchat LR\n  a --> b"),
    ]
    assert sorted(unparsable(diagrams)) == ["broken arrow", "broken flowchart", "broken sequence", "unknown type"]


@pytest.mark.large
def test_template_repo_mermaid_diagrams_parse() -> None:
    diagrams = diagrams_of(repo_markdown_files(), TEMPLATE_DIR)
    assert diagrams, "Pipeline.md is expected to draw its diagrams in Mermaid"
    assert unparsable(diagrams) == {}


@pytest.mark.large
def test_generated_mermaid_diagrams_parse(variant: Variant, generated_project: Path) -> None:
    diagrams = diagrams_of(project_markdown_files(generated_project), generated_project)
    assert diagrams, "docs/project-overview.md is expected to draw its diagrams in Mermaid"
    assert unparsable(diagrams) == {}


def test_readme_counts_the_questions_and_lists_every_prompt() -> None:
    """The template README's prompt table and its count follow cookiecutter.json's prompts."""
    prompts = [name for name in COOKIECUTTER_JSON if not name.startswith("_")]
    readme = (TEMPLATE_DIR / "README.md").read_text()
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
             "twelve", "thirteen", "fourteen", "fifteen"]
    count = re.search(r"Cookiecutter asks (\w+) questions", readme)
    assert count is not None and count.group(1) == words[len(prompts)]
    assert re.findall(r"^\| `(\w+)` \|", readme.split("| Prompt |", 1)[1].split("\n\n", 1)[0], re.M) == prompts


@pytest.mark.parametrize("variant", RECIPE_VARIANTS[:1], ids=[v.id for v in RECIPE_VARIANTS[:1]])
def test_recipes_guide_names_the_data_train_reads(generated_project: Path) -> None:
    """The guide says which trips Train reads on Databricks: the ingest query's table and bound."""
    profile = (generated_project / "profiles" / "databricks-dev.yaml").read_text()
    table = re.search(r"dbfs:/databricks-datasets/([\w/-]+)`", profile).group(1)
    limit = int(re.search(r"LIMIT (\d+)", profile).group(1))
    guide = " ".join((generated_project / "docs" / "ml-developer-guide.md").read_text().split())
    assert f"`{table}`" in guide and f"{limit:,}" in guide
    assert "full dataset" not in guide and "the full `" not in guide


PLAIN_MLFLOW3 = [v for v in SUPPORTED_VARIANTS if v.ml_code == "mlflow3"][:1]


@pytest.mark.parametrize("variant", PLAIN_MLFLOW3, ids=[v.id for v in PLAIN_MLFLOW3])
def test_mlflow3_guide_names_the_table_train_reads(generated_project: Path) -> None:
    notebook = (generated_project / "notebooks" / "Train.py").read_text()
    assert 'TRAINING_DATA = f"delta.`dbfs:{DATABRICKS_INPUT_PATH}`"' in notebook
    spec = (generated_project / "model_spec" / "data.py").read_text()
    table = re.search(r'DATABRICKS_INPUT_PATH = "/databricks-datasets/([\w/-]+)"', spec).group(1)
    guide = " ".join((generated_project / "docs" / "ml-developer-guide-mlflow3.md").read_text().split())
    assert f"`{table}`" in guide
    assert "full dataset" not in guide and "the full `" not in guide

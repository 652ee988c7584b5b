"""Find broken links in Markdown the way GitHub renders it.

GitHub turns every heading into an anchor (a "slug") and resolves relative links against
the folder of the Markdown file. A link is broken when its target is empty, its file
does not exist (or lies outside the checked tree), or its ``#anchor`` names no heading
of the target Markdown file. External links (``https:``, ``mailto:`` ...) are not
followed here; links inside code blocks and code spans are not links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold one level of brackets
# (a badge image inside a link), the target one level of parentheses.
INLINE_LINK = re.compile(
    r"!?\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]"
    r"\(\s*(?P<target><[^>]*>|(?:[^\s()]|\([^\s()]*\))*)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(?P<target><[^>]*>|\S*)")
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"'](?P<target>[^\"']*)[\"']", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"<[a-z]+\b[^>]*?\b(?:id|name)\s*=\s*[\"'](?P<anchor>[^\"']+)[\"']", re.IGNORECASE)
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    target: str
    line: int


@dataclass(frozen=True)
class BrokenLink:
    file: Path
    line: int
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: ({self.target}) {self.reason}"


def _closes(fence: str, match: re.Match[str] | None) -> bool:
    """Whether a fence line closes the block opened by ``fence`` (same character, at least as long)."""
    return bool(match) and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) and not match.group(2).strip()


def lines_outside_fences(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line that is not part of a fenced code block."""
    fence = ""
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence:
            if _closes(fence, match):
                fence = ""
        elif match:
            fence = match.group(1)
        else:
            yield number, line


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines outside fenced code blocks, with code spans blanked out."""
    for number, line in lines_outside_fences(text):
        yield number, CODE_SPAN.sub(lambda span: " " * len(span.group(0)), line)


def fenced_blocks(text: str, language: str) -> list[str]:
    """Contents of the fenced code blocks whose info string starts with ``language``."""
    blocks: list[str] = []
    fence, body, keep = "", [], False
    for line in text.splitlines():
        match = FENCE.match(line)
        if not fence:
            if match:
                fence, body = match.group(1), []
                keep = match.group(2).strip().split(" ")[0] == language
            continue
        if _closes(fence, match):
            if keep:
                blocks.append("\n".join(body))
            fence = ""
        else:
            body.append(line)
    return blocks


def links(text: str) -> list[Link]:
    """Every link target written in ``text``: inline (also nested in link text), reference definitions and HTML."""
    found = []
    for number, line in prose_lines(text):
        found += [Link(target, number) for target in _targets(line)]
    return found


def _targets(line: str) -> list[str]:
    targets = []
    for pattern in (INLINE_LINK, REFERENCE_DEFINITION, HTML_LINK):
        for match in pattern.finditer(line):
            target = match.group("target").strip()
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1].strip()
            targets.append(target)
            if pattern is INLINE_LINK:
                targets += _targets(match.group("text"))
    return targets


def rendered_heading_text(markdown: str) -> str:
    """The text GitHub shows for a heading: no code ticks, link syntax, HTML or emphasis marks."""
    parts = re.split(r"(`+[^`]*`+)", markdown)
    rendered = []
    for part in parts:
        if part.startswith("`"):
            rendered.append(part.strip("`"))
            continue
        part = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", part)
        part = re.sub(r"<[^>]+>", "", part)
        part = re.sub(r"(?<!\w)_+|_+(?!\w)", "", part)
        rendered.append(part)
    return "".join(rendered)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = rendered_heading_text(heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every ``#anchor`` a Markdown file offers: heading slugs (duplicates get -1, -2 ...) and HTML ids."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    previous = ""
    for _, line in lines_outside_fences(text):
        heading = None
        if match := ATX_HEADING.match(line):
            heading = match.group("text") or ""
        elif SETEXT_UNDERLINE.match(line) and previous.strip() and not ATX_HEADING.match(previous):
            heading = previous.strip()
        if heading is not None:
            slug = github_slug(heading)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(f"{slug}-{count}" if count else slug)
        found.update(match.group("anchor") for match in HTML_ANCHOR.finditer(line))
        previous = line
    return found


def is_external(target: str) -> bool:
    return bool(SCHEME.match(target))


def broken_links(markdown_file: Path, root: Path) -> list[BrokenLink]:
    """Broken links of one Markdown file; targets must stay inside ``root`` (``/x`` means ``root/x``)."""
    root = root.resolve()
    text = markdown_file.read_text()
    problems = []
    for link in links(text):
        reason = _problem(link.target, markdown_file.resolve(), text, root)
        if reason:
            problems.append(BrokenLink(markdown_file, link.line, link.target, reason))
    return problems


def _problem(target: str, source: Path, source_text: str, root: Path) -> str | None:
    if not target or target == "#":
        return "empty link target"
    if is_external(target):
        return None
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part.split("?", 1)[0])
    if path_part:
        base = root if path_part.startswith("/") else source.parent
        resolved = (base / path_part.lstrip("/")).resolve()
        if resolved != root and root not in resolved.parents:
            return "points outside the checked tree"
        if not resolved.exists():
            return "file does not exist"
    else:
        resolved = source
    if anchor and resolved.suffix.lower() == ".md":
        text = source_text if resolved == source else resolved.read_text()
        if unquote(anchor) not in anchors(text):
            return f"no heading with anchor #{anchor} in {resolved.name}"
    return None


def broken_links_in(markdown_files: Iterable[Path], root: Path) -> list[BrokenLink]:
    return [problem for path in markdown_files for problem in broken_links(path, root)]

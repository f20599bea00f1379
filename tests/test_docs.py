"""The documentation: a short README for users, and links that lead somewhere.

The README says what the platform is, how to run it and where to read on; everything else is
in docs/, by topic. `make cost` and `make diagram` rewrite generated blocks in docs/ pages, so
the blocks must be where the Makefile sends them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import diagram

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_MAX_BYTES = 15 * 1024
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCED_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:, ...


def _prose(text: str) -> str:
    """The text outside code: a link inside a code block or span is not a link."""
    return INLINE_CODE.sub("", FENCED_CODE.sub("", text))


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens,
    repeated headings numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(FENCED_CODE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(_prose(page.read_text(encoding="utf-8")))
        if not EXTERNAL.match(target)
    ]


def test_the_readme_stays_short():
    """Reference material and measurements belong in docs/, not in the README."""
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size:,} bytes, over {README_MAX_BYTES:,}: move detail to docs/"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_an_existing_file(page):
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif (
            fragment
            and file.suffix == ".md"
            and fragment not in _anchors(file.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == [], page.name


def test_the_link_checker_sees_links_and_skips_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A title (`with/code.py`)\n\n[a](other.md#x) ![b](pic.svg) [c](https://example.com)\n"
        "`[d](in-code.md)`\n\n```\n[e](in-block.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["other.md#x", "pic.svg"]
    assert _anchors(page.read_text(encoding="utf-8")) == {"a-title-withcodepy"}


def _written_by(target: str) -> Path:
    """The file the Makefile target's recipe passes as `--readme`, from the recipe's folder."""
    recipe = re.search(
        rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)",
        (ROOT / "Makefile").read_text(encoding="utf-8"),
        re.M,
    )
    assert recipe, f"Makefile has no {target} target"
    folder = re.search(r"\bcd (\S+) &&", recipe.group(1))
    readme = re.search(r"--readme (\S+)", recipe.group(1))
    assert readme, f"make {target} writes no generated block"
    return ROOT / (folder.group(1) if folder else ".") / readme.group(1)


@pytest.mark.parametrize(
    ("target", "start", "end"),
    [
        ("cost", "<!-- cost:start", "<!-- cost:end -->"),
        ("diagram", diagram.START, diagram.END),
    ],
)
def test_generated_blocks_are_where_the_makefile_writes_them(target, start, end):
    page = _written_by(target)
    assert page.parent == ROOT / "docs", page
    text = page.read_text(encoding="utf-8")
    assert start in text and end in text and text.index(start) < text.index(end), page


def test_the_architecture_page_shows_the_committed_diagram():
    """docs/architecture.md carries the Mermaid copy `make diagram` wrote with
    docs/architecture.mmd (tests/test_diagram.py checks the .mmd against the stacks)."""
    text = _written_by("diagram").read_text(encoding="utf-8")
    block = text[text.index(diagram.START) : text.index(diagram.END)]
    mermaid = (ROOT / "docs" / "architecture.mmd").read_text(encoding="utf-8")
    assert f"```mermaid\n{mermaid}```" in block
    assert "![The organisation](architecture.svg)" in block


def cited_tests(text: str) -> list[tuple[str, str]]:
    """(file, test) for every `test_x.py::test_y` a page cites, and `::test_y` following one
    (the same file)."""
    cited, current = [], None
    for match in re.finditer(r"(test_\w+\.py)?::(test_\w+)", text):
        current = match.group(1) or current
        if current is not None:
            cited.append((current, match.group(2)))
    return cited


def test_every_test_the_docs_cite_exists():
    """docs/security.md names the test behind each property: a renamed or deleted test
    leaves the page claiming what nothing shows."""
    missing = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for file, test in cited_tests(page.read_text(encoding="utf-8")):
            path = ROOT / "tests" / file
            if not path.exists() or not re.search(rf"^def {test}\(", path.read_text(), re.M):
                missing.append(f"{page.name}: {file}::{test}")
    assert missing == []
    assert ("test_a.py", "test_b") in cited_tests("`test_a.py::test_x`, `::test_b`")

"""The README and docs/ say only what exists: every link to a page, every test they name, and
every security claim of the isolation table is a test in tests/tamper/."""

from __future__ import annotations

import re

import pytest

from tests.harness import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_to_pages_resolve(page):
    for target in re.findall(r"\]\(([^)#\s]+\.md)\)", page.read_text()):
        assert (page.parent / target).is_file(), f"{page.name} links to {target}, which does not exist"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_named_test_file_exists(page):
    text = page.read_text()
    for path in set(re.findall(r"`(tests/[\w/]+\.py)(?:::\w+)?`", text)):
        assert (ROOT / path).is_file(), f"{page.name} names {path}, which does not exist"


def test_every_security_claim_is_a_tamper_test():
    """Each row of the isolation table names the test in tests/tamper/ that attacks it."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    table = text.split("## What is isolated", 1)[1]
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith(("| Wall", "|---"))]
    assert len(rows) >= 10
    for row in rows:
        named = re.findall(r"`(test_\w+\.py)`", row.rsplit("|", 2)[-2])
        assert named, f"no test named for: {row[:80]}"
        for name in named:
            assert (ROOT / "tests" / "tamper" / name).is_file() or list(ROOT.glob(f"tests/**/{name}")), name

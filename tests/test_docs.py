"""The documentation holds together: every relative link in the README, docs/ and the contributing
guide points at a file of the repository and, with an anchor, at a heading of that file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cispack import ROOT

DOCUMENTS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"(?m)^#{1,6} (.+)$", path.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def _links() -> list[tuple[Path, str]]:
    return [(path, target) for path in DOCUMENTS for target in LINK.findall(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize(("document", "target"), _links(), ids=lambda value: str(value)[-60:])
def test_relative_links_resolve(document: Path, target: str) -> None:
    if re.match(r"[a-z]+:", target):
        return
    file_part, _, anchor = target.partition("#")
    linked = (document.parent / file_part).resolve() if file_part else document
    assert linked.exists(), f"{document.name}: {target} points at no file"
    if anchor and linked.suffix == ".md":
        assert anchor in _anchors(linked), f"{document.name}: {target} points at no heading"


def test_the_readme_fits_on_a_few_screens() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    table = sum(1 for line in lines if re.match(r"\| \d\.\d+ \|", line))
    # The generated rule x version table of the later CIS versions counts as table too.
    later = lines.index("<!-- versions:end -->") - lines.index("<!-- versions:start -->")
    assert len(lines) - table - later <= 120


def test_documented_deploys_of_large_templates_go_through_s3() -> None:
    """CloudFormation takes at most 51,200 bytes of template inline; `aws cloudformation deploy`
    needs --s3-bucket above that, so every documented deploy of such a template names one."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOCUMENTS).replace("\\\n", " ")
    commands = re.findall(r"aws cloudformation deploy[^\n`]*", text)
    checked = 0
    for command in commands:
        template = re.search(r"--template-file (\S+)", command)
        assert template, command
        if (ROOT / template.group(1)).stat().st_size > 51_200:
            assert "--s3-bucket" in command, command
            checked += 1
    assert checked >= 2  # the member template and the remediation template

"""The pack's public interface, ``../shared/CONTROLS.md``, read as data for the tests that hold the
rules and the conformance pack to it.

One documented addition: CIS 4.2 concerns port 3389 alone, and the managed rule
RESTRICTED_INCOMING_TRAFFIC defaults ``blockedPort1``-``blockedPort5`` to 20, 21, 3389, 3306 and
4333, so the contract's ``blockedPort1 3389`` alone would also fail security groups open on
ports 21, 3306 and 4333. The pack sets all five to 3389 (the benchmark wins over the contract).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cispack import ROOT

SHARED = ROOT.parent / "shared"
CONTROLS_MD = SHARED / "CONTROLS.md"

# Input parameters the pack adds to those CONTROLS.md names, by managed rule.
PARAMETER_ADDITIONS: dict[str, dict[str, str]] = {
    "RESTRICTED_INCOMING_TRAFFIC": {f"blockedPort{n}": "3389" for n in range(2, 6)},
}


def contract_parameters(text: str) -> dict[str, str]:
    """``maxAccessKeyAge 90``, ``a X, b Y``, or ``A, B, C `true` (note); D 14`` as a dict."""
    values: dict[str, str] = {}
    for part in text.split(";"):
        shared = re.fullmatch(r"\s*((?:\w+,\s*)+\w+)\s+`?([^`\s]+)`?.*", part)
        if shared:
            values.update({name.strip(): shared.group(2) for name in shared.group(1).split(",")})
            continue
        for chunk in part.split(","):
            pair = re.match(r"\s*(\w+)\s+`?([^`\s]+)`?", chunk)
            if pair:
                values[pair.group(1)] = pair.group(2)
    return values


def expand_controls(cell: str) -> list[str]:
    """``1.5-1.11`` (CONTROLS.md writes an en dash) -> 1.5, 1.6, ..., 1.11; ``4.4`` -> 4.4."""
    match = re.fullmatch(r"(\d)\.(\d+)(?:\s*[\u2013-]\s*\d\.(\d+))?", cell.strip())
    if not match:
        raise ValueError(f"not a control or range of controls: {cell!r}")
    major, first, last = match.group(1), int(match.group(2)), int(match.group(3) or match.group(2))
    return [f"{major}.{n}" for n in range(first, last + 1)]


def read_contract(path: Path = CONTROLS_MD) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """CONTROLS.md as {rule name: {kind, controls, parameters}} and the process-check controls.

    ``parameters`` of a managed rule are the input parameters the pack deploys: the contract's,
    plus :data:`PARAMETER_ADDITIONS`."""
    rules: dict[str, dict[str, Any]] = {}
    section = ""
    process: set[str] = set()
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            section = line
            continue
        if section.startswith("## Process checks"):
            process |= set(re.findall(r"(\d\.\d+) \(", line))
            continue
        if not section.startswith(("## Custom", "## Managed")):
            continue  # e.g. "## Remediation" names rules again, with other columns
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not re.fullmatch(r"\d\.\d+(\s*[\u2013-]\s*\d\.\d+)?", cells[0]):
            continue
        names = [n for n in re.findall(r"`([A-Z][A-Z0-9_<>]+)`", cells[1]) if "<" not in n]
        if not names:
            continue
        kind = "managed" if section.startswith("## Managed") else "custom"
        parameters = contract_parameters(cells[2]) if kind == "managed" and len(cells) > 2 else {}
        if kind == "managed":
            parameters.update(PARAMETER_ADDITIONS.get(names[0], {}))
        rules[names[0]] = {"kind": kind, "controls": expand_controls(cells[0]), "parameters": parameters}
    return rules, process

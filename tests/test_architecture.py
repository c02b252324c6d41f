"""The shape of ``cispack/``: one sub-package per concern, dependencies one way (command line ->
features -> catalogue), test support never imported by product code, and no code reading files
outside the repository."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cispack import ROOT

PACKAGE = ROOT / "cispack"

# A package may import itself and the packages of lower layers, never a higher or equal one.
LAYERS = {
    "catalog": 0,
    "dist": 1,
    "generate": 2,
    "local": 3,
    "rollout": 3,
    "report": 4,
    "remediation": 4,
    "testing": 5,
    "cli": 6,
}


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def _package_of(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "cispack" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def test_every_module_lives_in_a_package_of_its_concern() -> None:
    top_level = {path.name for path in PACKAGE.glob("*.py")}
    assert top_level == {"__init__.py", "__main__.py"}
    packages = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert packages <= set(LAYERS), f"a package without a layer: {sorted(packages - set(LAYERS))}"


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_each_package_says_what_it_owns(package: str) -> None:
    init = PACKAGE / package / "__init__.py"
    if not init.parent.exists():
        pytest.skip(f"cispack/{package} does not exist yet")
    docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 80, f"cispack/{package}/__init__.py needs a docstring"


@pytest.mark.parametrize("module", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_run_with_the_grain(module: Path) -> None:
    package = _package_of(module)
    if package is None:
        return
    layer = LAYERS[package]
    against = sorted(other for other in _imported_packages(module) if other != package and LAYERS[other] >= layer)
    assert not against, f"cispack/{package} (layer {layer}) imports {against}"


def test_the_grain_test_catches_an_import_against_it(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from cispack.cli.main import main\nimport cispack.report.model\n")
    assert _imported_packages(wrong) == {"cli", "report"}


def test_no_code_reads_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*_modules(), *(ROOT / "tests").glob("*.py"), *(ROOT / "rules").glob("*/*.py")]
        if path.name != "test_architecture.py"
        if "ROOT.parent" in path.read_text(encoding="utf-8") or "../shared" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []

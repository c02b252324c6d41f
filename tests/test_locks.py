"""The locks are what ./pack installs: every requirement of setup.cfg is pinned in
requirements/dev.txt with hashes, and the venv the tests run in holds exactly those pins."""

from __future__ import annotations

import configparser
import importlib.metadata
import re

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from cispack import ROOT

LOCKS = ("dev", "tools", "layer")


def _pins(lock: str) -> dict[str, tuple[str, str | None, int]]:
    """name -> (version, marker, number of hashes) for every requirement of the lock."""
    text = (ROOT / "requirements" / f"{lock}.txt").read_text()
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = block.split("\\", 1)[0].strip()
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*(.+))?$", first)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            pins[name] = (match.group(2), match.group(3), block.count("--hash=sha256:"))
    return pins


def _setup_requirements() -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].splitlines() + config["options.extras_require"]["dev"].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    pins = _pins(lock)
    assert pins, f"requirements/{lock}.txt pins nothing"
    unhashed = sorted(name for name, (_, _, hashes) in pins.items() if hashes == 0)
    assert unhashed == [], f"requirements/{lock}.txt: pins without a hash: {unhashed}"


def test_setup_cfg_is_locked() -> None:
    pins = _pins("dev")
    stale = []
    for requirement in _setup_requirements():
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        pinned = pins.get(name)
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            stale.append(str(requirement))
    assert stale == [], f"setup.cfg asks for what requirements/dev.txt does not pin: {stale}; run ./pack lock"


def test_the_venv_holds_exactly_the_lock() -> None:
    wrong = []
    for name, (version, marker, _) in _pins("dev").items():
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong.append(f"{name} {installed} (lock: {version})")
    assert wrong == [], f".venv differs from requirements/dev.txt: {wrong}; ./pack rebuilds it"


def test_the_layer_lock_leaves_out_what_lambda_provides() -> None:
    assert sorted(_pins("layer")) == ["rdklib"]
    assert _pins("layer")["rdklib"][0] == _pins("dev")["rdklib"][0]

"""The bootstrap in ``pack``: it finds Python 3.12 or says, in one line, why it cannot."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cispack import ROOT


def _copy_of_pack(tmp_path: Path) -> Path:
    for name in ("pack", "setup.cfg", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    return tmp_path / "pack"


def test_no_python312_is_one_clear_line(tmp_path):
    pack = _copy_of_pack(tmp_path)
    # No python3.12 on PATH, no pyenv, and PYTHON312 pointing at a Python of another version.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON312": "/bin/true"}
    done = subprocess.run(["bash", str(pack), "--help"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pack: Python 3.12 not found"), done.stderr
    assert not (tmp_path / ".venv").exists()


def test_python312_is_found_through_PYTHON312(tmp_path):
    pack = _copy_of_pack(tmp_path)
    # The finder alone: source the script's function and print what it picks.
    script = f'source <(sed -n "/^is_python312()/,/^}}/p;/^find_python312()/,/^}}/p" {pack}); find_python312'
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON312": sys.executable}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == shutil.which(sys.executable) or done.stdout.strip() == sys.executable

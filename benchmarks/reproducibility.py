"""Two complete builds (every rule zip and the rdklib layer) on different days and in different
checkouts, compared byte for byte.

The second build runs in a copy of rules/ and rulelib/ whose files are a year newer, in another
time zone, and (when Debian's ``faketime`` is installed) under a clock set a year and a half ahead,
pip's layer install included. It prints each artifact's SHA-256 from both builds.

    .venv/bin/python benchmarks/reproducibility.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
A_YEAR = 365 * 24 * 3600

BUILD = """
import dataclasses, json, sys
from pathlib import Path
from cispack.catalog.rules import custom_rules
from cispack.dist import distribution
checkout, dest = Path(sys.argv[1]), Path(sys.argv[2])
rules = [dataclasses.replace(r, folder=checkout / "rules" / r.name) for r in custom_rules()]
manifest = distribution.build(dest, rules)
print(json.dumps({a.name: a.digest for a in manifest.artifacts}))
"""


def checkout(dest: Path, shift: int) -> Path:
    for folder in ("rules", "rulelib"):
        shutil.copytree(
            ROOT / folder, dest / folder, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.zip")
        )
    for path in dest.rglob("*"):
        if shift and path.is_file() and not path.is_symlink():
            stat = path.stat()
            os.utime(path, (stat.st_atime + shift, stat.st_mtime + shift))
    return dest


def build(source: Path, dest: Path, clock: list[str], tz: str) -> dict[str, str]:
    env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [*clock, sys.executable, "-c", BUILD, str(source), str(dest)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    faketime = shutil.which("faketime")
    with tempfile.TemporaryDirectory(prefix="reproducible-") as tmp:
        root = Path(tmp)
        first = build(checkout(root / "a", 0), root / "dist-a", [], "UTC")
        clock = [faketime, "-f", "+548d"] if faketime else []
        second = build(checkout(root / "b", A_YEAR), root / "dist-b", clock, "Pacific/Kiritimati")
        shifted = "+548 days (faketime)" if faketime else "unchanged (no faketime)"
        print(f"second build: sources a year newer, TZ Pacific/Kiritimati, clock {shifted}")
        print(f"{'artifact':<48} {'sha256 (first build)':<20} {'second':<20} same")
        for name in first:
            other = second.get(name, "-")
            print(f"{name:<48} {first[name][:20]:<20} {other[:20]:<20} {first[name] == other}")
        zips_a = sorted((root / "dist-a").glob("*.zip"))
        identical = all((root / "dist-b" / z.name).read_bytes() == z.read_bytes() for z in zips_a)
        print(f"{len(zips_a)} zips byte-identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())

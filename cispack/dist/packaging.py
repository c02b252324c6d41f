"""Build each custom rule's Lambda zip with the files ``rdk deploy`` would zip, byte for byte
reproducibly, and prove it stands alone.

rdk zips the rule folder alone (tests and parameters.json included); a symlinked file goes in
with its contents, which is how the shared modules of ``rulelib/`` reach every rule. The pack
zips the same files, but as a reproducible archive (:func:`write_zip`): entries sorted, one fixed
timestamp and mode, no interpreter or tool caches, and the bytecode Lambda would otherwise compile
at every cold start (:func:`with_bytecode`), so that the same sources always give the same bytes and
the archive's SHA-256 names exactly what is shipped.

AWS Lambda's Python runtime provides boto3; rdklib comes from a layer. :func:`lambda_like_path`
builds a ``sys.path`` holding just those, to import a zip's handler in a clean interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cispack.catalog.rules import LAMBDA_RUNTIME, Rule

# What the Lambda runtime and the rdklib layer provide: boto3, rdklib and their dependencies.
LAMBDA_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "rdklib")
# One timestamp for every entry (zip's own epoch, 1980): a file's mtime never reaches the archive.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# A regular file, rw-r--r--, whatever the checkout's umask; "made on Unix" whatever the build host.
ZIP_FILE_MODE = 0o100644 << 16
ZIP_UNIX = 3
# Never shipped: caches of the interpreter and the tools, and a zip an earlier `rdk deploy` left.
CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"})
# Bytecode is compiled for the Lambda runtime's interpreter, so it must be the one building.
RUNTIME_VERSION = tuple(int(part) for part in LAMBDA_RUNTIME.removeprefix("python").split("."))

Entries = list[tuple[str, bytes]]


def shipped(relative: Path) -> bool:
    """Whether a file of a rule folder or a layer tree belongs in the archive."""
    parts = relative.parts
    if any(part in CACHE_DIRS or part.startswith(".") for part in parts):
        return False
    return relative.suffix not in (".pyc", ".pyo", ".zip")


def tree_entries(source: Path, prefix: str = "") -> Entries:
    """Every shipped file under ``source`` (symlinks followed) as ``(archive name, bytes)``, sorted."""
    entries = []
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_file() and shipped(relative):
            entries.append((prefix + relative.as_posix(), path.read_bytes()))
    return sorted(entries)


# Run in a fresh interpreter with a fixed hash seed: the bytes marshal writes must not depend on
# this process's state. CHECKED_HASH: the .pyc records a hash of its source instead of the
# source's mtime (which unzipping on Lambda does not keep), and Python uses it only while the
# source beside it still has that hash; ``dfile`` keeps the build folder out of the bytecode.
_COMPILER = """
import json, py_compile, sys
for job in json.load(sys.stdin):
    py_compile.compile(job["source"], cfile=job["cfile"], dfile=job["name"], doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
"""


def cached_name(name: str) -> str:
    """The archive name of ``name``'s bytecode, where the runtime's import system looks for it."""
    folder, _, stem = name.rpartition("/")
    cache = f"__pycache__/{stem.removesuffix('.py')}.{sys.implementation.cache_tag}.pyc"
    return f"{folder}/{cache}" if folder else cache


def importable(name: str) -> bool:
    """A module Lambda may import (tests are zipped, as rdk zips them, but never imported)."""
    return name.endswith(".py") and not name.endswith("_test.py")


def with_bytecode(groups: Sequence[Entries]) -> list[Entries]:
    """Each group of entries plus the ``.pyc`` of its importable ``.py`` entries, every distinct
    file compiled once, all in one fresh interpreter."""
    if sys.version_info[:2] != RUNTIME_VERSION:
        raise RuntimeError(f"bytecode for {LAMBDA_RUNTIME} must be compiled by Python {LAMBDA_RUNTIME[6:]}")
    sources = sorted({(name, data) for entries in groups for name, data in entries if importable(name)})
    pycs: dict[tuple[str, bytes], bytes] = {}
    if sources:
        with tempfile.TemporaryDirectory(prefix="cispack-pyc-") as tmp:
            jobs = []
            for index, (name, data) in enumerate(sources):
                source = Path(tmp) / f"{index}.py"
                source.write_bytes(data)
                jobs.append({"source": str(source), "cfile": f"{source}c", "name": name})
            env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
            subprocess.run(
                [sys.executable, "-I", "-c", _COMPILER], input=json.dumps(jobs), text=True, check=True, env=env
            )
            pycs = {key: Path(job["cfile"]).read_bytes() for key, job in zip(sources, jobs, strict=True)}
    return [
        [*entries, *((cached_name(name), pycs[name, data]) for name, data in entries if importable(name))]
        for entries in groups
    ]


def write_zip(archive: Path, entries: Iterable[tuple[str, bytes]]) -> Path:
    """A reproducible zip: entries sorted by name, fixed timestamp, mode and host, deflated."""
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = ZIP_FILE_MODE
            info.create_system = ZIP_UNIX
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    return archive


def rule_zip(rule: Rule, dest_dir: Path, bytecode: bool = True) -> Path:
    """The rule's deployment package: ``<dest_dir>/<NAME>.zip``, the files rdk would zip
    (caches and rdk's own leftover ``<NAME>.zip`` excluded), plus their bytecode."""
    entries = tree_entries(rule.folder)
    return write_zip(dest_dir / f"{rule.name}.zip", with_bytecode([entries])[0] if bytecode else entries)


def zip_names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        return sorted(zf.namelist())


def lambda_like_path(dest: Path, packages: Iterable[str] = LAMBDA_PACKAGES) -> Path:
    """A folder that holds only the given top-level packages (linked from this environment)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        target = dest / source.name
        if not target.exists():
            target.symlink_to(source, target_is_directory=source.is_dir())
    return dest


IMPORT_PROBE = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
foreign = sorted(
    name for name, m in sys.modules.items()
    if getattr(m, "__file__", None) and not any(m.__file__.startswith(p) for p in sys.argv[2:])
    and not m.__file__.startswith(sys.base_prefix)
)
print(json.dumps({"handler": callable(getattr(module, "lambda_handler", None)), "foreign": foreign}))
"""


def import_standalone(unpacked: Path, module: str, site: Path) -> subprocess.CompletedProcess[str]:
    """Import ``module`` from ``unpacked`` in a clean interpreter (-I: no user site, no
    PYTHONPATH; -S: no site-packages) whose path holds only the zip's files and ``site``."""
    code = f"import sys; sys.path[:0] = [{str(unpacked)!r}, {str(site)!r}]\n" + IMPORT_PROBE
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, module, str(unpacked), str(site.resolve()), str(site)],
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )

"""Build each custom rule's Lambda zip exactly as ``rdk deploy`` does, and prove it stands alone.

rdk zips the rule folder alone with ``shutil.make_archive`` (tests and parameters.json
included); a symlinked file goes in with its contents, which is how the shared modules of
``rulelib/`` reach every rule. AWS Lambda's Python runtime provides boto3; rdklib comes from a
layer. :func:`lambda_like_path` builds a ``sys.path`` holding just those, to import a zip's
handler in a clean interpreter.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

from cispack.catalog.rules import Rule

# What the Lambda runtime and the rdklib layer provide: boto3, rdklib and their dependencies.
LAMBDA_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "rdklib")


def rule_zip(rule: Rule, dest_dir: Path) -> Path:
    """The rule's deployment package, as rdk makes it: ``<dest_dir>/<NAME>.zip``.

    Like rdk, it first deletes the ``<NAME>.zip`` that an earlier ``rdk deploy`` left in the
    rule folder, so that no package contains the previous one."""
    (rule.folder / f"{rule.name}.zip").unlink(missing_ok=True)
    base = dest_dir / rule.name
    archive = shutil.make_archive(str(base), "zip", str(rule.folder))
    return Path(archive)


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

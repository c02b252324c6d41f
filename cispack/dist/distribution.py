"""Code distribution for the organisation rollout: build the Lambda artifacts, upload them.

``build()`` makes, under ``build/dist``:

* each custom rule's zip, exactly as ``rdk deploy`` makes it (:func:`cispack.dist.packaging.rule_zip`);
* an rdklib Lambda layer zip (``python/rdklib/...``) from the rdklib version installed here, which
  setup.cfg pins. AWS's public rdklib layer is published for some regions and runtimes only, so
  the pack ships its own. Lambda's Python runtime already has boto3 and its dependencies: the
  layer holds rdklib and whatever else rdklib requires that the runtime lacks (today: nothing);
* ``manifest.json``: every artifact with its S3 key.

S3 keys carry a digest of the artifact's *content* (file names and bytes; ``__pycache__`` left
out, timestamps ignored), so the same code always has the same key and new code always a new
key: a StackSet update whose parameters name new keys makes CloudFormation update exactly the
functions (and the layer) whose code changed.

``upload()`` puts them into the code bucket of each chosen region (``<prefix>-<region>``,
``templates/code-bucket.yaml``); Lambda reads code only from a bucket in its own region.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from cispack import ROOT
from cispack.dist.packaging import rule_zip
from cispack.catalog.rules import LAMBDA_RUNTIME, Rule, custom_rules

DIST_DIR = ROOT / "build" / "dist"
MANIFEST = "manifest.json"
KEY_ROOT = "cis-config-pack"
LAYER_NAME = "rdklib-layer"
# Distributions the Lambda Python runtime provides (boto3 and its dependency tree).
LAMBDA_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"})
# Fixed zip timestamp: a rebuilt layer is byte-identical (zip's epoch is 1980).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Artifact:
    """One zip to upload: a rule's function code or the layer."""

    name: str
    kind: str  # "rule" or "layer"
    path: Path
    digest: str

    @property
    def key(self) -> str:
        return f"{KEY_ROOT}/{self.kind}s/{self.name}/{self.digest[:20]}.zip"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "file": self.path.name, "sha256": self.digest, "key": self.key}


@dataclass(frozen=True)
class Manifest:
    """What ``./pack build`` made: the layer and one zip per custom rule."""

    rdklib_version: str
    layer: Artifact
    rules: tuple[Artifact, ...]

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        return (self.layer, *self.rules)

    def rule_key(self, name: str) -> str:
        for artifact in self.rules:
            if artifact.name == name:
                return artifact.key
        raise KeyError(f"no artifact for rule {name}; rebuild with ./pack build")

    def to_json(self) -> dict[str, Any]:
        return {
            "runtime": LAMBDA_RUNTIME,
            "rdklib_version": self.rdklib_version,
            "layer": self.layer.to_json(),
            "rules": [artifact.to_json() for artifact in self.rules],
        }

    def write(self, dest_dir: Path) -> Path:
        path = dest_dir / MANIFEST
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def read(cls, dest_dir: Path = DIST_DIR) -> Manifest:
        document = json.loads((dest_dir / MANIFEST).read_text())

        def artifact(entry: dict[str, str]) -> Artifact:
            return Artifact(entry["name"], entry["kind"], dest_dir / entry["file"], entry["sha256"])

        return cls(
            str(document["rdklib_version"]),
            artifact(document["layer"]),
            tuple(artifact(entry) for entry in document["rules"]),
        )


def content_digest(archive: Path) -> str:
    """SHA-256 over the zip's file names and contents, in name order; ``__pycache__`` is left
    out (the interpreter's cache, rewritten by every test run) and zip timestamps are ignored."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(archive) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir() or "__pycache__/" in info.filename or info.filename.endswith(".pyc"):
                continue
            digest.update(info.filename.encode() + b"\0")
            digest.update(hashlib.sha256(zf.read(info)).digest())
    return digest.hexdigest()


def build_rule_zips(dest_dir: Path, rules: Iterable[Rule] | None = None) -> tuple[Artifact, ...]:
    artifacts = []
    for rule in rules if rules is not None else custom_rules():
        archive = rule_zip(rule, dest_dir)
        artifacts.append(Artifact(rule.name, "rule", archive, content_digest(archive)))
    return tuple(artifacts)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def layer_requirements() -> list[str]:
    """``rdklib==<installed>`` plus each of its requirements that Lambda does not provide,
    pinned to the version installed here (installed with ``--no-deps``: nothing else comes in)."""
    version = importlib.metadata.version("rdklib")
    pins = [f"rdklib=={version}"]
    for requirement in importlib.metadata.requires("rdklib") or []:
        if ";" in requirement and "extra ==" in requirement:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if match is None:
            raise ValueError(f"cannot read rdklib's requirement {requirement!r}")
        name = _canonical(match.group(0))
        if name not in LAMBDA_PROVIDED:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
    return pins


def deterministic_zip(source: Path, archive: Path, prefix: str) -> Path:
    """Zip ``source`` under ``prefix`` with sorted entries and fixed timestamps."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{prefix}/{path.relative_to(source).as_posix()}", date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return archive


def build_layer(dest_dir: Path, requirements: Sequence[str] | None = None) -> Artifact:
    """``<dest_dir>/rdklib-layer.zip``: ``python/`` as Lambda layers for Python expect it."""
    pins = list(requirements) if requirements is not None else layer_requirements()
    with tempfile.TemporaryDirectory(prefix="rdklib-layer-") as tmp:
        target = Path(tmp) / "python"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-compile",
                "--only-binary=:all:",
                "--python-version",
                LAMBDA_RUNTIME.removeprefix("python"),
                "--target",
                str(target),
                *pins,
            ],
            check=True,
        )
        # Console scripts are of no use in a layer.
        shutil.rmtree(target / "bin", ignore_errors=True)
        archive = deterministic_zip(target, dest_dir / f"{LAYER_NAME}.zip", "python")
    return Artifact(LAYER_NAME, "layer", archive, content_digest(archive))


def build(dest_dir: Path = DIST_DIR, rules: Iterable[Rule] | None = None) -> Manifest:
    """Build every artifact into ``dest_dir`` (emptied first) and write its manifest."""
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    dest_dir.mkdir(parents=True)
    manifest = Manifest(importlib.metadata.version("rdklib"), build_layer(dest_dir), build_rule_zips(dest_dir, rules))
    manifest.write(dest_dir)
    return manifest


def bucket_name(prefix: str, region: str) -> str:
    """The code bucket of ``region``, as templates/code-bucket.yaml names it."""
    return f"{prefix}-{region}"


@dataclass(frozen=True)
class Upload:
    region: str
    bucket: str
    key: str
    uploaded: bool  # False: the key was already there (same content digest)

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "bucket": self.bucket, "key": self.key, "uploaded": self.uploaded}


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload(manifest: Manifest, regions: Sequence[str], bucket_prefix: str, session: Any) -> list[Upload]:
    """Put every artifact into each region's code bucket, skipping keys already there (a key
    is a content digest: same key, same code)."""
    uploads = []
    for region in regions:
        s3 = session.client("s3", region_name=region)
        bucket = bucket_name(bucket_prefix, region)
        for artifact in manifest.artifacts:
            present = _exists(s3, bucket, artifact.key)
            if not present:
                s3.put_object(
                    Bucket=bucket,
                    Key=artifact.key,
                    Body=artifact.path.read_bytes(),
                    ContentType="application/zip",
                    Metadata={"sha256-content": artifact.digest},
                )
            uploads.append(Upload(region, bucket, artifact.key, not present))
    return uploads


def upload_template(body: str, region: str, bucket_prefix: str, session: Any, name: str = "member") -> str:
    """Put a template into the region's code bucket under a content-addressed key; its URL.

    StackSets accept a TemplateBody of at most 51,200 bytes; larger templates go by URL."""
    digest = hashlib.sha256(body.encode()).hexdigest()[:20]
    bucket = bucket_name(bucket_prefix, region)
    key = f"{KEY_ROOT}/templates/{name}/{digest}.yaml"
    s3 = session.client("s3", region_name=region)
    if not _exists(s3, bucket, key):
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="text/yaml")
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"

"""Code distribution for the organisation rollout: build the Lambda artifacts, upload them.

``build()`` makes, under ``build/dist``:

* each custom rule's zip (:func:`cispack.dist.packaging.rule_zip`): the files ``rdk deploy``
  would zip, with their bytecode, as a reproducible archive;
* an rdklib Lambda layer zip (``python/rdklib/...``) installed with ``--require-hashes`` from
  ``requirements/layer.txt``, which ``./pack lock`` writes with the rdklib version that .venv's
  lock pins (the one the tests run on). AWS's public rdklib layer is published for some regions
  and runtimes only, so the pack ships its own. Lambda's Python runtime already has boto3 and its
  dependencies: the layer holds rdklib and whatever else rdklib requires that the runtime lacks
  (today: nothing);
* ``manifest.json``: every artifact with its SHA-256 and S3 key.

Every archive is reproducible (same sources and lock, same bytes, whatever the day or the
checkout), so its digest is simply the SHA-256 of the file that is shipped. S3 keys carry that
digest, so the same code always has the same key and new code always a new key: a StackSet update
whose parameters name new keys makes CloudFormation update exactly the functions (and the layer)
whose code changed.

``upload()`` puts them into the code bucket of each chosen region (``<prefix>-<region>``,
``templates/code-bucket.yaml``); Lambda reads code only from a bucket in its own region. S3
verifies each upload against its SHA-256 (``ChecksumSHA256``); a key that already holds other
bytes is never overwritten (:class:`KeyConflictError`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from cispack import ROOT
from cispack.catalog.rules import LAMBDA_RUNTIME, Rule, custom_rules
from cispack.dist.packaging import tree_entries, with_bytecode, write_zip

DIST_DIR = ROOT / "build" / "dist"
MANIFEST = "manifest.json"
KEY_ROOT = "cis-config-pack"
LAYER_NAME = "rdklib-layer"
LAYER_LOCK = ROOT / "requirements" / "layer.txt"
# The metadata every uploaded artifact carries: its SHA-256, hex (S3's checksum is base64).
DIGEST_METADATA = "sha256-content"


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


def file_digest(archive: Path) -> str:
    """SHA-256 of the archive's bytes: exactly what is uploaded and what Lambda runs."""
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def build_rule_zips(dest_dir: Path, rules: Iterable[Rule] | None = None) -> tuple[Artifact, ...]:
    """Each rule's zip (:func:`cispack.dist.packaging.rule_zip`), compiling shared modules once."""
    chosen = list(rules if rules is not None else custom_rules(every_folder=True))
    dest_dir.mkdir(parents=True, exist_ok=True)
    groups = with_bytecode([tree_entries(rule.folder) for rule in chosen])
    artifacts = []
    for rule, entries in zip(chosen, groups, strict=True):
        archive = write_zip(dest_dir / f"{rule.name}.zip", entries)
        artifacts.append(Artifact(rule.name, "rule", archive, file_digest(archive)))
    return tuple(artifacts)


def locked_version(lock: Path, name: str) -> str:
    """The version ``lock`` pins for ``name`` (``name==X`` at the start of a line)."""
    match = re.search(rf"^{re.escape(name)}==([^\s;\\]+)", lock.read_text(), re.MULTILINE)
    if match is None:
        raise ValueError(f"{lock} pins no version of {name}; run ./pack lock")
    return match.group(1)


def build_layer(dest_dir: Path, lock: Path = LAYER_LOCK) -> Artifact:
    """``<dest_dir>/rdklib-layer.zip``: ``python/`` as Lambda layers for Python expect it, holding
    exactly what ``lock`` pins, each file checked against the lock's hashes."""
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
                "--require-hashes",
                "--no-deps",
                "--no-compile",
                "--only-binary=:all:",
                "--python-version",
                LAMBDA_RUNTIME.removeprefix("python"),
                "--target",
                str(target),
                "-r",
                str(lock),
            ],
            check=True,
        )
        # Console scripts are of no use in a layer.
        shutil.rmtree(target / "bin", ignore_errors=True)
        entries = tree_entries(target, prefix="python/")
        archive = write_zip(dest_dir / f"{LAYER_NAME}.zip", with_bytecode([entries])[0])
    return Artifact(LAYER_NAME, "layer", archive, file_digest(archive))


def build(dest_dir: Path = DIST_DIR, rules: Iterable[Rule] | None = None) -> Manifest:
    """Build every artifact into ``dest_dir`` (emptied first) and write its manifest."""
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    dest_dir.mkdir(parents=True)
    manifest = Manifest(locked_version(LAYER_LOCK, "rdklib"), build_layer(dest_dir), build_rule_zips(dest_dir, rules))
    manifest.write(dest_dir)
    return manifest


def bucket_name(prefix: str, region: str) -> str:
    """The code bucket of ``region``, as templates/code-bucket.yaml names it."""
    return f"{prefix}-{region}"


def writer_principal_arn(caller_arn: str) -> str:
    """The ``WriterPrincipalArn`` of templates/code-bucket.yaml for the caller that ``sts
    get-caller-identity`` names: an assumed role's session becomes its role (``aws:PrincipalArn``
    names the role; a role with a path must be given whole, as STS leaves the path out)."""
    match = re.fullmatch(r"arn:([a-z-]+):(?:sts|iam)::(\d{12}):(assumed-role|role|user)/([^/]+)(?:/.+)?", caller_arn)
    if match is None:
        raise ValueError(f"cannot name the IAM principal of {caller_arn!r}: give the role or user ARN itself")
    partition, account, kind, name = match.groups()
    if kind == "user":
        # A user's ARN keeps its path; take it as it is.
        return caller_arn.replace(":sts::", ":iam::", 1)
    return f"arn:{partition}:iam::{account}:role/{name}"


@dataclass(frozen=True)
class Upload:
    region: str
    bucket: str
    key: str
    uploaded: bool  # False: the key already held these very bytes

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "bucket": self.bucket, "key": self.key, "uploaded": self.uploaded}


class KeyConflictError(RuntimeError):
    """A key of the code bucket holds other bytes than the artifact meant for it."""


def sha256_base64(data: bytes) -> str:
    """SHA-256 as S3 writes it in ``ChecksumSHA256``."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


_MISSING = ("404", "NoSuchKey", "NotFound")
# S3's answers to ``IfNoneMatch="*"`` when the key was written meanwhile.
_TAKEN = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


def _stored_checksum(s3: Any, bucket: str, key: str) -> str | None:
    """The SHA-256 (base64) of the object under ``key``, or None when there is none.

    S3's own ``ChecksumSHA256`` (verified by S3 when the object was written) when it kept one for
    the whole object; otherwise the object is read and hashed. A ``sha256-content`` metadata value
    that disagrees makes the object suspect: it counts as different bytes."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            return None
        raise
    stored: str | None = head.get("ChecksumSHA256")
    if not stored or "-" in stored:  # none, or a multipart upload's checksum of checksums
        stored = sha256_base64(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    claimed = (head.get("Metadata") or {}).get(DIGEST_METADATA)
    if claimed is not None and base64.b64encode(bytes.fromhex(claimed)).decode() != stored:
        return f"{stored} (its {DIGEST_METADATA} metadata says {claimed})"
    return stored


def put_once(s3: Any, bucket: str, key: str, data: bytes, content_type: str) -> bool:
    """Put ``data`` under ``key`` unless that key already holds exactly ``data`` (False then).

    S3 checks the body against ``ChecksumSHA256`` and refuses it when they differ; the answer's
    checksum is checked too. ``IfNoneMatch="*"`` makes S3 refuse the write when the key appeared
    since it was looked up. A key that holds other bytes raises :class:`KeyConflictError`: a
    deployed artifact is never replaced."""
    want = sha256_base64(data)

    def same_or_conflict(found: str) -> bool:
        if found != want:
            raise KeyConflictError(
                f"s3://{bucket}/{key} already holds other bytes (SHA-256 {found}, this build's is {want}); "
                "refusing to overwrite a deployed artifact."
            )
        return False

    found = _stored_checksum(s3, bucket, key)
    if found is not None:
        return same_or_conflict(found)
    try:
        answer = s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            # The algorithm names the header S3 checks; the value is this build's, never recomputed.
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=want,
            Metadata={DIGEST_METADATA: hashlib.sha256(data).hexdigest()},
            IfNoneMatch="*",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] not in _TAKEN:
            raise
        found = _stored_checksum(s3, bucket, key)
        if found is None:
            raise
        return same_or_conflict(found)
    if answer.get("ChecksumSHA256") != want:
        raise KeyConflictError(
            f"s3://{bucket}/{key}: S3 answered SHA-256 {answer.get('ChecksumSHA256')} for an upload of {want}."
        )
    return True


def upload(manifest: Manifest, regions: Sequence[str], bucket_prefix: str, session: Any) -> list[Upload]:
    """Put every artifact into each region's code bucket; a key already holding the same bytes
    is left as it is, one holding other bytes stops the upload (:class:`KeyConflictError`)."""
    uploads = []
    for region in regions:
        s3 = session.client("s3", region_name=region)
        bucket = bucket_name(bucket_prefix, region)
        for artifact in manifest.artifacts:
            data = artifact.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != artifact.digest:
                raise KeyConflictError(f"{artifact.path} is not what the manifest built; run ./pack build again.")
            fresh = put_once(s3, bucket, artifact.key, data, "application/zip")
            uploads.append(Upload(region, bucket, artifact.key, fresh))
    return uploads


def template_key(body: str, name: str) -> str:
    """Where a template is stored in a code bucket: content-addressed, ``<name>`` its kind."""
    return f"{KEY_ROOT}/templates/{name}/{hashlib.sha256(body.encode()).hexdigest()[:20]}.yaml"


def put_template(body: str, region: str, bucket_prefix: str, session: Any, name: str) -> Upload:
    """Put a template into the region's code bucket under :func:`template_key`, once
    (:func:`put_once`: a key holding other bytes stops it)."""
    bucket = bucket_name(bucket_prefix, region)
    key = template_key(body, name)
    fresh = put_once(session.client("s3", region_name=region), bucket, key, body.encode(), "text/yaml")
    return Upload(region, bucket, key, fresh)

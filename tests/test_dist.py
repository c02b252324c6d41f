"""What the pack ships is what it built and tested: reproducible rule zips (the same bytes on
another day and in another checkout), no caches, digests over exactly the shipped bytes, bytecode
that the runtime really uses, and uploads that verify checksums and never replace a deployed key."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cispack import ROOT
from cispack.catalog.rules import Rule, custom_rules
from cispack.dist import distribution
from cispack.dist.packaging import ZIP_EPOCH, ZIP_FILE_MODE, ZIP_UNIX, importable, rule_zip

CUSTOM = custom_rules()
A_YEAR_LATER = 365 * 24 * 3600


def _checkout(dest: Path) -> list[Rule]:
    """A copy of rules/ and rulelib/ (symlinks kept, as git checks them out) and its custom rules."""
    for folder in ("rules", "rulelib"):
        shutil.copytree(
            ROOT / folder, dest / folder, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.zip")
        )
    return [dataclasses.replace(rule, folder=dest / "rules" / rule.name) for rule in CUSTOM]


def _digests(manifest_rules: tuple[distribution.Artifact, ...]) -> dict[str, str]:
    return {artifact.name: artifact.digest for artifact in manifest_rules}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Rule], tuple[distribution.Artifact, ...]]:
    rules = _checkout(tmp_path_factory.mktemp("checkout-a"))
    return rules, distribution.build_rule_zips(tmp_path_factory.mktemp("dist-a"), rules)


def test_another_day_and_another_checkout_give_the_same_bytes(
    first_build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = first_build
    rules = _checkout(tmp_path / "checkout-b")
    # Another day: every source file a year newer, the clock a year ahead, another time zone.
    for path in (tmp_path / "checkout-b").rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            os.utime(path, (stat.st_atime + A_YEAR_LATER, stat.st_mtime + A_YEAR_LATER))
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + A_YEAR_LATER)
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        again = distribution.build_rule_zips(tmp_path / "dist-b", rules)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [(a.name, a.path.read_bytes()) for a in again] == [(a.name, a.path.read_bytes()) for a in first]
    assert all(a.digest == hashlib.sha256(a.path.read_bytes()).hexdigest() for a in again)


@pytest.mark.parametrize(
    ("case", "edit"),
    [
        ("a module some rules share", "rulelib/cis_s3_public.py"),
        ("one rule's parameters.json", "rules/IAM_ROOT_ACCOUNT_UNUSED/parameters.json"),
    ],
)
def test_an_edited_file_changes_exactly_its_rules_digests(
    first_build: Any, tmp_path: Path, case: str, edit: str
) -> None:
    _, first = first_build
    rules = _checkout(tmp_path)
    edited = tmp_path / edit
    edited.write_bytes(edited.read_bytes() + b"\n")
    name = Path(edit).name
    expected = {rule.name for rule in rules if (rule.folder / name).resolve() == edited.resolve()}
    assert expected and len(expected) < len(rules), case
    again = distribution.build_rule_zips(tmp_path / "dist", rules)
    before, after = _digests(first), _digests(again)
    assert {rule for rule in after if after[rule] != before[rule]} == expected


def test_the_zip_holds_the_rule_files_and_their_bytecode_only(tmp_path: Path) -> None:
    rule = next(r for r in _checkout(tmp_path / "checkout") if r.name == "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC")
    # What a developer's folder gathers: test caches, a stale .pyc, rdk's own zip, editor files.
    (rule.folder / "__pycache__").mkdir()
    (rule.folder / "__pycache__" / "cis_rule.cpython-312.pyc").write_bytes(b"stale")
    (rule.folder / "__pycache__" / "gone.cpython-312.pyc").write_bytes(b"stale")
    (rule.folder / ".pytest_cache").mkdir()
    (rule.folder / ".pytest_cache" / "README.md").write_text("cache")
    (rule.folder / f"{rule.name}.zip").write_bytes(b"PK")
    (rule.folder / ".DS_Store").write_bytes(b"x")
    archive = rule_zip(rule, tmp_path)
    sources = sorted(p.name for p in rule.folder.iterdir() if p.is_file() and not p.name.startswith("."))
    sources.remove(f"{rule.name}.zip")
    pycs = [f"__pycache__/{name[:-3]}.cpython-312.pyc" for name in sources if importable(name)]
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(sources + pycs)
        assert zf.read("__pycache__/cis_rule.cpython-312.pyc") != b"stale"
    assert {(i.date_time, i.external_attr, i.create_system, i.compress_type) for i in infos} == {
        (ZIP_EPOCH, ZIP_FILE_MODE, ZIP_UNIX, zipfile.ZIP_DEFLATED)
    }


def test_the_runtime_loads_the_shipped_bytecode(tmp_path: Path) -> None:
    rule = next(r for r in CUSTOM if r.name == "METRIC_FILTER_ALARM_VPC_CHANGES")
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(rule_zip(rule, tmp_path)) as zf:
        zf.extractall(unpacked)
        names = zf.namelist()
    for name in names:
        if importable(name):
            pyc = (unpacked / "__pycache__" / f"{name[:-3]}.cpython-312.pyc").read_bytes()
            assert pyc[:4] == importlib.util.MAGIC_NUMBER, name
            assert int.from_bytes(pyc[4:8], "little") == 0b11, f"{name}: a checked source-hash pyc"
            assert pyc[8:16] == importlib.util.source_hash((unpacked / name).read_bytes()), name
    # As on Lambda: /var/task is read-only, so Python can only use what the zip brings (-B).
    probe = subprocess.run(
        [sys.executable, "-I", "-B", "-v", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r}); import cis_rule"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"code object from '{unpacked}/__pycache__/cis_rule.cpython-312.pyc'" in probe.stderr


def test_the_layer_lock_is_the_rdklib_the_tests_run_on() -> None:
    assert distribution.locked_version(distribution.LAYER_LOCK, "rdklib") == importlib.metadata.version("rdklib")


# --- upload -------------------------------------------------------------------------------------

REGION = "us-east-1"
PREFIX = "cis-pack-code-123456789012"
BUCKET = distribution.bucket_name(PREFIX, REGION)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        client = session.client("s3")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield session, client


def _manifest(tmp_path: Path, body: bytes = b"PK\x05\x06" + bytes(18)) -> distribution.Manifest:
    path = tmp_path / "rdklib-layer.zip"
    path.write_bytes(body)
    layer = distribution.Artifact("rdklib-layer", "layer", path, hashlib.sha256(body).hexdigest())
    return distribution.Manifest("0.3.10", layer, ())


def _versions(client: Any, key: str) -> int:
    return len(client.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", []))


def test_upload_sends_the_sha256_and_puts_a_key_once(s3: Any, tmp_path: Path) -> None:
    session, client = s3
    manifest = _manifest(tmp_path)
    key = manifest.layer.key
    assert [u.uploaded for u in distribution.upload(manifest, [REGION], PREFIX, session)] == [True]
    head = client.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == distribution.sha256_base64(manifest.layer.path.read_bytes())
    assert head["Metadata"] == {"sha256-content": manifest.layer.digest}
    assert [u.uploaded for u in distribution.upload(manifest, [REGION], PREFIX, session)] == [False]
    assert _versions(client, key) == 1


@pytest.mark.parametrize(
    ("case", "existing", "extra"),
    [
        ("other bytes with their own checksum", b"tampered", {"ChecksumAlgorithm": "SHA256"}),
        ("other bytes without a checksum", b"tampered", {}),
        ("the same bytes with metadata naming others", None, {"Metadata": {"sha256-content": "00" * 32}}),
    ],
)
def test_upload_refuses_to_overwrite_other_bytes(
    s3: Any, tmp_path: Path, case: str, existing: bytes | None, extra: dict[str, Any]
) -> None:
    session, client = s3
    manifest = _manifest(tmp_path)
    key = manifest.layer.key
    client.put_object(Bucket=BUCKET, Key=key, Body=existing or manifest.layer.path.read_bytes(), **extra)
    with pytest.raises(distribution.KeyConflictError, match="refusing to overwrite a deployed artifact"):
        distribution.upload(manifest, [REGION], PREFIX, session)
    assert _versions(client, key) == 1, case


def test_upload_accepts_the_same_bytes_stored_without_a_checksum(s3: Any, tmp_path: Path) -> None:
    session, client = s3
    manifest = _manifest(tmp_path)
    client.put_object(Bucket=BUCKET, Key=manifest.layer.key, Body=manifest.layer.path.read_bytes())
    assert [u.uploaded for u in distribution.upload(manifest, [REGION], PREFIX, session)] == [False]


def test_a_key_written_meanwhile_is_not_overwritten(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session, client = s3
    manifest = _manifest(tmp_path)
    key = manifest.layer.key
    looked = distribution._stored_checksum

    def racing(s3_client: Any, bucket: str, name: str) -> str | None:
        # Another writer puts other bytes right after the first look found nothing.
        monkeypatch.setattr(distribution, "_stored_checksum", looked)
        client.put_object(Bucket=bucket, Key=name, Body=b"other", ChecksumAlgorithm="SHA256")
        return None

    monkeypatch.setattr(distribution, "_stored_checksum", racing)
    with pytest.raises(distribution.KeyConflictError):
        distribution.upload(manifest, [REGION], PREFIX, session)
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"other"


def test_an_answer_with_another_checksum_fails_the_upload(s3: Any, tmp_path: Path) -> None:
    session, _ = s3
    manifest = _manifest(tmp_path)
    client = session.client("s3", region_name=REGION)

    def corrupt(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ChecksumSHA256"] = distribution.sha256_base64(b"something else")

    client.meta.events.register("after-call.s3.PutObject", corrupt)
    with pytest.raises(distribution.KeyConflictError, match="S3 answered SHA-256"):
        distribution.put_once(client, BUCKET, manifest.layer.key, manifest.layer.path.read_bytes(), "application/zip")


def test_a_changed_file_after_the_build_is_not_uploaded(s3: Any, tmp_path: Path) -> None:
    session, client = s3
    manifest = _manifest(tmp_path)
    manifest.layer.path.write_bytes(b"changed since the build")
    with pytest.raises(distribution.KeyConflictError, match="not what the manifest built"):
        distribution.upload(manifest, [REGION], PREFIX, session)
    assert _versions(client, manifest.layer.key) == 0

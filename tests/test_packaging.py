"""Packaging proof: every custom rule's folder, zipped as rdk zips it, imports standalone."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest

from cispack.catalog.rules import custom_rules
from cispack.dist.packaging import import_standalone, lambda_like_path, rule_zip, zip_names

# Every custom rule folder, those only later CIS versions use included.
CUSTOM = custom_rules(every_folder=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return lambda_like_path(tmp_path_factory.mktemp("lambda-site"))


def test_python_is_312():
    assert sys.version_info[:2] == (3, 12)


@pytest.mark.parametrize("rule", CUSTOM, ids=[r.name for r in CUSTOM])
def test_rule_zip_imports_with_only_boto3_and_rdklib(rule, site, tmp_path):
    archive = rule_zip(rule, tmp_path)
    names = zip_names(archive)
    assert f"{rule.name}.py" in names
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(unpacked)
    for name in names:
        assert not (unpacked / name).is_symlink(), "symlinks must be zipped as their contents"
    result = import_standalone(unpacked, rule.name, site)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"handler": True, "foreign": []}, report


def test_probe_sees_a_missing_module(site, tmp_path):
    (tmp_path / "needs_yaml.py").write_text("import yaml\n")
    result = import_standalone(tmp_path, "needs_yaml", site)
    assert result.returncode != 0 and "No module named 'yaml'" in result.stderr

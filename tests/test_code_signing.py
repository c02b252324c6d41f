"""Optional Lambda code signing in the member template: off by default, and when a signing
profile version is given, every rule function enforces it through this account's own config."""

from __future__ import annotations

from typing import Any

import pytest

from cispack.catalog.rules import custom_rules
from cispack.generate import member_template
from cispack.generate.conformance import logical_id


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return member_template.generate()


def test_signing_is_an_optional_parameter(member: dict[str, Any]) -> None:
    parameter = member["Parameters"][member_template.SIGNING_PARAMETER]
    assert parameter["Default"] == ""
    assert member["Conditions"][member_template.SIGNING_CONDITION] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": member_template.SIGNING_PARAMETER}, ""]}]
    }


def test_the_config_enforces_the_one_profile(member: dict[str, Any]) -> None:
    config = member["Resources"]["CodeSigningConfig"]
    assert config["Condition"] == member_template.SIGNING_CONDITION
    assert config["Properties"]["AllowedPublishers"] == {
        "SigningProfileVersionArns": [{"Ref": member_template.SIGNING_PARAMETER}]
    }
    assert config["Properties"]["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}


@pytest.mark.parametrize("rule", custom_rules(every_folder=True), ids=lambda r: r.name)
def test_every_function_takes_it_when_set(member: dict[str, Any], rule: Any) -> None:
    function = member["Resources"][f"{logical_id(rule.name)}Function"]["Properties"]
    assert function["CodeSigningConfigArn"] == {
        "Fn::If": [member_template.SIGNING_CONDITION, {"Ref": "CodeSigningConfig"}, {"Ref": "AWS::NoValue"}]
    }

"""The rdk path grants what the StackSet path grants: ``templates/rdk-role.yaml``'s role, given to
``rdk deploy --lambda-role-arn``, has the member template's execution-role policy."""

from __future__ import annotations

from typing import Any

import pytest
from rdk import rdk as rdk_module

from cispack.catalog.rules import custom_rules
from cispack.generate import member_template, rdk_role
from cispack.generate.conformance import logical_id

CUSTOM = custom_rules(every_folder=True)  # every rule folder: `rdk deploy --all` deploys each
RDK_ROLE_RESOURCES = rdk_role.generate()["Resources"]


@pytest.fixture(scope="module")
def roles() -> tuple[dict[str, Any], dict[str, Any]]:
    stackset = member_template.generate()["Resources"]["RulesExecutionRole"]["Properties"]
    rdk = RDK_ROLE_RESOURCES["RulesExecutionRole"]["Properties"]
    return stackset, rdk


def _policy(role: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p["PolicyDocument"] for p in role["Policies"] if p["PolicyName"] == name)


def test_the_rule_actions_policy_is_the_stackset_one(roles: Any) -> None:
    stackset, rdk = roles
    assert [p["PolicyName"] for p in rdk["Policies"]] == [p["PolicyName"] for p in stackset["Policies"]]
    assert _policy(rdk, "declared-rule-actions") == _policy(stackset, "declared-rule-actions")
    assert rdk["AssumeRolePolicyDocument"] == stackset["AssumeRolePolicyDocument"]
    statement = _policy(rdk, "declared-rule-actions")["Statement"][0]
    assert statement["Action"] == member_template.declared_actions(CUSTOM)
    assert "sts:AssumeRole" not in statement["Action"] and not rdk.get("ManagedPolicyArns")


def test_the_log_policy_names_rdks_log_groups_instead(roles: Any) -> None:
    stackset, rdk = roles
    mine, theirs = _policy(rdk, "own-log-groups"), _policy(stackset, "own-log-groups")
    resources = mine["Statement"][0]["Resource"]
    assert {**mine["Statement"][0], "Resource": None} == {**theirs["Statement"][0], "Resource": None}
    assert resources == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}:*"}
        for name in (rdk_role.rdk_log_group_name(rule) for rule in CUSTOM)
    ]


@pytest.mark.parametrize("rule", CUSTOM, ids=[r.name for r in CUSTOM])
def test_function_and_log_group_names_are_rdks(rule: Any) -> None:
    # rdk's own naming code, called on a bare instance (it reads nothing else of it).
    rdk = object.__new__(rdk_module.rdk)
    assert rdk_role.rdk_function_name(rule) == rdk._rdk__get_lambda_name(rule.name, rule.parameters)
    group = RDK_ROLE_RESOURCES[f"{logical_id(rule.name)}LogGroup"]["Properties"]
    assert group["LogGroupName"] == f"/aws/lambda/{rdk_role.rdk_function_name(rule)}"


@pytest.mark.parametrize("name", ["IAM_USER_ONE_ACTIVE_ACCESS_KEY", "METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES"])
def test_the_rules_of_later_versions_only_get_their_log_group_and_actions(name: str) -> None:
    """``rdk deploy --all`` deploys every rule folder: the two rules no v1.2.0 control uses too."""
    rule = next(r for r in CUSTOM if r.name == name)
    assert not rule.in_v120_pack
    group = RDK_ROLE_RESOURCES[f"{logical_id(name)}LogGroup"]["Properties"]["LogGroupName"]
    assert group == f"/aws/lambda/{rdk_role.rdk_function_name(rule)}"
    role = RDK_ROLE_RESOURCES["RulesExecutionRole"]["Properties"]
    (logs,) = _policy(role, "own-log-groups")["Statement"]
    assert {"Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{group}:*"} in (
        logs["Resource"]
    )
    (declared,) = _policy(role, "declared-rule-actions")["Statement"]
    assert set(rule.required_actions()) <= set(declared["Action"])

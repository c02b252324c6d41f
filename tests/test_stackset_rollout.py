"""The organisation rollout on the local AWS (moto): code buckets, upload, service-managed
StackSet into three accounts of an OU and two regions, then a fourth account joins and a second
rollout (the update path) adds it. Each account is read back through
OrganizationAccountAccessRole: functions, layer, role, policies and permissions in place.
The uploaded zips are downloaded and imported standalone (Lambda's boto3 + the pack's layer).

It prints the accounts, regions and resources it created (``pytest -s`` shows them).
"""

from __future__ import annotations

import ast
import importlib.metadata
import io
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from cispack import ROOT, TEMPLATES_DIR
from cispack.catalog.rules import Rule, custom_rules
from cispack.catalog.versions import benchmark
from cispack.cli import main as cli
from cispack.dist import distribution
from cispack.dist.packaging import LAMBDA_PACKAGES, import_standalone, lambda_like_path
from cispack.generate import member_template
from cispack.rollout import stackset as rollout

REGIONS = ("us-east-1", "eu-west-1")
GLOBAL_REGION = "us-east-1"
BUCKET_PREFIX = "cis-pack-code-123456789012"
MANAGEMENT = "123456789012"  # moto's default account: the organisation's management account
CUSTOM = custom_rules()  # the v1.2.0 pack's
FUNCTIONS = custom_rules(every_folder=True)  # every custom rule folder: one zip and one function each
#: The versions the local rollout deploys: v1.2.0 and v3.0.0 (./pack rollout --benchmark cis-1.2.0,cis-3.0.0).
CHOSEN = ("cis-1.2.0", "cis-3.0.0")
DEPLOYED = {r.name for r in CUSTOM} | {
    name for name in benchmark("cis-3.0.0").rule_names if name in {r.name for r in FUNCTIONS}
}
# moto's CloudFormation skips, with a warning, what it does not implement; tests/test_templates.py
# covers those resources.
MOTO_SKIPS = r"Tried to parse AWS::(S3::BucketPolicy|Config::ConformancePack) but it's not supported"
ACTIONS = member_template.declared_actions(FUNCTIONS)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> distribution.Manifest:
    return distribution.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": GLOBAL_REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with warnings.catch_warnings(), mock_aws():
        warnings.filterwarnings("ignore", message=MOTO_SKIPS, category=UserWarning)
        yield boto3.Session(region_name=GLOBAL_REGION)


def _organization(session: Any, accounts: int) -> tuple[str, str, list[str]]:
    return rollout.create_local_organization(session, accounts)


def _code_buckets(session: Any, org_id: str) -> None:
    body = (TEMPLATES_DIR / "code-bucket.yaml").read_text()
    rollout.deploy_code_buckets(session, REGIONS, BUCKET_PREFIX, org_id, body)


def _settings(manifest: distribution.Manifest, ou: str) -> rollout.Settings:
    return rollout.Settings(
        organizational_unit_ids=(ou,),
        regions=REGIONS,
        home_region=GLOBAL_REGION,
        bucket_prefix=BUCKET_PREFIX,
        parameters=member_template.parameter_values(manifest, BUCKET_PREFIX, "1", GLOBAL_REGION),
        max_concurrent_percentage=50,
        failure_tolerance_percentage=10,
    )


def _member_session(session: Any, account: str) -> Any:
    return rollout.member_session(session, account, GLOBAL_REGION)


def _expected_functions(region: str) -> set[str]:
    return {
        member_template.function_name(r)
        for r in FUNCTIONS
        if r.name in DEPLOYED and (not r.is_global or region == GLOBAL_REGION)
    }


def _document(policy: Any) -> Any:
    """A policy document as IAM returns it: boto3 decodes it to a dict; moto's CloudFormation
    stores an inline role policy as the Python text of its dict, which boto3 leaves a string."""
    if not isinstance(policy, str):
        return policy
    try:
        return json.loads(policy)
    except json.JSONDecodeError:
        return ast.literal_eval(policy)


def _inspect(member: Any, account: str, manifest: distribution.Manifest) -> dict[str, Any]:
    """Everything the StackSet put into one account, checked and summarised."""
    iam = member.client("iam")
    found: dict[str, Any] = {"account": account, "regions": {}}
    for region in REGIONS:
        role_name = f"{member_template.ROLE_NAME_PREFIX}{region}"
        role = iam.get_role(RoleName=role_name)["Role"]
        assert role["Arn"] == f"arn:aws:iam::{account}:role/{role_name}"
        trust = _document(role["AssumeRolePolicyDocument"])
        assert trust["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
        declared = _document(
            iam.get_role_policy(RoleName=role_name, PolicyName="declared-rule-actions")["PolicyDocument"]
        )
        assert [s["Action"] for s in declared["Statement"]] == [ACTIONS]
        assert [s["Resource"] for s in declared["Statement"]] == ["*"]
        logs = _document(iam.get_role_policy(RoleName=role_name, PolicyName="own-log-groups")["PolicyDocument"])
        assert logs["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert logs["Statement"][0]["Resource"] == [
            f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{member_template.function_name(r)}:*"
            for r in FUNCTIONS
        ]

        lam = member.client("lambda", region_name=region)
        functions = {
            f["FunctionName"]: f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]
        }
        assert set(functions) == _expected_functions(region)
        # One layer per account and region. (moto names it after the stack, not LayerName.)
        layers = [layer["LatestMatchingVersion"] for layer in lam.list_layers()["Layers"]]
        assert [layer["CompatibleRuntimes"] for layer in layers] == [["python3.12"]]
        for rule in FUNCTIONS:
            name = member_template.function_name(rule)
            if name not in functions:
                continue
            function = functions[name]
            assert function["Runtime"] == "python3.12"
            assert function["Handler"] == f"{rule.name}.lambda_handler"
            assert function["Role"] == role["Arn"]
            # moto's CloudFormation drops a function's Layers; tests/test_templates.py checks
            # that every function of the template names the layer.
            code = lam.get_function(FunctionName=name)["Code"]
            assert code["RepositoryType"] == "S3"
            policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
            (statement,) = policy["Statement"]
            assert statement["Effect"] == "Allow"
            assert statement["Principal"] == {"Service": "config.amazonaws.com"}
            assert statement["Action"] == "lambda:InvokeFunction"
            assert statement["Resource"] == function["FunctionArn"]
            assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": account}}
        found["regions"][region] = {
            "role": role["Arn"],
            "functions": sorted(functions),
            "layer_versions": [layer["LayerVersionArn"] for layer in layers],
            "permissions": len(functions),
        }
    return found


def test_rollout_into_three_accounts_and_two_regions_then_a_fourth_account(
    aws: Any, manifest: distribution.Manifest
) -> None:
    """``./pack rollout --local``: create path into 3 accounts x 2 regions, then a fourth account
    joins the OU and the update path (update_stack_set, create_stack_instances) adds it. In AWS
    automatic deployment adds a joining account; moto does not implement it."""
    session = aws
    record = rollout.local_rollout(
        session,
        manifest,
        # Generated from rules/ now; tests/test_templates.py fails when the committed copy differs.
        member_template.render(member_template.generate()),
        (TEMPLATES_DIR / "code-bucket.yaml").read_text(),
        REGIONS,
        accounts=3,
        joining=1,
        benchmarks=CHOSEN,
    )
    accounts = [entry["account"] for entry in record["accounts"]]
    assert len(set(accounts)) == 4 and MANAGEMENT not in accounts
    assert record["management_account"] == MANAGEMENT
    assert record["code_buckets"] == [f"{rollout.LOCAL_BUCKET_PREFIX}-{r}" for r in REGIONS]
    assert record["uploaded_keys"] == sorted(a.key for a in manifest.artifacts)
    # The later versions' packs, read by TemplateS3Uri from each region's bucket (moto skips the packs).
    assert record["uploaded_templates"] == sorted(
        distribution.template_key(body, name) for name, body in member_template.pack_bodies().items()
    )
    assert [(o["operation"], o["status"]) for o in record["stack_set"]["create"]] == [
        ("create_stack_instances", "SUCCEEDED")
    ]
    assert [(o["operation"], o["status"]) for o in record["stack_set"]["update"]] == [
        ("update_stack_set", "SUCCEEDED"),
        ("create_stack_instances", "SUCCEEDED"),
    ]
    assert record["stack_instances"] == sorted([a, r] for a in accounts for r in REGIONS)
    described = session.client("cloudformation").describe_stack_set(StackSetName=rollout.STACK_SET_NAME)
    assert described["StackSet"]["PermissionModel"] == "SERVICE_MANAGED"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["StackSet"]["Parameters"]}
    assert parameters == {
        **member_template.parameter_values(manifest, rollout.LOCAL_BUCKET_PREFIX, "1", GLOBAL_REGION),
        **member_template.benchmark_parameters(CHOSEN),
    }
    # The rules only the later versions use run in the global-resources region only.
    later_only = {member_template.function_name(r) for r in FUNCTIONS if not r.in_v120_pack}
    assert len(later_only) == 2 and later_only <= _expected_functions(GLOBAL_REGION)
    assert not later_only & _expected_functions("eu-west-1")

    # docs/rollout.md names the seeded accounts a local rollout creates (the joining account's ID
    # depends on how many random IDs the process drew before, so it is not named).
    documented = (ROOT / "docs" / "rollout.md").read_text(encoding="utf-8")
    assert all(f"`{account}`" in documented for account in accounts[:3]), accounts
    assert f"`{record['organization']}`" in documented

    # Independently of the record: read every account back through OrganizationAccountAccessRole.
    for account in accounts:
        _inspect(_member_session(session, account), account, manifest)
    for entry in record["accounts"]:
        for region, found in entry["regions"].items():
            assert found["functions"] == sorted(_expected_functions(region))
            assert found["role_policies"] == ["declared-rule-actions", "own-log-groups"]
            assert found["log_groups"] == [f"/aws/lambda/{name}" for name in found["functions"]]
            assert set(map(tuple, found["permissions"].values())) == {
                (f"config.amazonaws.com lambda:InvokeFunction SourceAccount={entry['account']}",)
            }
    print("\nStackSet rollout on the local AWS (moto):")
    print(json.dumps(record, indent=1))


def test_uploaded_zips_import_standalone_with_the_layer(
    aws: Any, manifest: distribution.Manifest, tmp_path: Path
) -> None:
    session = aws
    org_id, _, _ = _organization(session, 1)
    _code_buckets(session, org_id)
    uploads = distribution.upload(manifest, REGIONS, BUCKET_PREFIX, session)
    assert [(u.region, u.key, u.uploaded) for u in uploads] == [
        (region, artifact.key, True) for region in REGIONS for artifact in manifest.artifacts
    ]
    again = distribution.upload(manifest, REGIONS, BUCKET_PREFIX, session)
    assert not any(u.uploaded for u in again), "a content-addressed key is uploaded once"
    s3 = session.client("s3", region_name=REGIONS[1])
    bucket = distribution.bucket_name(BUCKET_PREFIX, REGIONS[1])

    def fetch(key: str, dest: Path) -> list[str]:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            zf.extractall(dest)
            return zf.namelist()

    # Lambda's runtime: boto3 and its dependencies only; rdklib must come from the layer.
    site = lambda_like_path(tmp_path / "site", [p for p in LAMBDA_PACKAGES if p != "rdklib"])
    layer_files = fetch(manifest.layer.key, tmp_path / "layer")
    assert all(name.startswith("python/") for name in layer_files)
    assert "python/rdklib/__init__.py" in layer_files
    assert not any(name.startswith(("python/boto3/", "python/botocore/")) for name in layer_files)
    for entry in (tmp_path / "layer" / "python").iterdir():
        (site / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())

    for rule in FUNCTIONS:
        unpacked = tmp_path / rule.name
        names = fetch(manifest.rule_key(rule.name), unpacked)
        assert f"{rule.name}.py" in names
        result = import_standalone(unpacked, rule.name, site)
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {"handler": True, "foreign": []}


def test_build_is_reproducible_and_the_layer_holds_only_rdklib(manifest: distribution.Manifest, tmp_path: Path) -> None:
    assert manifest.rdklib_version == importlib.metadata.version("rdklib")
    assert [a.name for a in manifest.rules] == [r.name for r in FUNCTIONS]
    assert all(a.key == f"cis-config-pack/rules/{a.name}/{a.digest[:20]}.zip" for a in manifest.rules)
    again = distribution.build(tmp_path / "again")
    assert again.layer.path.read_bytes() == manifest.layer.path.read_bytes()
    assert [(a.name, a.key) for a in again.artifacts] == [(a.name, a.key) for a in manifest.artifacts]
    assert distribution.Manifest.read(tmp_path / "again") == again
    with zipfile.ZipFile(again.layer.path) as zf:
        tops = {name.split("/")[1] for name in zf.namelist()}
    assert tops == {"rdklib", f"rdklib-{manifest.rdklib_version}.dist-info", "rdklibtest"}


def test_dry_run_makes_no_call(manifest: distribution.Manifest, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ.pop("AWS_ENDPOINT_URL", None)
    settings = _settings(manifest, "ou-abcd-12345678")
    template = rollout.Template.in_code_bucket("Resources: {}\n", settings)
    calls = rollout.printable(rollout.plan(settings, template))
    assert [(c["service"], c["operation"], c["when"]) for c in calls] == [
        ("s3", "put_object", "always"),
        ("cloudformation", "describe_stack_set", "always"),
        ("cloudformation", "create_stack_set", "stack set does not exist"),
        ("cloudformation", "update_stack_set", "stack set exists"),
        ("cloudformation", "create_stack_instances", "always"),
    ]
    create = calls[2]["params"]
    assert create["PermissionModel"] == "SERVICE_MANAGED"
    assert create["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert create["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert calls[0]["params"]["Body"] == "<member template, 14 bytes>"
    assert calls[4]["params"]["DeploymentTargets"] == {"OrganizationalUnitIds": ["ou-abcd-12345678"]}
    assert calls[4]["params"]["Regions"] == list(REGIONS)
    assert calls[4]["params"]["OperationPreferences"] == {
        "RegionConcurrencyType": "PARALLEL",
        "MaxConcurrentPercentage": 50,
        "FailureTolerancePercentage": 10,
    }


def _rule(name: str, **parameters: Any) -> Rule:
    return Rule(name, Path("."), parameters)


def test_cost_estimate_counts_global_rules_once_and_regional_rules_per_region() -> None:
    rules = [
        _rule("ACCOUNT_DAILY", SourcePeriodic="TwentyFour_Hours", RuleSets=["cis-1.2.0:1.1", "global-resources"]),
        _rule("ROUTES_HOURLY", SourcePeriodic="One_Hour", RuleSets=["cis-1.2.0:4.4"]),  # Level 2
        _rule("SG_CHANGES", SourceEvents="AWS::EC2::SecurityGroup", RuleSets=["cis-1.2.0:4.1"]),
    ]
    level1 = rollout.estimate(rules, accounts=10, regions=3, level=1)
    assert (level1.global_rules, level1.regional_rules, level1.change_triggered) == (
        ("ACCOUNT_DAILY",),
        (),
        ("SG_CHANGES",),
    )
    assert level1.runs_per_account == pytest.approx(730 / 24)
    level2 = rollout.estimate(rules, accounts=10, regions=3, level=2)
    assert level2.regional_rules == ("ROUTES_HOURLY",)
    assert level2.runs_per_account == pytest.approx(730 / 24 + 730 * 3)
    assert level2.runs == pytest.approx(10 * (730 / 24 + 2190))
    assert level2.cost() == pytest.approx(level2.runs * 0.001)
    assert level2.cost(evaluations=600_000) == pytest.approx(100 + 320 + 50)
    assert level2.cost(evaluations=600_000, flat=True) == pytest.approx(600)


def test_rollout_cli_dry_run_without_credentials_prints_json_and_makes_no_call(
    manifest: distribution.Manifest, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials: the dry run reads nothing, calls nothing and prints the plan (--json)."""
    import botocore.client

    def no_call(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a dry run without credentials must make no AWS call")

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", no_call)
    code = cli.main(
        [
            "rollout",
            "--dry-run",
            "--dist",
            str(manifest.layer.path.parent),
            "--ou",
            "ou-abcd-12345678",
            "--regions",
            "us-east-1,eu-west-1",
            "--bucket-prefix",
            BUCKET_PREFIX,
            "--max-concurrent-count",
            "4",
            "--failure-tolerance-count",
            "1",
            "--call-as",
            "DELEGATED_ADMIN",
            "--retain-stacks-on-account-removal",
            "--frequency",
            "Six_Hours",
            "--json",
        ]
    )
    assert code == 0
    calls = json.loads(capsys.readouterr().out)
    assert [c["operation"] for c in calls] == [
        "put_object",
        "describe_stack_set",
        "create_stack_set",
        "update_stack_set",
        "create_stack_instances",
    ]
    create = calls[2]["params"]
    assert create["CallAs"] == "DELEGATED_ADMIN"
    assert create["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": True}
    assert create["TemplateURL"].startswith(f"https://{BUCKET_PREFIX}-us-east-1.s3.us-east-1.amazonaws.com/")
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in create["Parameters"]}
    # ProfileLevel was not given: the template's default on create, the StackSet's value on update.
    expected = member_template.parameter_values(manifest, BUCKET_PREFIX, "1", "us-east-1", frequency="Six_Hours")
    assert parameters == {k: v for k, v in expected.items() if k != "ProfileLevel"}
    assert parameters["CustomRuleFrequency"] == "Six_Hours"
    update = {p["ParameterKey"]: p for p in calls[3]["params"]["Parameters"]}
    assert update["ProfileLevel"] == {"ParameterKey": "ProfileLevel", "UsePreviousValue": True}
    assert update["GlobalResourcesRegion"] == {"ParameterKey": "GlobalResourcesRegion", "UsePreviousValue": True}
    assert update["AlarmTopic"] == {"ParameterKey": "AlarmTopic", "UsePreviousValue": True}
    assert update["CustomRuleFrequency"] == {"ParameterKey": "CustomRuleFrequency", "ParameterValue": "Six_Hours"}
    assert calls[4]["params"]["OperationPreferences"] == {
        "RegionConcurrencyType": "PARALLEL",
        "MaxConcurrentCount": 4,
        "FailureToleranceCount": 1,
    }


def test_wait_reports_each_failed_instance() -> None:
    cfn = boto3.client("cloudformation", region_name=GLOBAL_REGION, aws_access_key_id="x", aws_secret_access_key="x")
    key = {"StackSetName": "s", "OperationId": "op-1", "CallAs": "SELF"}
    with Stubber(cfn) as stub:
        stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"Status": "RUNNING"}}, key)
        stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"Status": "FAILED"}}, key)
        stub.add_response(
            "list_stack_set_operation_results",
            {
                "Summaries": [
                    {"Account": "111111111111", "Region": "eu-west-1", "Status": "SUCCEEDED"},
                    {
                        "Account": "222222222222",
                        "Region": "eu-west-1",
                        "Status": "FAILED",
                        "StatusReason": "ResourceLogicalId:ConformancePack, NoAvailableConfigurationRecorder",
                    },
                ]
            },
            key,
        )
        slept: list[float] = []
        with pytest.raises(rollout.RolloutError) as raised:
            rollout.wait_for_operation(cfn, "s", "op-1", "SELF", poll_seconds=5, sleep=slept.append)
        stub.assert_no_pending_responses()
    assert str(raised.value) == (
        "operation op-1 FAILED: 222222222222/eu-west-1: FAILED "
        "ResourceLogicalId:ConformancePack, NoAvailableConfigurationRecorder"
    )
    assert slept == [5]


def test_wait_gives_up_after_the_timeout() -> None:
    cfn = boto3.client("cloudformation", region_name=GLOBAL_REGION, aws_access_key_id="x", aws_secret_access_key="x")
    key = {"StackSetName": "s", "OperationId": "op-2", "CallAs": "DELEGATED_ADMIN"}
    with Stubber(cfn) as stub:
        for _ in range(3):
            stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"Status": "RUNNING"}}, key)
        with pytest.raises(rollout.RolloutError, match="operation op-2 still RUNNING after 20 s"):
            rollout.wait_for_operation(
                cfn, "s", "op-2", "DELEGATED_ADMIN", poll_seconds=10, timeout_seconds=20, sleep=lambda _: None
            )
        stub.assert_no_pending_responses()


def test_rollout_refuses_a_global_region_outside_its_regions(capsys) -> None:
    from cispack.cli.main import main

    code = main(
        [
            "rollout",
            "--dry-run",
            "--regions",
            "us-east-1,eu-west-1",
            "--global-resources-region",
            "ap-south-1",
            "--ou",
            "ou-abcd-11111111",
            "--bucket-prefix",
            "cis-pack-code",
        ]
    )
    assert code == 2
    assert "--global-resources-region ap-south-1 is not among --regions us-east-1,eu-west-1" in capsys.readouterr().err

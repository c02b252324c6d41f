"""AWS Config's recorders in each region of account 123456789012, as CIS 2.5
(rules/CONFIG_ENABLED_ALL_REGIONS) judges them: which regions are checked, which recorder makes a
region pass, how the annotation groups the failing regions within 256 characters, and what the
rule says when a region cannot be read (never COMPLIANT).

EC2 and AWS Config are botocore's ``Stubber`` on the pack's own clients (``cis_rule.Clients``,
which names the IAM action of a failed call), one per region: each scenario queues the answers of
its state, and a call it did not queue, or a region it did not expect to be read, fails the test.
The rule's RDK table runs the same rule against moto's 38 regions; these scenarios are the fast ones.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import cis_rule
from cis_rule import Clients, EvaluationError, OutOfTime, RuleFailed
from cispack import RULES_DIR
from cispack.local.config import ComplianceLedger
from cispack.local.events import scheduled_event
from cispack.testing.cases import RunningOut

NAME = "CONFIG_ENABLED_ALL_REGIONS"
# Appended, not prepended: a module of this name found earlier on the path (or already imported) wins.
if str(RULES_DIR / NAME) not in sys.path:
    sys.path.append(str(RULES_DIR / NAME))
rule_module = importlib.import_module(NAME)
judge_region = rule_module.judge_region

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-config-role"
# The rule's region comes from its ARN here: AWS_REGION is unset (see the fixture).
EVENT = {"accountId": ACCOUNT, "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-ab12cd"}
ACCOUNT_TYPE = "AWS::::Account"

# --- One region's recorders ---------------------------------------------------------------------


def recorder(name: str = "default", global_types: bool = False, **group: Any) -> dict[str, Any]:
    """A recorder of every supported resource type, global ones when told; ``group`` overrides."""
    recording = {"allSupported": True, "includeGlobalResourceTypes": global_types, **group}
    return {"name": name, "roleARN": ROLE, "recordingGroup": recording}


def status(name: str = "default", recording: bool = True, last: str | None = "Success") -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "recording": recording}
    if last is not None:
        found["lastStatus"] = last
    return found


SERVICE_LINKED = {
    "name": "AWSConfigurationRecorderForCloudWatch",
    "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
    "servicePrincipal": "config-conforms.amazonaws.com",
}


@pytest.mark.parametrize(
    ("case", "recorders", "statuses", "expected"),
    [
        ("recording_everything", [recorder()], [status()], (None, False)),
        ("recording_everything_and_global_types", [recorder(global_types=True)], [status()], (None, True)),
        ("global_types_asked_as_text", [recorder(includeGlobalResourceTypes="true")], [status()], (None, False)),
        ("last_status_pending", [recorder()], [status(last="Pending")], (None, False)),
        ("never_delivered_yet", [recorder()], [status(last=None)], (None, False)),
        ("no_recorder", [], [], ("no recorder", False)),
        ("only_a_service_linked_recorder", [SERVICE_LINKED], [status(SERVICE_LINKED["name"])], ("no recorder", False)),
        ("some_types_only", [recorder(allSupported=False)], [status()], ("not all resource types recorded", False)),
        (
            "all_supported_as_text",
            [recorder(allSupported="true")],
            [status()],
            ("not all resource types recorded", False),
        ),
        (
            "all_but_excluded_types",
            [recorder(exclusionByResourceTypes={"resourceTypes": ["AWS::EC2::Instance"]})],
            [status()],
            ("not all resource types recorded", False),
        ),
        (
            "nothing_excluded",
            [recorder(exclusionByResourceTypes={"resourceTypes": []})],
            [status()],
            (None, False),
        ),
        (
            "no_recording_group",
            [{"name": "default", "roleARN": ROLE}],
            [status()],
            ("not all resource types recorded", False),
        ),
        ("stopped", [recorder()], [status(recording=False)], ("recorder stopped", False)),
        ("no_status_for_it", [recorder()], [status("other")], ("recorder stopped", False)),
        ("last_delivery_failed", [recorder()], [status(last="Failure")], ("last status FAILURE", False)),
        # A stopped recorder does not hide a passing one beside it, whichever comes first.
        ("stopped_then_passing", [recorder("a"), recorder("b", True)], [status("a", False), status("b")], (None, True)),
        (
            "failed_then_passing",
            [recorder("a"), recorder("b")],
            [status("a", last="Failure"), status("b")],
            (None, False),
        ),
        (
            "failed_then_stopped",
            [recorder("a"), recorder("b")],
            [status("a", last="Failure"), status("b", False)],
            ("recorder stopped", False),
        ),
        (
            "partial_then_failed",
            [recorder("a", allSupported=False), recorder("b")],
            [status("a"), status("b", last="Failure")],
            ("last status FAILURE", False),
        ),
        ("service_linked_beside_own", [SERVICE_LINKED, recorder()], [status()], (None, False)),
    ],
)
def test_what_makes_a_region_pass(case, recorders, statuses, expected):
    assert judge_region(recorders, statuses) == expected


# --- The account: every region ------------------------------------------------------------------


#: The pack's clients, built once for every scenario (building 17 regions' clients per test is most of
#: the file's time); each scenario stubs them afresh, and the fixture below unstubs them after it.
CLIENTS = Clients(None, REGION, False)
ACTIVE: list[Stubber] = []


class Account:
    """The regions of the account, each with its recorders, as the rule's client factory hands
    out its clients: EC2 in the rule's region, AWS Config in each region the scenario expects read."""

    def __init__(self, *enabled: str, not_enabled: tuple[str, ...] = ("ap-east-1",)) -> None:
        self.clients = CLIENTS
        self.stubs: dict[tuple[str, str], Stubber] = {}
        self.enabled = enabled
        self.not_enabled = not_enabled
        # GovCloud, which moto lists and a commercial account never sees, must not be checked.
        listed = [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in (*enabled, "us-gov-west-1")]
        listed += [{"RegionName": r, "OptInStatus": "not-opted-in"} for r in not_enabled]
        self.listed = listed

    def stub(self, service: str, region: str) -> Stubber:
        if (service, region) not in self.stubs:
            stubber = Stubber(self.clients.build_client(service, region))
            stubber.activate()
            ACTIVE.append(stubber)
            self.stubs[(service, region)] = stubber
        return self.stubs[(service, region)]

    def build_client(self, service: str, region: str | None = None, assume_role_mode: bool = True) -> Any:
        if (service, region) not in self.stubs:
            raise AssertionError(f"the scenario expects no {service} client in {region}")
        return self.clients.build_client(service, region, assume_role_mode)

    def regions_listed(self, all_regions: bool = False) -> Account:
        """``DescribeRegions``: the enabled regions, or with ``AllRegions`` the partition's."""
        listed = self.listed if all_regions else [r for r in self.listed if r["OptInStatus"] != "not-opted-in"]
        self.stub("ec2", REGION).add_response(
            "describe_regions", {"Regions": listed}, {"AllRegions": True} if all_regions else {}
        )
        return self

    def region(self, region: str, recorders: list[dict[str, Any]], statuses: list[dict[str, Any]]) -> Account:
        config = self.stub("config", region)
        config.add_response("describe_configuration_recorders", {"ConfigurationRecorders": recorders}, {})
        config.add_response("describe_configuration_recorder_status", {"ConfigurationRecordersStatus": statuses}, {})
        return self

    def unread(self, *regions: str) -> Account:
        """AWS Config clients with nothing queued: any read in these regions fails the test."""
        for region in regions:
            self.stub("config", region)
        return self

    def passing(self, *regions: str, global_in: tuple[str, ...] = ()) -> Account:
        for region in regions:
            self.region(region, [recorder(global_types=region in global_in)], [status()])
        return self

    def without_recorder(self, *regions: str) -> Account:
        for region in regions:
            self.region(region, [], [])
        return self

    def partial(self, *regions: str) -> Account:
        for region in regions:
            self.region(region, [recorder(allSupported=False)], [status()])
        return self

    def stopped(self, *regions: str) -> Account:
        for region in regions:
            self.region(region, [recorder()], [status(recording=False)])
        return self

    def failed(self, *regions: str) -> Account:
        for region in regions:
            self.region(region, [recorder()], [status(last="Failure")])
        return self


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    """Fake credentials, so that building a client looks for none, and no region in the
    environment: the rule takes its own from the event."""
    for variable, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    yield
    while ACTIVE:
        ACTIVE.pop().deactivate()


def verdict(aws: Account, excluded: str = "") -> tuple[str, str]:
    rule = rule_module.CONFIG_ENABLED_ALL_REGIONS()
    parameters = rule.evaluate_parameters({"excludedRegions": excluded} if excluded else {})
    (evaluation,) = rule.evaluate_periodic(EVENT, aws, parameters)
    for stub in aws.stubs.values():
        stub.assert_no_pending_responses()
    assert (evaluation.complianceResourceType, evaluation.complianceResourceId) == (ACCOUNT_TYPE, ACCOUNT)
    return evaluation.complianceType, evaluation.annotation


THREE = ("eu-west-1", "us-east-1", "us-west-2")


def test_every_region_recording_and_one_with_global_types_is_compliant():
    aws = Account(*THREE).regions_listed().passing(*THREE, global_in=("us-east-1",))
    assert verdict(aws) == (
        "COMPLIANT",
        "AWS Config records all resource types in all 3 checked regions, and global resource types in us-east-1.",
    )


def test_global_types_recorded_in_many_regions_names_four():
    regions = ("ap-south-1", "ca-central-1", "eu-central-1", "eu-west-1", "us-east-1")
    aws = Account(*regions).regions_listed().passing(*regions, global_in=regions)
    assert verdict(aws) == (
        "COMPLIANT",
        "AWS Config records all resource types in all 5 checked regions, and global resource types in "
        "ap-south-1, ca-central-1, eu-central-1, eu-west-1 and 1 more.",
    )


def test_every_region_recording_but_none_with_global_types_is_non_compliant():
    aws = Account(*THREE).regions_listed().passing(*THREE)
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config records all resource types in all 3 checked regions, but no region records global resource types.",
    )


def test_new_account_without_any_recorder_is_non_compliant():
    aws = Account(*THREE).regions_listed().without_recorder(*THREE)
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config is incomplete in 3 of 3 checked regions: no recorder in eu-west-1, us-east-1 and us-west-2; "
        "and no region records global resource types.",
    )


def test_failing_regions_are_grouped_by_reason_in_a_fixed_order():
    regions = ("ap-south-1", "ca-central-1", "eu-north-1", "eu-west-1", "sa-east-1", "us-east-1")
    aws = Account(*regions).regions_listed().passing("us-east-1", global_in=("us-east-1",))
    aws.failed("ap-south-1").stopped("ca-central-1", "sa-east-1").partial("eu-north-1").without_recorder("eu-west-1")
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config is incomplete in 5 of 6 checked regions: no recorder in eu-west-1; not all resource types "
        "recorded in eu-north-1; recorder stopped in ca-central-1 and sa-east-1; last status FAILURE in ap-south-1.",
    )


SEVENTEEN = (
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
)  # fmt: skip


def test_many_failing_regions_are_counted_four_named_per_reason():
    aws = Account(*SEVENTEEN).regions_listed().passing("us-east-1", global_in=("us-east-1",))
    aws.without_recorder(*SEVENTEEN[:8]).partial(*SEVENTEEN[8:13], *SEVENTEEN[14:])
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config is incomplete in 16 of 17 checked regions: no recorder in ap-northeast-1, ap-northeast-2, "
        "ap-northeast-3, ap-south-1 and 4 more; not all resource types recorded in eu-north-1, eu-west-1, "
        "eu-west-2, eu-west-3 and 4 more.",
    )


def test_three_reasons_with_many_regions_name_two_per_reason_to_fit():
    aws = Account(*SEVENTEEN).regions_listed().passing(*SEVENTEEN[12:], global_in=("us-east-1",))
    aws.without_recorder(*SEVENTEEN[:4]).partial(*SEVENTEEN[4:8]).stopped(*SEVENTEEN[8:12])
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config is incomplete in 12 of 17 checked regions: no recorder in ap-northeast-1, ap-northeast-2 and "
        "2 more; not all resource types recorded in ap-southeast-1, ap-southeast-2 and 2 more; recorder stopped "
        "in eu-north-1, eu-west-1 and 2 more.",
    )


def test_three_reasons_and_no_global_types_name_one_region_per_reason_to_fit():
    aws = Account(*SEVENTEEN).regions_listed().passing(*SEVENTEEN[12:])
    aws.without_recorder(*SEVENTEEN[:4]).partial(*SEVENTEEN[4:8]).stopped(*SEVENTEEN[8:12])
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config is incomplete in 12 of 17 checked regions: no recorder in ap-northeast-1 and 3 more; not all "
        "resource types recorded in ap-southeast-1 and 3 more; recorder stopped in eu-north-1 and 3 more; and no "
        "region records global resource types.",
    )


@pytest.mark.parametrize(
    ("case", "failed_regions", "counted"),
    [
        ("four_failed", SEVENTEEN[13:], "4 regions"),
        # The one region of a reason is named whatever the others need.
        ("one_failed", SEVENTEEN[13:14], "us-east-1"),
    ],
)
def test_every_reason_and_no_global_types_count_the_regions_when_names_do_not_fit(case, failed_regions, counted):
    aws = Account(*SEVENTEEN).regions_listed().passing(*(r for r in SEVENTEEN[13:] if r not in failed_regions))
    aws.without_recorder(*SEVENTEEN[:5]).partial(*SEVENTEEN[5:9]).stopped(*SEVENTEEN[9:13]).failed(*failed_regions)
    failed = 13 + len(failed_regions)
    assert verdict(aws) == (
        "NON_COMPLIANT",
        f"AWS Config is incomplete in {failed} of 17 checked regions: no recorder in 5 regions; not all resource "
        "types recorded in 4 regions; recorder stopped in 4 regions; last status FAILURE in "
        f"{counted}; and no region records global resource types.",
    )


def test_annotation_one_character_too_long_names_fewer_regions():
    # With four regions a reason, the sentence is 256 characters before its period: one too many.
    regions = (
        "ap-northeast-1", "ap-northeast-3", "ap-southeast-2", "ap-southeast-3", "ap-southeast-6", "ap-southeast-7",
        "eu-west-1", "us-east-1",
    )  # fmt: skip
    aws = Account(*regions).regions_listed().passing("us-east-1", global_in=("us-east-1",))
    aws.without_recorder("ap-northeast-1").partial("ap-southeast-2", "ap-southeast-7", "eu-west-1")
    aws.stopped("ap-northeast-3", "ap-southeast-6").failed("ap-southeast-3")
    assert verdict(aws) == (
        "NON_COMPLIANT",
        "AWS Config is incomplete in 7 of 8 checked regions: no recorder in ap-northeast-1; not all resource types "
        "recorded in ap-southeast-2, ap-southeast-7 and 1 more; recorder stopped in ap-northeast-3 and "
        "ap-southeast-6; last status FAILURE in ap-southeast-3.",
    )


def test_excluded_regions_are_not_read():
    aws = (
        Account(*THREE).regions_listed(all_regions=True).regions_listed().passing("us-east-1", global_in=("us-east-1",))
    )
    assert verdict(aws, excluded="eu-west-1, us-west-2") == (
        "COMPLIANT",
        "AWS Config records all resource types in all 1 checked regions, and global resource types in us-east-1.",
    )


def test_excluding_an_opt_in_region_the_account_has_not_enabled_is_accepted():
    aws = Account(*THREE).regions_listed(all_regions=True).regions_listed().passing(*THREE, global_in=THREE)
    compliance, _ = verdict(aws, excluded="ap-east-1")
    assert compliance == "COMPLIANT"


@pytest.mark.parametrize(
    ("case", "excluded", "message"),
    [
        ("one_typo", "us-est-1", "excludedRegions names us-est-1, which is not a region of this partition."),
        (
            "two_unknown",
            "eu-west-1, us-est-1, cn-north-1",
            "excludedRegions names cn-north-1 and us-est-1, which are not regions of this partition.",
        ),
    ],
)
def test_excluded_region_unknown_to_the_partition_is_an_error(case, excluded, message):
    aws = Account(*THREE).regions_listed(all_regions=True)
    rule = rule_module.CONFIG_ENABLED_ALL_REGIONS()
    parameters = rule.evaluate_parameters({"excludedRegions": excluded})
    with pytest.raises(EvaluationError) as raised:
        rule.evaluate_periodic(EVENT, aws, parameters)
    assert str(raised.value) == message


@pytest.mark.parametrize("call", ["describe_configuration_recorders", "describe_configuration_recorder_status"])
def test_region_denying_the_rule_makes_the_run_fail_naming_it(call):
    aws = Account(*THREE).regions_listed().passing("eu-west-1", "us-east-1")
    config = aws.stub("config", "us-west-2")
    if call == "describe_configuration_recorder_status":
        config.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [recorder()]}, {})
    config.add_client_error(call, "AccessDeniedException", "denied by an SCP", 400)
    action = "DescribeConfigurationRecorders" if call == "describe_configuration_recorders" else (
        "DescribeConfigurationRecorderStatus"
    )  # fmt: skip
    rule = rule_module.CONFIG_ENABLED_ALL_REGIONS()
    with pytest.raises(EvaluationError) as raised:
        rule.evaluate_periodic(EVENT, aws, rule.evaluate_parameters({}))
    assert str(raised.value) == f"config:{action} was denied (AccessDeniedException) in us-west-2"


def test_region_throttling_after_retries_fails_the_run_as_a_transient_error():
    aws = Account(*THREE).regions_listed().passing("eu-west-1", "us-east-1")
    aws.stub("config", "us-west-2").add_client_error("describe_configuration_recorders", "ThrottlingException", "", 400)
    rule = rule_module.CONFIG_ENABLED_ALL_REGIONS()
    with pytest.raises(ClientError, match="ThrottlingException"):
        rule.evaluate_periodic(EVENT, aws, rule.evaluate_parameters({}))


class Clock:
    """Lambda's remaining time, as the scenario sets it."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_time_running_out_while_regions_are_read_says_how_far_it_got():
    clock = Clock(60_000)
    aws = Account(*THREE).regions_listed().unread(*THREE)
    cis_rule._DEADLINE.start(clock)
    try:
        # The regions are listed with time to spare; then the time is gone before the first region.
        clock.remaining_ms = 1_000
        rule = rule_module.CONFIG_ENABLED_ALL_REGIONS()
        with pytest.raises(
            OutOfTime, match=r"^Stopped with 1\.0 s left before the Lambda timeout after 0 of 3 regions read,"
        ):
            rule.evaluate_periodic(EVENT, aws, rule.evaluate_parameters({}))
    finally:
        cis_rule._DEADLINE.stop()


# --- The handler ----------------------------------------------------------------------------------


def test_handler_out_of_time_stops_before_its_first_request(monkeypatch):
    # No AWS here: a request that did leave would meet a closed local port.
    for variable, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ):
        monkeypatch.setenv(variable, value)
    ledger = ComplianceLedger(current_rule=NAME).install()
    try:
        with pytest.raises(RuleFailed, match=r"Stopped with 1\.0 s left"):
            rule_module.lambda_handler(scheduled_event(NAME, account=ACCOUNT, region=REGION), RunningOut())
    finally:
        ledger.uninstall()

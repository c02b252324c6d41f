"""Scenarios of CONFIG_ENABLED_ALL_REGIONS (CIS 2.5), against moto's EC2 and AWS Config.

moto lists 38 regions; the rule checks the commercial ones not marked ``not-opted-in`` (20 with
moto 5.2). The expected annotations are computed from that list, so a moto with more regions
changes counts, not verdicts."""

from unittest import mock

import CONFIG_ENABLED_ALL_REGIONS as rule

import cis_parallel
from cis_regions import enabled_regions
from cispack.testing.cases import ACCOUNT_ID, REGION, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.trails import LambdaContext, regions_of_calls, run_with_context

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-config-role"


def enabled(test):
    return enabled_regions(test.client("ec2"), REGION)


def recorders(skip=(), partial=(), stopped=(), global_in=("us-east-1",)):
    """A recorder (started unless ``stopped``) in every enabled region but ``skip``."""

    def given(test):
        test.client("s3").create_bucket(Bucket="config-history")
        for region in enabled(test):
            if region in skip:
                continue
            config = test.client("config", region)
            group = (
                {"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]}
                if region in partial
                else {"allSupported": True, "includeGlobalResourceTypes": region in global_in}
            )
            config.put_configuration_recorder(
                ConfigurationRecorder={"name": "default", "roleARN": ROLE, "recordingGroup": group}
            )
            config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-history"})
            if region not in stopped:
                config.start_configuration_recorder(ConfigurationRecorderName="default")

    return given


def then(*steps):
    return lambda test: [step(test) for step in steps]


def account(compliance, text):
    return lambda test: [Verdict("AWS::::Account", ACCOUNT_ID, compliance, text(enabled(test)))]


def all_good(count_excluded=0, global_in="us-east-1"):
    return account(
        "COMPLIANT",
        lambda regions: (
            f"AWS Config records all resource types in all {len(regions) - count_excluded} checked "
            f"regions, and global resource types in {global_in}."
        ),
    )


def one_failing(reason, region="eu-west-1"):
    return account(
        "NON_COMPLIANT",
        lambda regions: f"AWS Config is incomplete in 1 of {len(regions)} checked regions: {reason} in {region}.",
    )


CASES = [
    Case(
        "no_recorder_anywhere",
        expect=account(
            "NON_COMPLIANT",
            lambda regions: (
                f"AWS Config is incomplete in {len(regions)} of {len(regions)} checked regions: "
                f"no recorder in {', '.join(regions[:4])} and {len(regions) - 4} more; "
                "and no region records global resource types."
            ),
        ),
    ),
    Case("all_regions_recording_started_recorders_pending", recorders(), expect=all_good()),
    Case("one_region_without_recorder", recorders(skip=("eu-west-1",)), expect=one_failing("no recorder")),
    Case(
        "partial_recording_group",
        recorders(partial=("eu-west-1",)),
        expect=one_failing("not all resource types recorded"),
    ),
    Case("recorder_stopped", recorders(stopped=("eu-west-1",)), expect=one_failing("recorder stopped")),
    Case(
        "last_status_failure",
        then(
            recorders(),
            lambda test: test.respond(
                "config",
                "DescribeConfigurationRecorderStatus",
                {
                    "ConfigurationRecordersStatus": [
                        {"name": "default", "recording": True, "lastStatus": "Failure", "lastErrorCode": "NoSuchBucket"}
                    ]
                },
                region="eu-west-1",
            ),
        ),
        expect=one_failing("last status FAILURE"),
    ),
    Case(
        "only_a_service_linked_recorder",
        then(
            recorders(),
            lambda test: test.respond(
                "config",
                "DescribeConfigurationRecorders",
                {
                    "ConfigurationRecorders": [
                        {
                            "name": "AWSConfigurationRecorderForSecurityHub",
                            "servicePrincipal": "securityhub.amazonaws.com",
                            "recordingScope": "INTERNAL",
                            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
                        }
                    ]
                },
                region="eu-west-1",
            ),
        ),
        expect=one_failing("no recorder"),
    ),
    Case(
        "several_failures_grouped_by_reason",
        recorders(skip=("eu-west-1", "eu-west-2"), stopped=("us-west-2",), global_in=()),
        expect=account(
            "NON_COMPLIANT",
            lambda regions: (
                f"AWS Config is incomplete in 3 of {len(regions)} checked regions: no recorder in "
                "eu-west-1 and eu-west-2; recorder stopped in us-west-2; and no region records global resource types."
            ),
        ),
    ),
    Case(
        "every_reason_at_once_fits_one_annotation",
        recorders(
            skip=("ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1"),
            partial=("ca-central-1", "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-2"),
            stopped=("eu-west-3", "sa-east-1", "us-east-2", "us-west-1", "us-west-2"),
            global_in=(),
        ),
        expect=account(
            "NON_COMPLIANT",
            lambda regions: (
                f"AWS Config is incomplete in 15 of {len(regions)} checked regions: no recorder in "
                "ap-northeast-1 and 4 more; not all resource types recorded in ca-central-1 and 4 more; "
                "recorder stopped in eu-west-3 and 4 more; and no region records global resource types."
            ),
        ),
    ),
    Case(
        "no_region_records_global_types",
        recorders(global_in=()),
        expect=account(
            "NON_COMPLIANT",
            lambda regions: (
                f"AWS Config records all resource types in all {len(regions)} checked regions, "
                "but no region records global resource types."
            ),
        ),
    ),
    Case(
        "global_types_in_another_region",
        recorders(global_in=("eu-central-1",)),
        expect=all_good(global_in="eu-central-1"),
    ),
    Case(
        "excluded_region_is_not_checked",
        recorders(skip=("eu-west-1", "sa-east-1")),
        parameters={"excludedRegions": "eu-west-1, sa-east-1"},
        expect=all_good(count_excluded=2),
    ),
    Case(
        "excluded_region_not_enabled_is_ignored",
        recorders(),
        # moto marks ap-east-1 (an opt-in region) not-opted-in, as AWS does until the account enables it.
        parameters={"excludedRegions": "ap-east-1"},
        expect=all_good(),
    ),
    Case(
        "excluded_region_unknown_to_the_partition",
        recorders(),
        parameters={"excludedRegions": "eu-west-1,us-est-1"},
        error="excludedRegions names us-est-1, which is not a region of this partition.",
        expect=[
            Verdict(
                "AWS::::Account",
                ACCOUNT_ID,
                "NON_COMPLIANT",
                "Could not evaluate: excludedRegions names us-est-1, which is not a region of this partition.",
            )
        ],
    ),
    Case(
        "excluded_govcloud_region_from_a_commercial_account",
        parameters={"excludedRegions": "us-gov-west-1,cn-north-1"},
        error="excludedRegions names cn-north-1 and us-gov-west-1, which are not regions of this partition.",
        expect=[
            Verdict(
                "AWS::::Account",
                ACCOUNT_ID,
                "NON_COMPLIANT",
                "Could not evaluate: excludedRegions names cn-north-1 and us-gov-west-1, which are not regions of "
                "this partition.",
            )
        ],
    ),
    Case(
        "excluded_regions_malformed",
        parameters={"excludedRegions": "eu-west-1,Frankfurt"},
        error="excludedRegions must be a comma-separated list of region names such as eu-west-1; "
        "'Frankfurt' is not one.",
    ),
    Case(
        "access_denied_in_one_region",
        then(
            recorders(),
            lambda test: test.respond(
                "config", "DescribeConfigurationRecorders", error="AccessDeniedException", region="ap-south-1"
            ),
        ),
        error="AccessDenied",
        expect=[
            Verdict(
                "AWS::::Account",
                ACCOUNT_ID,
                "NON_COMPLIANT",
                "Could not evaluate: config:DescribeConfigurationRecorders was denied (AccessDeniedException) "
                "in ap-south-1.",
            )
        ],
    ),
    Case(
        "describe_regions_unauthorized",
        lambda test: test.respond("ec2", "DescribeRegions", error="UnauthorizedOperation", status=403),
        error="UnauthorizedOperation",
        expect=[
            Verdict(
                "AWS::::Account",
                ACCOUNT_ID,
                "NON_COMPLIANT",
                "Could not evaluate: ec2:DescribeRegions was denied (UnauthorizedOperation).",
            )
        ],
    ),
    Case(
        "unknown_parameter", parameters={"excludeRegions": "eu-west-1"}, error="Unknown rule parameter excludeRegions"
    ),
]


@data_driven(CASES)
class ConfigEnabledAllRegionsTest(RuleTestCase):
    rule_module = rule
    rule_name = "CONFIG_ENABLED_ALL_REGIONS"

    def test_only_enabled_regions_of_the_partition_are_asked_once_each(self):
        # Neither DescribeConfigurationRecorders nor ...Status is paginated: one call per region.
        recorders()(self)
        regions = enabled(self)
        self.assertFalse([r for r in regions if r.startswith(("us-gov-", "cn-"))])
        self.assertNotIn("ap-east-1", regions)
        self.assertIn("eu-west-1", regions)
        calls = self.count_calls("config", "DescribeConfigurationRecorders")
        status_calls = self.count_calls("config", "DescribeConfigurationRecorderStatus")
        self.assertEqual("COMPLIANT", self.run_rule().verdicts[0].compliance)
        self.assertEqual([{}] * len(regions), calls)
        self.assertEqual([{}] * len(regions), status_calls)

    def test_describe_regions_without_all_regions_unless_excluding(self):
        calls = self.count_calls("ec2", "DescribeRegions")
        self.run_rule()
        self.assertEqual([{}], calls)
        self.run_rule({"excludedRegions": "eu-west-1"})
        self.assertEqual([{}, {"AllRegions": True}, {}], calls)

    def test_regions_read_concurrently_give_the_serial_verdict(self):
        recorders(skip=("eu-west-1", "ap-south-1"), partial=("us-west-2",), stopped=("eu-north-1",))(self)
        asked = regions_of_calls(self, "config", "DescribeConfigurationRecorderStatus")
        concurrent = self.run_rule().verdicts
        with mock.patch.object(cis_parallel, "WORKERS", 1):
            serial = self.run_rule().verdicts
        self.assertEqual(serial, concurrent)
        self.assertTrue(concurrent[0].annotation.startswith("AWS Config is incomplete in 4 of"), concurrent)
        self.assertEqual(sorted(enabled(self) * 2), sorted(asked), "each region asked once per run")

    def test_deadline_stops_before_the_next_request_and_sends_nothing_undecided(self):
        recorders()(self)
        calls = self.count_calls("config", "DescribeConfigurationRecorders")
        # Short of time once a region is being read: no further request is sent (see cis_rule).
        error = run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 1))
        self.assertRegex(error["internalErrorMessage"], r"^Stopped with 1\.0 s left before the Lambda timeout after ")
        self.assertLess(len(calls), len(enabled(self)))
        self.assertEqual([], self.ledger.sent, "the account's verdict needs every region")

"""Which S3 buckets CIS 2.3 and 2.6 judge, and what they say about each (rulelib/cis_trail_buckets.py):
the account's trails (its multi-region trail, an organisation trail it receives, a single-region
trail homed in another region), the buckets they deliver to that this account owns, a bucket
deleted or denied while the rule runs, and a bucket's configuration change.

No moto: every client is botocore's ``Stubber`` answering exactly the calls the scenario expects
(it validates each request and answer against the service model), handed out by a client factory
that records which clients the rule asked for. The judge is the scenario's own: it says what it
was given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import cis_parallel
import cis_rule
from cis_rule import S3_BUCKET, OutOfTime, PartialRun, PreviousResult, compliant
from cis_trail_buckets import TrailBucket, evaluate_trail_bucket_change, evaluate_trail_buckets
from cis_trails import Trail

ACCOUNT = "123456789012"
MANAGEMENT = "999988887777"
HOME = "us-east-1"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def arn(region: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def described(name: str, bucket: str, region: str = HOME, account: str = ACCOUNT, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "TrailARN": arn(region, name, account), "HomeRegion": region, "S3BucketName": bucket, **extra}


def listed(name: str, region: str = HOME, account: str = ACCOUNT) -> dict[str, str]:
    return {"Name": name, "TrailARN": arn(region, name, account), "HomeRegion": region}


class Account:
    """A client factory over stubbed clients, one per service and region, built on demand."""

    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.built: list[tuple[str, str | None]] = []

    def stub(self, service: str, region: str = HOME) -> Stubber:
        if (service, region) not in self.stubbers:
            client = boto3.client(
                service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self.stubbers[(service, region)] = Stubber(client)
            self.stubbers[(service, region)].activate()
        return self.stubbers[(service, region)]

    def build_client(self, service: str, region: str | None = None) -> Any:
        self.built.append((service, region))
        return self.stub(service, region or HOME).client

    def trails(self, visible: list[dict[str, Any]], *pages: list[dict[str, str]]) -> None:
        """The rule region's DescribeTrails (shadow trails included) and ListTrails, page by page."""
        cloudtrail = self.stub("cloudtrail")
        cloudtrail.add_response("describe_trails", {"trailList": visible}, {"includeShadowTrails": True})
        if not pages:
            # CloudTrail leaves the list out of an answer that has no trail.
            cloudtrail.add_response("list_trails", {}, {})
        for number, page in enumerate(pages):
            token = {"NextToken": f"page-{number + 1}"} if number + 1 < len(pages) else {}
            asked = {"NextToken": f"page-{number}"} if number else {}
            cloudtrail.add_response("list_trails", {"Trails": page, **token}, asked)

    def described_in(self, region: str, names: list[str], trails: list[dict[str, Any]]) -> None:
        self.stub("cloudtrail", region).add_response(
            "describe_trails", {"trailList": trails}, {"trailNameList": sorted(names)}
        )

    def buckets(self, **regions: str | None) -> None:
        """ListBuckets: the buckets this account owns, with their BucketRegion when given."""
        owned = [
            {"Name": name.replace("_", "-"), "CreationDate": CREATED, **({"BucketRegion": r} if r else {})}
            for name, r in regions.items()
        ]
        self.stub("s3").add_response("list_buckets", {"Buckets": owned}, {})

    def location(self, bucket: str, constraint: str | None = None, error: tuple[str, int] | None = None) -> None:
        s3 = self.stub("s3")
        if error is not None:
            s3.add_client_error(
                "get_bucket_location",
                error[0],
                http_status_code=error[1],
                service_error_meta={"CisAction": "s3:GetBucketLocation"},
                expected_params={"Bucket": bucket},
            )
        else:
            answer = {"LocationConstraint": constraint} if constraint else {}
            s3.add_response("get_bucket_location", answer, {"Bucket": bucket})

    def all_answered(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def s3_error(code: str, status: int, action: str = "s3:GetBucketPolicy") -> ClientError:
    response = {"Error": {"Code": code, "Message": code, "CisAction": action}, "ResponseMetadata": {}}
    response["ResponseMetadata"]["HTTPStatusCode"] = status
    return ClientError(response, "GetBucketPolicy")


def row(evaluation: Any) -> tuple[str, str, str]:
    assert evaluation.complianceResourceType == S3_BUCKET
    return evaluation.complianceResourceId, evaluation.complianceType, evaluation.annotation


class Judge:
    """The rule's judge: COMPLIANT naming the bucket, its trails and its client's region, or the
    error the scenario gives for a bucket."""

    def __init__(self, errors: dict[str, Exception] | None = None) -> None:
        self.errors = errors or {}
        self.started = 0
        self.judged: list[str] = []

    def start(self) -> Any:
        self.started += 1
        return self

    def __call__(self, bucket: TrailBucket, supplementary: Any = None) -> Any:
        self.judged.append(bucket.name)
        if bucket.name in self.errors:
            raise self.errors[bucket.name]
        region = bucket.s3.meta.region_name
        text = f"{bucket.subject} read in {region}"
        if supplementary is not None:
            text += f" with {sorted(supplementary)}"
        return compliant(bucket.name, S3_BUCKET, text + ".")


@pytest.fixture
def account():
    account = Account()
    yield account
    account.all_answered()


@pytest.fixture
def lambda_time():
    """A Lambda invocation's clock the test sets (milliseconds left)."""

    class Context:
        remaining_ms = 600_000

        def get_remaining_time_in_millis(self) -> int:
            return self.remaining_ms

    context = Context()
    cis_rule._DEADLINE.start(context)
    yield context
    cis_rule._DEADLINE.stop()


# --- The periodic run: every trail bucket this account owns ----------------------------------


def test_an_account_without_trails_has_no_trail_bucket_and_reads_no_bucket(account):
    account.trails([])
    judge = Judge()
    assert evaluate_trail_buckets(account, ACCOUNT, judge.start) == []
    assert judge.started == 0
    assert account.built == [("cloudtrail", None)]


def test_trails_that_deliver_only_to_another_accounts_bucket_leave_nothing_to_judge(account):
    org = described("org", "org-central-logs", account=MANAGEMENT, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    account.trails([org], [listed("org", account=MANAGEMENT)])
    account.buckets(app_data=HOME)
    judge = Judge()
    assert evaluate_trail_buckets(account, ACCOUNT, judge.start) == []
    assert judge.started == 0


def test_each_owned_trail_bucket_is_judged_once_in_its_own_region_in_bucket_name_order(account):
    # In the rule's region: the account's multi-region trail and an organisation trail it receives.
    main = described("main", "main-logs", IsMultiRegionTrail=True)
    audit = described("audit", "main-logs")
    org = described("org", "org-central-logs", account=MANAGEMENT, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    # ListTrails (two pages) also names two single-region trails homed in Sydney and Frankfurt.
    account.trails(
        [main, audit, org],
        [listed("main"), listed("sydney", "ap-southeast-2"), listed("org", account=MANAGEMENT)],
        [listed("audit"), listed("frankfurt", "eu-central-1")],
    )
    account.described_in(
        "ap-southeast-2", [arn("ap-southeast-2", "sydney")], [described("sydney", "apse2-logs", "ap-southeast-2")]
    )
    account.described_in(
        "eu-central-1", [arn("eu-central-1", "frankfurt")], [described("frankfurt", "euc1-logs", "eu-central-1")]
    )
    # ListBuckets gives the region of two buckets; the Sydney one's is asked for.
    account.buckets(main_logs=HOME, apse2_logs=None, euc1_logs="eu-central-1", other_data=HOME)
    account.location("apse2-logs", "ap-southeast-2")
    judge = Judge()

    verdicts = evaluate_trail_buckets(account, ACCOUNT, judge.start)

    assert [row(v) for v in verdicts] == [
        ("apse2-logs", "COMPLIANT", "S3 bucket apse2-logs (CloudTrail logs of sydney) read in ap-southeast-2."),
        ("euc1-logs", "COMPLIANT", "S3 bucket euc1-logs (CloudTrail logs of frankfurt) read in eu-central-1."),
        ("main-logs", "COMPLIANT", "S3 bucket main-logs (CloudTrail logs of audit and main) read in us-east-1."),
    ]
    assert judge.started == 1
    assert sorted(judge.judged) == ["apse2-logs", "euc1-logs", "main-logs"]
    # The listing client serves the rule's region; every other region's client is built once.
    assert sorted(account.built, key=str) == sorted(
        [
            ("cloudtrail", None),
            ("cloudtrail", "ap-southeast-2"),
            ("cloudtrail", "eu-central-1"),
            ("s3", None),
            ("s3", "ap-southeast-2"),
            ("s3", "eu-central-1"),
        ],
        key=str,
    )


def test_a_bucket_in_the_legacy_eu_location_is_read_in_ireland(account):
    account.trails([described("main", "old-logs", IsMultiRegionTrail=True)], [listed("main")])
    account.buckets(old_logs=None)
    account.location("old-logs", "EU")
    (verdict,) = evaluate_trail_buckets(account, ACCOUNT, Judge().start)
    assert row(verdict)[2] == "S3 bucket old-logs (CloudTrail logs of main) read in eu-west-1."


def test_a_bucket_deleted_while_the_rule_ran_is_not_applicable(account):
    account.trails(
        [described("main", "gone-logs", IsMultiRegionTrail=True), described("audit", "dropped-logs")],
        [listed("main"), listed("audit")],
    )
    # gone-logs is deleted before its region is read, dropped-logs while it is judged.
    account.buckets(gone_logs=None, dropped_logs="eu-west-1")
    account.location("gone-logs", error=("NoSuchBucket", 404))
    judge = Judge({"dropped-logs": s3_error("NoSuchBucket", 404)})
    verdicts = evaluate_trail_buckets(account, ACCOUNT, judge.start)
    assert [row(v) for v in verdicts] == [
        (
            "dropped-logs",
            "NOT_APPLICABLE",
            "S3 bucket dropped-logs (CloudTrail logs of audit) was deleted while the rule ran.",
        ),
        (
            "gone-logs",
            "NOT_APPLICABLE",
            "S3 bucket gone-logs (CloudTrail logs of main) was deleted while the rule ran.",
        ),
    ]


def test_a_bucket_the_rule_may_not_read_is_reported_and_the_others_judged(account):
    account.trails(
        [described("main", "a-logs", IsMultiRegionTrail=True), described("audit", "b-logs")],
        [listed("main"), listed("audit")],
    )
    account.buckets(a_logs=None, b_logs=HOME)
    account.location("a-logs", error=("AccessDenied", 403))
    verdicts = evaluate_trail_buckets(account, ACCOUNT, Judge().start)
    assert [row(v) for v in verdicts] == [
        (
            "a-logs",
            "NON_COMPLIANT",
            "Could not evaluate: s3:GetBucketLocation was denied (AccessDenied)"
            " for S3 bucket a-logs (CloudTrail logs of main).",
        ),
        ("b-logs", "COMPLIANT", "S3 bucket b-logs (CloudTrail logs of audit) read in us-east-1."),
    ]


def test_a_bucket_throttled_out_is_left_for_the_next_run_naming_its_trails(account):
    account.trails(
        [described("main", "a-logs", IsMultiRegionTrail=True), described("audit", "b-logs")],
        [listed("main"), listed("audit")],
    )
    account.buckets(a_logs=HOME, b_logs=HOME)
    judge = Judge({"a-logs": s3_error("SlowDown", 503)})
    with pytest.raises(PartialRun) as raised:
        evaluate_trail_buckets(account, ACCOUNT, judge.start)
    assert [row(v) for v in raised.value.evaluations] == [
        ("b-logs", "COMPLIANT", "S3 bucket b-logs (CloudTrail logs of audit) read in us-east-1.")
    ]
    assert raised.value.unjudged == ["S3 bucket a-logs (CloudTrail logs of main)"]


def test_the_buckets_judged_longest_ago_are_judged_first_and_reported_in_name_order(account, monkeypatch):
    account.trails(
        [described("main", "a-logs", IsMultiRegionTrail=True), described("b", "b-logs"), described("c", "c-logs")],
        [listed("main"), listed("b"), listed("c")],
    )
    account.buckets(a_logs=HOME, b_logs=HOME, c_logs=HOME)
    # One worker, so that the order of judging shows.
    monkeypatch.setattr(cis_parallel, "WORKERS", 1)
    monkeypatch.setattr(
        cis_rule._RUN,
        "previous",
        {
            (S3_BUCKET, "a-logs"): PreviousResult(S3_BUCKET, "a-logs", "COMPLIANT", datetime(2026, 3, 2, tzinfo=UTC)),
            (S3_BUCKET, "b-logs"): PreviousResult(S3_BUCKET, "b-logs", "COMPLIANT", datetime(2026, 3, 1, tzinfo=UTC)),
        },
    )
    judge = Judge()
    verdicts = evaluate_trail_buckets(account, ACCOUNT, judge.start)
    # c-logs was never judged, b-logs longer ago than a-logs.
    assert judge.judged == ["c-logs", "b-logs", "a-logs"]
    assert [v.complianceResourceId for v in verdicts] == ["a-logs", "b-logs", "c-logs"]


def test_out_of_time_before_judging_names_the_trail_buckets_left(account, lambda_time):
    account.trails(
        [described("main", "a-logs", IsMultiRegionTrail=True), described("audit", "b-logs")],
        [listed("main"), listed("audit")],
    )
    account.buckets(a_logs=HOME, b_logs=HOME)
    lambda_time.remaining_ms = 1_000
    with pytest.raises(PartialRun) as raised:
        evaluate_trail_buckets(account, ACCOUNT, Judge().start)
    assert raised.value.evaluations == []
    assert "after 0 of 2 trail buckets judged," in str(raised.value.cause)


def test_out_of_time_before_reading_other_regions_trails_names_that_step(account, lambda_time):
    account.trails([], [listed("sydney", "ap-southeast-2"), listed("frankfurt", "eu-central-1")])
    lambda_time.remaining_ms = 1_000
    with pytest.raises(OutOfTime, match="after 0 of 2 regions' trails described,"):
        evaluate_trail_buckets(account, ACCOUNT, Judge().start)


# --- How an annotation names the bucket --------------------------------------------------------


def trail(name: str) -> Trail:
    return Trail.from_description(described(name, "logs"))


@pytest.mark.parametrize(
    ("names", "subject"),
    [
        pytest.param(["main"], "S3 bucket logs (CloudTrail logs of main)", id="one_trail"),
        pytest.param(["a" * 40], f"S3 bucket logs (CloudTrail logs of {'a' * 40})", id="name_of_40_kept_whole"),
        pytest.param(["b" * 41], f"S3 bucket logs (CloudTrail logs of {'b' * 39}~)", id="name_of_41_cut"),
        pytest.param(["x", "y"], "S3 bucket logs (CloudTrail logs of x and y)", id="two_trails"),
        pytest.param(["x", "y", "z"], "S3 bucket logs (CloudTrail logs of x, y and 1 more)", id="three_trails"),
    ],
)
def test_a_bucket_is_named_with_at_most_two_of_its_trails(names, subject):
    assert TrailBucket("logs", tuple(trail(n) for n in names), None).subject == subject


# --- A configuration change of one bucket -----------------------------------------------------


def item(bucket: str, **fields: Any) -> dict[str, Any]:
    return {"resourceId": bucket, "resourceType": S3_BUCKET, "awsAccountId": ACCOUNT, **fields}


def main_trail(account: Account, bucket: str = "main-logs") -> None:
    account.trails([described("main", bucket, IsMultiRegionTrail=True)], [listed("main")])


def test_a_change_to_another_accounts_bucket_is_left_to_that_account(account):
    evaluations = evaluate_trail_bucket_change(account, ACCOUNT, item("org-logs", awsAccountId=MANAGEMENT), Judge())
    assert [row(v) for v in evaluations] == [
        (
            "org-logs",
            "NOT_APPLICABLE",
            f"S3 bucket org-logs belongs to account {MANAGEMENT}, whose own deployment of the rule judges it.",
        )
    ]
    assert account.built == []


def test_a_change_to_a_bucket_no_trail_delivers_to_is_not_applicable(account):
    main_trail(account)
    evaluations = evaluate_trail_bucket_change(account, ACCOUNT, item("app-data", awsRegion=HOME), Judge())
    assert [row(v) for v in evaluations] == [
        ("app-data", "NOT_APPLICABLE", "S3 bucket app-data is not the log bucket of any trail of this account.")
    ]


def test_a_change_to_a_trail_bucket_is_judged_in_the_items_region_with_what_it_recorded(account):
    main_trail(account)
    recorded = {"BucketPolicy": {"policyText": None}, "AccessControlList": "{}"}
    evaluations = evaluate_trail_bucket_change(
        account, ACCOUNT, item("main-logs", awsRegion="eu-west-1", supplementaryConfiguration=recorded), Judge()
    )
    assert [row(v) for v in evaluations] == [
        (
            "main-logs",
            "COMPLIANT",
            "S3 bucket main-logs (CloudTrail logs of main) read in eu-west-1"
            " with ['AccessControlList', 'BucketPolicy'].",
        )
    ]
    assert account.built == [("cloudtrail", None), ("s3", "eu-west-1")]


@pytest.mark.parametrize("recorded", [None, "not a mapping"], ids=["none_recorded", "unreadable"])
def test_a_change_that_recorded_no_supplementary_configuration_gives_the_judge_an_empty_one(account, recorded):
    main_trail(account)
    fields: dict[str, Any] = {"awsRegion": HOME}
    if recorded is not None:
        fields["supplementaryConfiguration"] = recorded
    (verdict,) = evaluate_trail_bucket_change(account, ACCOUNT, item("main-logs", **fields), Judge())
    assert row(verdict)[2] == "S3 bucket main-logs (CloudTrail logs of main) read in us-east-1 with []."


@pytest.mark.parametrize("fields", [{}, {"awsRegion": ""}, {"awsRegion": None}], ids=["absent", "empty", "null"])
def test_a_change_item_without_a_region_reads_the_buckets_location(account, fields):
    main_trail(account)
    account.location("main-logs", "ap-southeast-2")
    (verdict,) = evaluate_trail_bucket_change(account, ACCOUNT, item("main-logs", **fields), Judge())
    assert row(verdict)[2] == "S3 bucket main-logs (CloudTrail logs of main) read in ap-southeast-2 with []."
    assert account.built == [("cloudtrail", None), ("s3", None), ("s3", "ap-southeast-2")]


def test_a_change_to_the_bucket_of_a_single_region_trail_homed_elsewhere_is_judged(account):
    account.trails([], [listed("sydney", "ap-southeast-2")])
    account.described_in(
        "ap-southeast-2", [arn("ap-southeast-2", "sydney")], [described("sydney", "apse2-logs", "ap-southeast-2")]
    )
    change = item("apse2-logs", awsRegion="ap-southeast-2")
    (verdict,) = evaluate_trail_bucket_change(account, ACCOUNT, change, Judge())
    assert row(verdict) == (
        "apse2-logs",
        "COMPLIANT",
        "S3 bucket apse2-logs (CloudTrail logs of sydney) read in ap-southeast-2 with [].",
    )


def test_a_change_item_without_an_owner_is_taken_as_this_accounts(account):
    main_trail(account)
    fields = item("main-logs", awsRegion=HOME)
    del fields["awsAccountId"]
    (verdict,) = evaluate_trail_bucket_change(account, ACCOUNT, fields, Judge())
    assert row(verdict)[:2] == ("main-logs", "COMPLIANT")


def test_a_changed_bucket_deleted_before_its_location_is_read_is_not_applicable(account):
    main_trail(account)
    account.location("main-logs", error=("NoSuchBucket", 404))
    judge = Judge()
    evaluations = evaluate_trail_bucket_change(account, ACCOUNT, item("main-logs"), judge)
    assert [row(v) for v in evaluations] == [
        ("main-logs", "NOT_APPLICABLE", "S3 bucket main-logs (CloudTrail logs of main) was deleted while the rule ran.")
    ]
    assert judge.judged == []
    assert account.built == [("cloudtrail", None), ("s3", None)]


def test_a_changed_bucket_deleted_while_it_is_judged_is_not_applicable(account):
    main_trail(account)
    judge = Judge({"main-logs": s3_error("NoSuchBucket", 404)})
    evaluations = evaluate_trail_bucket_change(account, ACCOUNT, item("main-logs", awsRegion=HOME), judge)
    assert [row(v) for v in evaluations] == [
        ("main-logs", "NOT_APPLICABLE", "S3 bucket main-logs (CloudTrail logs of main) was deleted while the rule ran.")
    ]


def test_a_changed_bucket_the_rule_may_not_locate_fails_the_evaluation(account):
    main_trail(account)
    account.location("main-logs", error=("AccessDenied", 403))
    with pytest.raises(ClientError, match="AccessDenied"):
        evaluate_trail_bucket_change(account, ACCOUNT, item("main-logs"), Judge())


def test_a_changed_bucket_the_rule_may_not_read_fails_the_evaluation(account):
    main_trail(account)
    judge = Judge({"main-logs": s3_error("AccessDenied", 403)})
    with pytest.raises(ClientError, match="AccessDenied"):
        evaluate_trail_bucket_change(account, ACCOUNT, item("main-logs", awsRegion=HOME), judge)

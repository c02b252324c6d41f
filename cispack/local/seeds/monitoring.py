"""A CloudWatch monitoring chain for CIS 3.1-3.14, with a realistic mix of verdicts.

``cis-monitoring-trail`` (multi-region, logging, all management events; it delivers to the
``logging`` seed's private trail bucket, so CIS 2.3 and 2.6 see no new bucket) sends its events to
the log group ``cis-demo/cloudtrail``, which holds these metric filters:

* 3.1: the CIS pattern verbatim, alarmed to ``cis-security-alerts`` (one confirmed subscription):
  COMPLIANT;
* 3.3: the CIS pattern rewritten (clause order, quoting, parentheses): COMPLIANT;
* 3.5: the CIS pattern plus an extra OR term (``UpdateEventDataStore``): COMPLIANT;
* 3.4: the CIS pattern without ``DetachGroupPolicy``: NON_COMPLIANT, no filter covers it;
* 3.6: a pattern with a missing parenthesis: NON_COMPLIANT, the filter cannot be read;
* 3.2: the CIS pattern, alarmed to ``cis-unwatched`` (no subscription): NON_COMPLIANT;
* 3.10: the CIS pattern, its alarm's actions disabled: NON_COMPLIANT;
* no filter for the other controls: NON_COMPLIANT.

Runs after ``logging`` (seeds run in name order), whose bucket it reuses.
"""

from __future__ import annotations

from typing import Any

from cispack.local.builders import add_alarm, add_log_group, add_metric_filter, add_topic
from cispack.local.seeds.logging import MAIN_BUCKET

TRAIL = "cis-monitoring-trail"
LOG_GROUP = "cis-demo/cloudtrail"

UNAUTHORIZED = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
ROOT_REWRITTEN = (
    "{ ($.eventType != AwsServiceEvent) && ($.userIdentity.type = Root) && ($.userIdentity.invokedBy NOT EXISTS) }"
)
CLOUDTRAIL_PLUS = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) || ($.eventName = UpdateEventDataStore) }"
)
IAM_WITHOUT_DETACH_GROUP = (
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||"
    "($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
    "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
    "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
    "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)}"
)
CONSOLE_FAILURES_TYPO = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication" }'
NO_MFA = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
SECURITY_GROUPS = (
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
    "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
    "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
)


def seed(account: Any) -> None:
    region = account.region
    cloudtrail = account.client("cloudtrail")
    cloudtrail.create_trail(
        Name=TRAIL,
        S3BucketName=MAIN_BUCKET,
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=add_log_group(account, LOG_GROUP, region),
        CloudWatchLogsRoleArn=f"arn:aws:iam::{account.account_id}:role/CloudTrail_CloudWatchLogs_Role",
    )
    # AWS gives a new trail this selector; moto gives none until it is put.
    cloudtrail.put_event_selectors(
        TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name=TRAIL)

    alerts = add_topic(account, "cis-security-alerts", region)
    unwatched = add_topic(account, "cis-unwatched", region, subscribers=0)
    for name, pattern, topic, enabled in (
        ("unauthorized-api-calls", UNAUTHORIZED, alerts, True),
        ("root-account-usage", ROOT_REWRITTEN, alerts, True),
        ("cloudtrail-config-changes", CLOUDTRAIL_PLUS, alerts, True),
        ("iam-policy-changes", IAM_WITHOUT_DETACH_GROUP, alerts, True),
        ("console-auth-failures", CONSOLE_FAILURES_TYPO, alerts, True),
        ("console-signin-without-mfa", NO_MFA, unwatched, True),
        ("security-group-changes", SECURITY_GROUPS, alerts, False),
    ):
        metric = add_metric_filter(account, name, pattern, log_group=LOG_GROUP, region=region)
        add_alarm(account, f"{name}-alarm", metric, actions=[topic], actions_enabled=enabled, region=region)

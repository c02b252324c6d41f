"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_IAM_POLICY_CHANGES (CIS 3.4); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

# Filter patterns stay on one line each, as CloudWatch Logs shows them.
# ruff: noqa: E501

import METRIC_FILTER_ALARM_IAM_POLICY_CHANGES as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import KEYWORDS as KEYWORD_WORDS
from cispack.testing.monitoring import keyword_filter, superset

EXACT = rule.METRIC_FILTER_ALARM_IAM_POLICY_CHANGES.ACCEPTED_PATTERNS[0]
REWRITE = '{ ($.eventName = "AttachGroupPolicy") || ($.eventName = "AttachRolePolicy") || ($.eventName = "AttachUserPolicy") || ($.eventName = "CreatePolicy") || ($.eventName = "CreatePolicyVersion") || ($.eventName = "DeleteGroupPolicy") || ($.eventName = "DeletePolicy") || ($.eventName = "DeletePolicyVersion") || ($.eventName = "DeleteRolePolicy") || ($.eventName = "DeleteUserPolicy") || ($.eventName = "DetachGroupPolicy") || ($.eventName = "DetachRolePolicy") || ($.eventName = "DetachUserPolicy") || ($.eventName = "PutGroupPolicy") || ($.eventName = "PutRolePolicy") || ($.eventName = "PutUserPolicy") }'
# Thirteen keyword terms, one of which (*Policy*) alone covers the control: once 73 s of CPU and a
# "too complex" verdict.
KEYWORDS = keyword_filter(KEYWORD_WORDS)
MISSING_TERM = "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)}"


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.4")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.4 on log group CloudTrail/cis; alarm cis-3.4-alarm notifies SNS topic "
    "cis-alarms, which has a confirmed subscription.",
)

CASES = [
    Case("exact_cis_pattern", chain(EXACT), expect=COMPLIANT),
    Case("equivalent_rewrite", chain(REWRITE), expect=COMPLIANT),
    Case("superset_with_extra_or_term", chain(superset(EXACT)), expect=COMPLIANT),
    Case("thirteen_keyword_terms_one_of_them_policy", chain(KEYWORDS), expect=COMPLIANT),
    Case(
        "missing_term",
        chain(MISSING_TERM),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.4 pattern; "
            'the closest, cis-3.4, misses {"eventName": "DetachGroupPolicy"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmIamPolicyChangesTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_IAM_POLICY_CHANGES"

"""API calls made by one evaluation of each CIS 3.1-3.14 rule, against the fewest pages possible.

Run: ``.venv/bin/python benchmarks/monitoring_calls.py`` (a script that prints figures, not a test).

It seeds moto with a busy account: 40 log groups of 25 metric filters each, and on the trail's log
group 120 more filters (unrelated ones plus the CIS filters of ten controls: exact, rewritten and
broader patterns; 3.4 misses a term; 3.6 cannot be parsed; 3.11-3.14 have none), 600 alarms in the
region (one per filter of the trail's log group, the rest on other metrics), a second, single-region
trail, and a topic with 150 subscriptions of which only the last is confirmed. moto answers
DescribeMetricFilters and DescribeAlarms in one page whatever their size; here they are paged as
AWS pages them (:func:`cispack.local.builders.aws_sized_pages`: 50 filters, 100 alarms,
100 subscriptions per page), so the counts are what AWS would see.

For each rule it runs the handler once, as AWS Config does, and prints the calls per operation
next to the minimum: the pages each listing the chain needs must take (1 DescribeTrails, 1
GetTrailStatus and 1 GetEventSelectors for the qualifying trail, every page of the log group's
filters, 1 alarm lookup, and the subscription pages up to the first confirmed one), and what
reading alarms with a full DescribeAlarms walk would have cost instead.
"""

from __future__ import annotations

import math
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rulelib"))

from cispack.testing.cases import FAKE_ENV

os.environ.update(FAKE_ENV)

import boto3
from moto import mock_aws

from cis_rule import RuleFailed
from cispack.catalog.rules import custom_rules
from cispack.local.builders import ACCOUNT_ID, REGION, add_alarm, add_log_group, add_metric_filter, add_trail
from cispack.local.config import ComplianceLedger
from cispack.local.events import scheduled_event
from cispack.testing.monitoring import aws_sized_pages, superset

LOG_GROUPS = 40
FILTERS_PER_GROUP = 25
UNRELATED_ON_TRAIL_GROUP = 110
SUBSCRIPTIONS = 150
FILTER_PAGE, ALARM_PAGE, SUBSCRIPTION_PAGE = 50, 100, 100
OPERATIONS = (
    "DescribeTrails",
    "GetTrailStatus",
    "GetEventSelectors",
    "DescribeMetricFilters",
    "DescribeAlarmsForMetric",
    "DescribeAlarms",
    "ListSubscriptionsByTopic",
)
SHORT = {
    "DescribeTrails": "trails",
    "GetTrailStatus": "status",
    "GetEventSelectors": "select",
    "DescribeMetricFilters": "filters",
    "DescribeAlarmsForMetric": "alarm4m",
    "DescribeAlarms": "alarms",
    "ListSubscriptionsByTopic": "subs",
}


class Aws:
    account_id = ACCOUNT_ID

    def client(self, service: str, region: str = REGION) -> object:
        return boto3.client(service, region_name=region)


def rewrite(pattern: str) -> str:
    """The same conditions with every double quote dropped and the whitespace squeezed out."""
    return pattern.replace('"', "").replace(" ", "")


def seed(monitoring: list) -> tuple[int, int]:
    aws = Aws()
    add_trail(aws)
    add_trail(aws, "regional-trail", multi_region=False, log_group="regional")
    sns = aws.client("sns")
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    for index in range(SUBSCRIPTIONS):
        # Only the last subscription is confirmed: the others are e-mail addresses that never
        # confirmed. moto lists every subscription with an ARN, so pending ones are renamed below.
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:q-{index:03d}")
    alarms = 0
    for group in range(LOG_GROUPS):
        name = f"app/{group:02d}"
        add_log_group(aws, name)
        for index in range(FILTERS_PER_GROUP):
            metric = add_metric_filter(aws, f"app-{group:02d}-{index:02d}", "{ $.level = ERROR }", log_group=name)
            if index % 2 == 0:
                add_alarm(aws, f"app-{group:02d}-{index:02d}-alarm", metric, actions=[topic])
                alarms += 1
    for index in range(UNRELATED_ON_TRAIL_GROUP):
        metric = add_metric_filter(aws, f"ops-{index:03d}", f"{{ $.eventName = Ops{index} }}")
        add_alarm(aws, f"ops-{index:03d}-alarm", metric, actions=[topic])
        alarms += 1
    filters_on_trail_group = UNRELATED_ON_TRAIL_GROUP
    for position, rule in enumerate(monitoring):
        cls = rule.rule_class()
        exact = cls.ACCEPTED_PATTERNS[0]
        control = cls.CONTROL
        if control in ("3.11", "3.12", "3.13", "3.14"):
            continue
        pattern = {
            "3.4": exact.replace("||($.eventName=DetachGroupPolicy)", ""),
            "3.6": exact.rstrip("} ") + " && (",
        }.get(control, (exact, rewrite(exact), superset(exact))[position % 3])
        metric = add_metric_filter(aws, f"zz-cis-{control}", pattern)
        add_alarm(aws, f"cis-{control}-alarm", metric, actions=[topic])
        filters_on_trail_group += 1
        alarms += 1
    for index in range(600 - alarms):
        add_alarm(aws, f"other-{index:03d}", f"Other{index}", actions=[topic])
    return filters_on_trail_group, 600


def pending_first(parsed: dict, **_: object) -> None:
    for subscription in parsed.get("Subscriptions", []):
        if not subscription["Endpoint"].endswith(f"q-{SUBSCRIPTIONS - 1:03d}"):
            subscription["SubscriptionArn"] = "PendingConfirmation"


def main() -> None:
    monitoring = [rule for rule in custom_rules() if rule.name.startswith("METRIC_FILTER_ALARM_")]
    with mock_aws():
        filters_on_trail_group, alarms = seed(monitoring)
        session = boto3._get_default_session()
        made: Counter[str] = Counter()

        def count(model: object, **_: object) -> None:
            made[getattr(model, "name", "")] += 1

        # before-parameter-build fires for every call; a before-call handler may be skipped when
        # an earlier one (the paging seam) answers the call.
        session.events.register("before-parameter-build", count, unique_id="benchmark-count")
        session.events.register("after-call.sns.ListSubscriptionsByTopic", pending_first, unique_id="benchmark-pending")
        filter_pages = math.ceil(filters_on_trail_group / FILTER_PAGE)
        subscription_pages = math.ceil(SUBSCRIPTIONS / SUBSCRIPTION_PAGE)
        print(
            f"Seeded: {LOG_GROUPS + 2} log groups, {LOG_GROUPS * FILTERS_PER_GROUP + filters_on_trail_group} metric "
            f"filters ({filters_on_trail_group} on the trail's log group: {filter_pages} pages of {FILTER_PAGE}), "
            f"{alarms} alarms ({math.ceil(alarms / ALARM_PAGE)} pages of {ALARM_PAGE}), 2 trails, "
            f"{SUBSCRIPTIONS} subscriptions ({subscription_pages} pages; the confirmed one on the last)."
        )
        header = ["rule", "verdict", *(SHORT[o] for o in OPERATIONS), "calls", "minimum", "alarms walk"]
        rows = []
        with aws_sized_pages(session):
            for rule in monitoring:
                made.clear()
                ledger = ComplianceLedger(current_rule=rule.name).install(session)
                try:
                    result = rule.module().lambda_handler(
                        scheduled_event(rule.name, account=ACCOUNT_ID, region=REGION), None
                    )
                except RuleFailed as failed:
                    result = failed.response
                finally:
                    ledger.uninstall(session)
                verdict = result[0]["ComplianceType"] if isinstance(result, list) else "ERROR"
                calls = sum(made[o] for o in OPERATIONS)
                reached_alarms = made["DescribeAlarmsForMetric"] + made["DescribeAlarms"] > 0
                minimum = 3 + filter_pages + (1 + subscription_pages if reached_alarms else 0)
                walk = 3 + filter_pages + (math.ceil(alarms / ALARM_PAGE) + subscription_pages if reached_alarms else 0)
                rows.append(
                    [
                        rule.controls[0].id,
                        verdict,
                        *(str(made[o]) for o in OPERATIONS),
                        str(calls),
                        str(minimum),
                        str(walk),
                    ]
                )
        session.events.unregister("before-parameter-build", unique_id="benchmark-count")
        session.events.unregister("after-call.sns.ListSubscriptionsByTopic", unique_id="benchmark-pending")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    total = sum(int(r[-3]) for r in rows)
    least = sum(int(r[-2]) for r in rows)
    print(f"Total over the 14 evaluations: {total} calls; minimum {least}.")


if __name__ == "__main__":
    main()

"""Every event is checked at the door: a malformed event or parameter gets one sentence naming
the field and what was expected, fails the invocation, and costs no API call, for every custom
rule of the pack. Change notifications reach only rules that declare change triggers."""

# The tables keep one case per line, each with the exact sentence it expects.
# ruff: noqa: E501

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from cis_rule import S3_BUCKET, CisRule, IntParameter, ListParameter, RuleFailed, handle, non_compliant
from cispack.catalog.rules import custom_rules
from cispack.local.config import ComplianceLedger, respond
from cispack.local.events import scheduled_event
from cispack.testing.cases import ACCOUNT_ID, REGION

CUSTOM = custom_rules(every_folder=True)  # the rules only later CIS versions use included
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = "ScheduledNotification, ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification"
TIME = "an ISO 8601 time with a time zone, such as 2026-01-01T00:00:00.000Z"


@pytest.fixture
def api_calls(aws):
    """Every AWS API call made while the test runs (moto still answers them)."""
    calls = []

    def count(model, **_):
        calls.append(model.name)

    session = boto3._get_default_session()
    session.events.register("before-call", count, unique_id="event-validation-count")
    yield calls
    session.events.unregister("before-call", unique_id="event-validation-count")


def valid(name="RULE"):
    return scheduled_event(name, account=ACCOUNT_ID, region=REGION, now=NOW)


def with_invoking(**changes):
    """The valid event with invokingEvent fields changed (None removes one)."""

    def change(event):
        invoking = json.loads(event["invokingEvent"])
        for key, value in changes.items():
            if value is None:
                invoking.pop(key, None)
            else:
                invoking[key] = value
        event["invokingEvent"] = json.dumps(invoking)

    return change


def setting(key, value):
    def change(event):
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value

    return change


CHANGE_ITEM = {
    "configurationItem": {
        "resourceType": S3_BUCKET,
        "resourceId": "logs",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-01-01T00:00:00.000Z",
    }
}

# (case, change to a valid event, the sentence; {rule} stands for the rule's name).
MALFORMED = [
    ("rule_parameters_not_json", setting("ruleParameters", "{days"), "ruleParameters must hold a JSON object, but is not JSON: '{days'."),
    ("rule_parameters_array", setting("ruleParameters", "[1, 2]"), "ruleParameters must hold a JSON object, not a JSON array."),
    ("rule_parameters_json_null", setting("ruleParameters", "null"), "ruleParameters must hold a JSON object, not null."),
    ("rule_parameters_string", setting("ruleParameters", '"days=3"'), "ruleParameters must hold a JSON object, not 'days=3'."),
    ("rule_parameters_not_a_string", setting("ruleParameters", 5), "ruleParameters must be a string holding a JSON object, not the number 5."),
    ("rule_parameters_unserialised", setting("ruleParameters", {"a": "b"}), "ruleParameters must be a string holding a JSON object (AWS Config sends it serialised), not an object."),
    ("invoking_event_missing", setting("invokingEvent", None), "invokingEvent is missing; expected a string holding a JSON object."),
    ("invoking_event_not_json", setting("invokingEvent", "ScheduledNotification"), "invokingEvent must hold a JSON object, but is not JSON: 'ScheduledNotification'."),
    ("invoking_event_array", setting("invokingEvent", "[]"), "invokingEvent must hold a JSON object, not a JSON array."),
    ("invoking_event_number", setting("invokingEvent", 7), "invokingEvent must be a string holding a JSON object, not the number 7."),
    ("message_type_missing", with_invoking(messageType=None), f"invokingEvent.messageType is missing; expected one of {TYPES}."),
    ("message_type_unknown", with_invoking(messageType="ConfigurationSnapshotDeliveryCompleted"), f"invokingEvent.messageType must be one of {TYPES}, not 'ConfigurationSnapshotDeliveryCompleted'."),
    ("message_type_not_a_string", with_invoking(messageType=["ScheduledNotification"]), f"invokingEvent.messageType must be one of {TYPES}, not a JSON array."),
    (
        "change_notification_to_a_periodic_rule",
        with_invoking(messageType="ConfigurationItemChangeNotification", **CHANGE_ITEM),
        "{rule} is a periodic rule with no configuration change trigger; it takes a ScheduledNotification, not a ConfigurationItemChangeNotification.",
    ),
    (
        "oversized_notification_to_a_periodic_rule",
        with_invoking(
            messageType="OversizedConfigurationItemChangeNotification",
            configurationItemSummary={"resourceType": S3_BUCKET, "resourceId": "logs"},
        ),
        "{rule} is a periodic rule with no configuration change trigger; it takes a ScheduledNotification, not a OversizedConfigurationItemChangeNotification.",
    ),
    ("time_missing", with_invoking(notificationCreationTime=None), "invokingEvent.notificationCreationTime is missing; expected an ISO 8601 time such as 2026-01-01T00:00:00.000Z."),
    ("time_without_time_zone", with_invoking(notificationCreationTime="2026-01-01T00:00:00.000"), "invokingEvent.notificationCreationTime must carry a time zone (such as 2026-01-01T00:00:00.000Z), not '2026-01-01T00:00:00.000'."),
    ("time_date_only", with_invoking(notificationCreationTime="2026-01-01"), "invokingEvent.notificationCreationTime must carry a time zone (such as 2026-01-01T00:00:00.000Z), not '2026-01-01'."),
    ("time_unparseable", with_invoking(notificationCreationTime="yesterday"), f"invokingEvent.notificationCreationTime must be {TIME}, not 'yesterday'."),
    ("time_epoch_number", with_invoking(notificationCreationTime=1767225600), f"invokingEvent.notificationCreationTime must be {TIME}, not the number 1767225600."),
    ("account_missing", setting("accountId", None), "accountId is missing; expected a 12-digit AWS account ID."),
    ("account_short", setting("accountId", "12345"), "accountId must be a 12-digit AWS account ID, not '12345'."),
    ("account_number", setting("accountId", 123456789012), "accountId must be a 12-digit AWS account ID, not the number 123456789012."),
    ("result_token_missing", setting("resultToken", None), "resultToken is missing; expected the token AWS Config sends to report evaluations with."),
    ("result_token_empty", setting("resultToken", ""), "resultToken must be the token AWS Config sends to report evaluations with, not ''."),
    (
        "role_arn_missing_when_assuming",
        lambda event: (setting("executionRoleArn", None)(event), setting("ruleParameters", '{"AssumeRoleMode": "true"}')(event)),
        "executionRoleArn is missing; expected the ARN of the IAM role to assume (AssumeRoleMode).",
    ),
]  # fmt: skip


# Change notifications are malformed only for the rules without a change trigger.
TO_A_PERIODIC_RULE = {"change_notification_to_a_periodic_rule", "oversized_notification_to_a_periodic_rule"}
MALFORMED_CASES = [
    (rule, *row)
    for row in MALFORMED
    for rule in CUSTOM
    if not (row[0] in TO_A_PERIODIC_RULE and rule.rule_class().CHANGE_TYPES)
]


@pytest.mark.parametrize(
    ("rule", "case", "change", "sentence"), MALFORMED_CASES, ids=[f"{c[1]}-{c[0].name}" for c in MALFORMED_CASES]
)
def test_a_malformed_event_gets_one_sentence_and_no_api_call(api_calls, rule, case, change, sentence):
    event = valid(rule.name)
    change(event)
    with pytest.raises(RuleFailed) as failed:
        rule.module().lambda_handler(event, None)
    assert str(failed.value) == "InvalidEvent: " + sentence.replace("{rule}", rule.name)
    assert api_calls == []


@pytest.mark.parametrize("rule", CUSTOM, ids=[r.name for r in CUSTOM])
def test_an_event_that_is_not_an_object_is_refused(api_calls, rule):
    with pytest.raises(RuleFailed, match=r"^InvalidEvent: The event must be a JSON object, not a JSON array\.$"):
        rule.module().lambda_handler(["ScheduledNotification"], None)
    assert api_calls == []


@pytest.mark.parametrize("rule", CUSTOM, ids=lambda r: r.name)
def test_every_rule_needs_its_rule_name(api_calls, rule):
    # Every rule reads its last results back by name: to retire the resources it no longer
    # reports, to judge the oldest first, to mark results older than staleAfterHours.
    event = valid(rule.name)
    del event["configRuleName"]
    with pytest.raises(RuleFailed, match=r"^InvalidEvent: configRuleName is missing; expected the name of the Config"):
        rule.module().lambda_handler(event, None)
    assert api_calls == []


# Texts Python's int() would take, or that look like integers, that a parameter must refuse.
NOT_INTEGERS = (
    ("underscore", "1_0"),
    ("arabic_indic_digits", "\u0661\u0662"),
    ("spaces", " 1 0"),
    ("exponent", "1e3"),
    ("hexadecimal", "0x10"),
    ("superscript_two", "\u00b2"),
)


def bad_parameters(rule):
    """(case, parameters, sentence) rows that every rule must refuse, its own parameters included."""
    accepted = ", ".join(sorted(rule.rule_class().all_parameters()))
    rows = [
        ("unknown", {"Bogus": "1"}, f"Unknown rule parameter Bogus; this rule accepts: {accepted}."),
        ("assume_role_mode_word", {"AssumeRoleMode": "maybe"}, "AssumeRoleMode must be 'true' or 'false', not 'maybe'."),
        ("assume_role_mode_boolean", {"AssumeRoleMode": True}, "AssumeRoleMode must be 'true' or 'false', not a bool."),
        ("role_name_list", {"ExecutionRoleName": ["audit"]}, "ExecutionRoleName must be an IAM role name (optionally with its path), not a list."),
        ("role_name_space", {"ExecutionRoleName": "audit role"}, "ExecutionRoleName must be an IAM role name (optionally with its path), not 'audit role'."),
        ("role_region_upper", {"ExecutionRoleRegion": "US-EAST-1"}, "ExecutionRoleRegion must be an AWS region name such as us-east-1, not 'US-EAST-1'."),
        ("role_region_number", {"ExecutionRoleRegion": 1}, "ExecutionRoleRegion must be an AWS region name such as us-east-1, not a int."),
    ]  # fmt: skip
    for name, spec in rule.rule_class().all_parameters().items():
        for kind, value in (("list", ["1"]), ("dict", {"a": 1}), ("bool", True), ("float", 1.5)):
            rows.append((f"{name}_{kind}", {name: value}, f"{name} must be a string, not {kind}."))
        if isinstance(spec, IntParameter):
            bounds = (
                f"an integer from {spec.minimum} to {spec.maximum}" if spec.maximum else f"an integer >= {spec.minimum}"
            )
            # Case ids name the kind of text: an escaped character in an id is one mutmut cannot select.
            for label, text in NOT_INTEGERS:
                rows.append((f"{name}_{label}", {name: text}, f"{name} must be {bounds}, not {text!r}."))
        elif isinstance(spec, ListParameter) and spec.item_pattern:
            rows.append((f"{name}_bad_item", {name: ",$$$"}, f"{name} must be a comma-separated list of {spec.item_description}; '$$$' is not one."))  # fmt: skip
    return rows


PARAMETER_CASES = [(rule, *row) for rule in CUSTOM for row in bad_parameters(rule)]


@pytest.mark.parametrize(
    ("rule", "case", "parameters", "sentence"), PARAMETER_CASES, ids=[f"{c[0].name}-{c[1]}" for c in PARAMETER_CASES]
)
def test_a_malformed_parameter_gets_one_sentence_and_no_api_call(api_calls, rule, case, parameters, sentence):
    event = valid(rule.name)
    event["ruleParameters"] = json.dumps(parameters)
    with pytest.raises(RuleFailed) as failed:
        rule.module().lambda_handler(event, None)
    assert str(failed.value) == "InvalidParameterValueException: " + sentence
    assert api_calls == []


@pytest.mark.parametrize("blank", [None, "", "  ", "{}"], ids=["absent", "empty", "spaces", "empty_object"])
def test_no_rule_parameters_means_the_defaults(blank):
    class Periodic(CisRule):
        PARAMETERS = {"days": IntParameter(default=90, minimum=1)}

        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            raise AssertionError(valid_rule_parameters)

    event = valid()
    setting("ruleParameters", blank)(event)
    with pytest.raises(AssertionError, match=r"\{'staleAfterHours': 48, 'days': 90\}"):
        handle(Periodic(), event, None)


# A rule that gains a change trigger: it names its resource types and implements evaluate_change.
class BucketChanges(CisRule):
    RESOURCE_TYPE = S3_BUCKET
    CHANGE_TYPES = (S3_BUCKET,)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        name = configuration_item["resourceId"]
        return [non_compliant(name, S3_BUCKET, f"Bucket {name} seen in {configuration_item['awsRegion']}.")]


def change_event(invoking, left_scope=False):
    event = valid("BucketChanges")
    event["invokingEvent"] = json.dumps(
        {"notificationCreationTime": "2026-01-01T00:00:00.000Z", "recordVersion": "1.3", **invoking}
    )
    event["eventLeftScope"] = left_scope
    return event


def item(**fields):
    return {
        "resourceType": S3_BUCKET,
        "resourceId": "logs",
        "awsRegion": REGION,
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-01-01T00:00:00.000Z",
        **fields,
    }


@pytest.fixture
def config(api_calls):
    ledger = ComplianceLedger().install()
    yield api_calls
    ledger.uninstall()


def test_a_rule_with_change_triggers_judges_a_change_notification(config):
    event = change_event({"messageType": "ConfigurationItemChangeNotification", "configurationItem": item()})
    [evaluation] = handle(BucketChanges(), event, None)
    assert evaluation["ComplianceResourceId"] == "logs" and evaluation["ComplianceType"] == "NON_COMPLIANT"
    assert config == ["PutEvaluations"]


@pytest.mark.parametrize(
    ("case", "fields", "left_scope"),
    [("deleted", {"configurationItemStatus": "ResourceDeleted"}, False), ("left_scope", {}, True)],
)
def test_a_deleted_or_out_of_scope_resource_is_not_applicable(config, case, fields, left_scope):
    event = change_event(
        {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item(**fields)}, left_scope
    )
    [evaluation] = handle(BucketChanges(), event, None)
    assert evaluation["ComplianceType"] == "NOT_APPLICABLE"


def test_an_oversized_notification_reads_the_item_back(config):
    history = {
        "configurationItems": [
            {
                "resourceType": S3_BUCKET,
                "resourceId": "big",
                "awsRegion": "eu-west-1",
                "configurationItemStatus": "OK",
                "configurationItemCaptureTime": datetime(2026, 1, 1, tzinfo=UTC),
                "configuration": "{}",
                "supplementaryConfiguration": {},
                "relationships": [],
            }
        ]
    }
    event = change_event(
        {
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {"resourceType": S3_BUCKET, "resourceId": "big"},
        }
    )
    with respond("config", "GetResourceConfigHistory", history) as asked:
        [evaluation] = handle(BucketChanges(), event, None)
    assert asked == [{"resourceType": S3_BUCKET, "resourceId": "big", "limit": 1}]
    assert evaluation["Annotation"] == "Bucket big seen in eu-west-1."
    assert "config:GetResourceConfigHistory" in BucketChanges.required_actions()
    # Exactly the rules with change triggers read oversized items back.
    assert [r.name for r in CUSTOM if "config:GetResourceConfigHistory" in r.required_actions()] == [
        r.name for r in CUSTOM if r.rule_class().CHANGE_TYPES
    ]


def test_an_oversized_notification_without_history_could_not_be_evaluated(config):
    event = change_event(
        {
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {"resourceType": S3_BUCKET, "resourceId": "gone"},
        }
    )
    with respond("config", "GetResourceConfigHistory", {"configurationItems": []}):
        [evaluation] = handle(BucketChanges(), event, None)
    assert (evaluation["ComplianceResourceId"], evaluation["ComplianceType"]) == ("gone", "NON_COMPLIANT")
    assert (
        evaluation["Annotation"]
        == "Could not evaluate: AWS Config holds no configuration item for AWS::S3::Bucket gone."
    )


def test_an_oversized_item_whose_history_is_not_json_gets_one_sentence(config):
    history = {
        "configurationItems": [
            {
                "resourceType": S3_BUCKET,
                "resourceId": "big",
                "awsRegion": "eu-west-1",
                "configurationItemStatus": "OK",
                "configurationItemCaptureTime": datetime(2026, 1, 1, tzinfo=UTC),
                "configuration": "{truncated",
                "supplementaryConfiguration": {},
                "relationships": [],
            }
        ]
    }
    event = change_event(
        {
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {"resourceType": S3_BUCKET, "resourceId": "big"},
        }
    )
    with respond("config", "GetResourceConfigHistory", history):
        [evaluation] = handle(BucketChanges(), event, None)
    assert (evaluation["ComplianceResourceId"], evaluation["ComplianceType"]) == ("big", "NON_COMPLIANT")
    assert evaluation["Annotation"] == (
        "Could not evaluate: the configuration item AWS Config holds for AWS::S3::Bucket big is not readable JSON "
        "(GetResourceConfigHistory)."
    )


def test_an_oversized_item_with_an_unknown_status_is_refused(config):
    history = {
        "configurationItems": [
            {
                "resourceType": S3_BUCKET,
                "resourceId": "big",
                "configurationItemStatus": "ResourceMoved",
                "configurationItemCaptureTime": datetime(2026, 1, 1, tzinfo=UTC),
                "configuration": "{}",
                "supplementaryConfiguration": {},
                "relationships": [],
            }
        ]
    }
    event = change_event(
        {
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {"resourceType": S3_BUCKET, "resourceId": "big"},
        }
    )
    with respond("config", "GetResourceConfigHistory", history):
        with pytest.raises(
            RuleFailed, match=r"^InvalidEvent: the configuration item GetResourceConfigHistory returned has "
        ):
            handle(BucketChanges(), event, None)
    assert "PutEvaluations" not in config


@pytest.mark.parametrize(
    ("case", "invoking", "left_scope", "sentence"),
    [
        ("item_missing", {"messageType": "ConfigurationItemChangeNotification"}, False, "invokingEvent.configurationItem must be a JSON object, not null."),
        ("item_without_id", {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item(resourceId="")}, False, "invokingEvent.configurationItem.resourceId must be a non-empty string, not ''."),
        ("item_without_status", {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item(configurationItemStatus=None)}, False, "invokingEvent.configurationItem.configurationItemStatus is missing; expected a non-empty string."),
        ("item_status_unknown", {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item(configurationItemStatus="ResourceMoved")}, False, "invokingEvent.configurationItem has configurationItemStatus 'ResourceMoved', which AWS Config does not write; expected one of OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted, ResourceDeletedNotRecorded."),
        ("item_capture_time_naive", {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item(configurationItemCaptureTime="2026-01-01T00:00:00")}, False, "invokingEvent.configurationItem.configurationItemCaptureTime must carry a time zone (such as 2026-01-01T00:00:00.000Z), not '2026-01-01T00:00:00'."),
        ("left_scope_missing", {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item()}, None, "eventLeftScope must be true or false, not null."),
        ("summary_missing", {"messageType": "OversizedConfigurationItemChangeNotification"}, False, "invokingEvent.configurationItemSummary must be a JSON object, not null."),
        ("summary_without_type", {"messageType": "OversizedConfigurationItemChangeNotification", "configurationItemSummary": {"resourceId": "x"}}, False, "invokingEvent.configurationItemSummary.resourceType is missing; expected a non-empty string."),
    ],
)  # fmt: skip
def test_a_malformed_change_notification_gets_one_sentence(api_calls, case, invoking, left_scope, sentence):
    event = change_event(invoking, left_scope)
    if left_scope is None:
        del event["eventLeftScope"]
    with pytest.raises(RuleFailed) as failed:
        handle(BucketChanges(), event, None)
    assert str(failed.value) == "InvalidEvent: " + sentence
    assert api_calls == []


def test_a_change_only_rule_refuses_a_scheduled_notification(api_calls):
    with pytest.raises(RuleFailed) as failed:
        handle(BucketChanges(), valid("BucketChanges"), None)
    assert (
        str(failed.value)
        == "InvalidEvent: BucketChanges has no periodic trigger; it does not take a ScheduledNotification."
    )
    assert api_calls == []


# The same refusals for one rule of each kind, without moto: the event is refused before any client
# exists (a client asked for fails the test).
PERIODIC_ONLY = next(rule for rule in CUSTOM if not rule.rule_class().CHANGE_TYPES)
WITH_INTEGER = next(
    rule for rule in CUSTOM if any(isinstance(spec, IntParameter) for spec in rule.rule_class().PARAMETERS.values())
)
WITH_LIST = next(
    rule
    for rule in CUSTOM
    if any(isinstance(spec, ListParameter) and spec.item_pattern for spec in rule.rule_class().PARAMETERS.values())
)


@pytest.fixture
def no_client(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a client was built for a malformed event: {args}")

    monkeypatch.setattr(boto3, "client", refuse)


@pytest.mark.parametrize(("case", "change", "sentence"), MALFORMED, ids=[row[0] for row in MALFORMED])
def test_a_malformed_event_is_refused_before_any_client_is_built(no_client, case, change, sentence):
    event = valid(PERIODIC_ONLY.name)
    change(event)
    with pytest.raises(RuleFailed) as failed:
        PERIODIC_ONLY.module().lambda_handler(event, None)
    assert str(failed.value) == "InvalidEvent: " + sentence.replace("{rule}", PERIODIC_ONLY.name)


FAST_PARAMETER_CASES = [(rule, *row) for rule in (WITH_INTEGER, WITH_LIST) for row in bad_parameters(rule)]


@pytest.mark.parametrize(
    ("rule", "case", "parameters", "sentence"),
    FAST_PARAMETER_CASES,
    ids=[f"{c[0].name}-{c[1]}" for c in FAST_PARAMETER_CASES],
)
def test_a_malformed_parameter_is_refused_before_any_client_is_built(no_client, rule, case, parameters, sentence):
    event = valid(rule.name)
    event["ruleParameters"] = json.dumps(parameters)
    with pytest.raises(RuleFailed) as failed:
        rule.module().lambda_handler(event, None)
    assert str(failed.value) == "InvalidParameterValueException: " + sentence

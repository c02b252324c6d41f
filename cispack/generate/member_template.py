"""``templates/member.yaml``, generated from ``rules/``: what the StackSet deploys in every
account and region of the organisation.

* one Lambda function per custom rule of every rule folder (python3.12, handler ``<NAME>.lambda_handler``, code from
  the region's code bucket, the pack's own rdklib layer, the timeout and memory of the rule's
  ``LambdaTimeout`` and ``LambdaMemorySize``), each with its log group and an
  ``AWS::Lambda::Permission`` for ``config.amazonaws.com`` restricted with ``SourceAccount``;
* one execution role whose policy grants exactly the union of the actions the custom rules
  declare (:meth:`cispack.catalog.rules.Rule.required_actions`, ``config:PutEvaluations`` included) and
  log writing to the functions' own log groups;
* the pack's remediation runbooks (``AWS::SSM::Document``), a role for each,
  ``cis-config-pack-remediation-<role>-<region>`` (:mod:`cispack.generate.runbooks`), with the
  remediation settings as parameters passed on to the pack;
* the conformance pack (``AWS::Config::ConformancePack``) with its body from
  :mod:`cispack.generate.conformance`, wired to this account's functions. Its parameters: ``ProfileLevel``
  is this template's ``ProfileLevel``; ``GlobalResourcesProfile`` is
  ``Fn::If [IsGlobalResourcesRegion, ProfileLevel, "none"]``. The pack's conditions may only
  compare parameters (no ``AWS::Region``, no ``Fn::And``), so this template, an ordinary
  CloudFormation stack, decides "is this the global-resources region" and hands the pack the
  answer already combined with the profile. ``CustomRuleFrequency`` (every custom rule's schedule,
  default ``TwentyFour_Hours``) is passed on as is.

Operators are told when a rule could not judge (CONTROLS.md, "When a rule cannot judge"): each
function has a CloudWatch alarm on its ``Errors`` (an invocation that failed: a partial run, a
whole run that could not judge, rejected evaluations) notifying the SNS topic ``AlarmTopicArn``
when one is given, and its asynchronous-invocation settings are set on purpose
(``AWS::Lambda::EventInvokeConfig``, :data:`ASYNC_RETRIES`): AWS Config invokes custom rules
asynchronously, and Lambda's default would run a failed invocation twice more.

IAM is global, the StackSet is not: a StackSet that deploys a role named ``X`` to two regions of
one account fails in the second with "X already exists". The pack names the role per region,
``cis-config-pack-rules-<region>``: every stack instance is self-contained, regions deploy in any
order and in parallel (automatic deployment to a new account gives no region order), and
removing one region's instance cannot delete a role that another region's functions use. The
alternative, one role in the global-resources region referenced by name elsewhere, would make
every other region's instance fail whenever it runs before (or outlives) that one. The cost is
one role per region per account, all with the same policy.

Custom rules on global resources (IAM, the account) get their function, log group and
permission only in the global-resources region, where the conformance pack deploys them.

One conformance pack per CIS version, each switched by a parameter (``DeployCis120`` ...
``DeployCis600``, "true" or "false"; v1.2.0 alone by default) and created under that version's
condition (``Cis120Selected`` ...). The v1.2.0 pack keeps its name and its inline body with the
remediation; each later version's pack (``conformance-packs/cis-<version>.yaml``) is read by
``TemplateS3Uri`` from the region's code bucket (the member template is close to CloudFormation's
1 MB already), content-addressed like the code (:func:`pack_bodies`, uploaded by ``./pack
upload``), and gets this stack's function ARNs as its ``<Rule>LambdaArn`` parameters. A custom
rule's function, log group, permission, invoke configuration and alarm exist only where some
selected version's pack uses the rule (:func:`rule_condition`); the execution role grants the
union of every custom rule's declared actions whichever versions are chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from cispack import TEMPLATES_DIR
from cispack.catalog.rules import LAMBDA_RUNTIME, Rule, custom_rules, load_rules
from cispack.catalog.versions import V120, VERSIONS, Benchmark, later_benchmarks
from cispack.dist.distribution import Manifest, Upload, put_template, template_key
from cispack.generate import conformance, runbooks, yaml_text
from cispack.generate import versions as version_packs
from cispack.generate.conformance import logical_id

MEMBER_TEMPLATE = TEMPLATES_DIR / "member.yaml"
ROLE_NAME_PREFIX = "cis-config-pack-rules-"
FUNCTION_PREFIX = "cis-config-pack-"
LAYER_NAME = "cis-config-pack-rdklib"
LAYER_KEY_PARAMETER = "RdklibLayerKey"
GLOBAL_CONDITION = "IsGlobalResourcesRegion"
LOG_RETENTION_DAYS = 365
CONFORMANCE_PACK_NAME = "cis-aws-foundations-v1-2-0"
#: What a rule function's ARN is in a pack where the function is not deployed (a global rule
#: outside the global-resources region: the pack creates no rule for it there).
NOT_DEPLOYED = "not-deployed-in-this-region"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
ALARM_TOPIC = "AlarmTopicArn"
ALARM_TOPIC_GIVEN = "AlarmTopicGiven"
#: Lambda retries of a failed asynchronous invocation. None: the rule has already retried every
#: call (botocore, 8 attempts) and spent its time budget; what it decided is sent, and the next
#: scheduled run starts with what this one did not reach (oldest results first). A Lambda retry
#: one and two minutes later would meet the same throttling, add to it, and send the decided
#: verdicts again. The failure goes to the on-failure destination and the alarm instead.
ASYNC_RETRIES = 0
#: How long Lambda keeps an event it could not start (its own throttling): the most it allows,
#: so that a rule invocation queued behind the account's concurrency limit still runs.
ASYNC_MAX_EVENT_AGE_S = 21600
#: The alarm's period: any failed invocation within an hour.
ALARM_PERIOD_S = 3600
SIGNING_PARAMETER = "SigningProfileVersionArn"
SIGNING_CONDITION = "HasCodeSigning"
#: The pack's remediation settings this template takes and passes on (the role it makes itself).
REMEDIATION_SETTINGS = tuple(s.name for s in runbooks.SETTINGS)
HEADER = """\
# GENERATED by `./pack generate` from rules/ -- do not edit; a test fails when stale.
# Deployed by the service-managed StackSet of `./pack rollout` to every account and region of
# the target OUs. See docs/rollout.md.
"""


def function_name(rule: Rule) -> str:
    return f"{FUNCTION_PREFIX}{rule.name}"


def function_timeout(rule: Rule) -> int:
    """The rule's Lambda timeout in seconds: ``LambdaTimeout`` in its parameters.json."""
    return int(rule.parameters["LambdaTimeout"])


def function_memory(rule: Rule) -> int:
    """The rule's Lambda memory in MB: ``LambdaMemorySize`` in its parameters.json."""
    return int(rule.parameters["LambdaMemorySize"])


def code_key_parameter(rule_name: str) -> str:
    return f"{logical_id(rule_name)}CodeKey"


def log_group_name(rule: Rule) -> str:
    # Lambda's default log group, so the function needs no logging configuration.
    return f"/aws/lambda/{function_name(rule)}"


def declared_actions(rules: Iterable[Rule]) -> list[str]:
    """The union of the actions the rules declare, sorted."""
    return sorted({action for rule in rules for action in rule.required_actions()})


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def execution_role(
    rules: Sequence[Rule], role_name: str = ROLE_NAME_PREFIX + "${AWS::Region}", log_groups: Sequence[str] = ()
) -> dict[str, Any]:
    """The rules' execution role: exactly their declared actions, and writing to their log groups
    (``log_groups``, default this template's). The rdk path's role (:mod:`cispack.generate.rdk_role`)
    is this one with rdk's names."""
    actions = declared_actions(rules)
    for action in actions:
        if "*" in action or not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action):
            raise ValueError(f"a rule declares {action!r}: name each IAM action exactly")
    log_arns = [
        _sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}:*")
        for name in log_groups or [log_group_name(r) for r in rules]
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            # Region-suffixed: IAM names are account-wide and the StackSet deploys this template
            # once per region. See the module docstring of cispack/member_template.py.
            "RoleName": _sub(role_name),
            "Description": "Execution role of the CIS AWS Foundations v1.2.0 Config rules (this region's functions).",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "declared-rule-actions",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                # Generated from each custom rule's required_actions(): exactly
                                # their union. These read and report actions take Resource "*"
                                # (config:PutEvaluations and IAM credential reports support no
                                # resource-level permissions).
                                "Sid": "ActionsTheRulesDeclare",
                                "Effect": "Allow",
                                "Action": actions,
                                "Resource": "*",
                            }
                        ],
                    },
                },
                {
                    "PolicyName": "own-log-groups",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteOwnLogGroups",
                                "Effect": "Allow",
                                "Action": list(LOG_ACTIONS),
                                "Resource": log_arns,
                            }
                        ],
                    },
                },
            ],
        },
    }


def log_group_resource(rule: Rule, name: str = "") -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Metadata": {
            "checkov": {
                "skip": [
                    {
                        "id": "CKV_AWS_158",
                        "comment": (
                            "CloudWatch Logs encrypts every log group at rest by default. The rule logs hold "
                            "resource IDs and verdicts, no secrets; a customer managed KMS key per account and "
                            "region would add a key policy and a monthly key charge to every member account."
                        ),
                    }
                ]
            }
        },
        "Properties": {"LogGroupName": name or log_group_name(rule), "RetentionInDays": LOG_RETENTION_DAYS},
    }


FUNCTION_SKIPS = [
    {
        "id": "CKV_AWS_116",
        "comment": (
            "No dead-letter queue: a failed asynchronous invocation goes to the on-failure destination "
            "(the operators' AlarmTopicArn, AWS::Lambda::EventInvokeConfig) and raises the function's Errors "
            "alarm; the rule's next scheduled run resumes where it stopped. A queue per account and region "
            "would have no consumer."
        ),
    },
    {
        "id": "CKV_AWS_117",
        "comment": (
            "Not in a VPC: the function calls only public AWS APIs (IAM, Config, EC2, S3, CloudTrail, "
            "CloudWatch). A VPC would need subnets, NAT or endpoints in every member account and region, and "
            "the pack must not assume any network layout there."
        ),
    },
    {
        "id": "CKV_AWS_115",
        "comment": (
            "No reserved concurrency: new accounts have a small concurrency quota and Lambda refuses "
            "reservations that leave less than the minimum unreserved, which would fail the StackSet instance. "
            "AWS Config invokes each rule once per period, so concurrency stays at 1."
        ),
    },
]


def _function(rule: Rule, condition: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::Lambda::Function",
        "DependsOn": f"{logical_id(rule.name)}LogGroup",
        "Metadata": {"checkov": {"skip": FUNCTION_SKIPS}},
        "Properties": {
            "FunctionName": function_name(rule),
            "Description": rule.description[:256],
            "Runtime": LAMBDA_RUNTIME,
            "Handler": f"{rule.name}.lambda_handler",
            "Role": {"Fn::GetAtt": ["RulesExecutionRole", "Arn"]},
            "Code": {
                "S3Bucket": _sub("${CodeBucketPrefix}-${AWS::Region}"),
                "S3Key": _ref(code_key_parameter(rule.name)),
            },
            "Layers": [_ref("RdklibLayer")],
            "CodeSigningConfigArn": {"Fn::If": [SIGNING_CONDITION, _ref("CodeSigningConfig"), _ref("AWS::NoValue")]},
            # Each rule's own figures, from its parameters.json (docs/reliability.md, "Timeouts and memory").
            "Timeout": function_timeout(rule),
            "MemorySize": function_memory(rule),
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def _on_failure_policy() -> dict[str, Any]:
    """Lambda publishes a failed asynchronous invocation to the destination with the function's
    role: ``sns:Publish`` on the operators' topic alone, when one is given."""
    return {
        "Type": "AWS::IAM::Policy",
        "Condition": ALARM_TOPIC_GIVEN,
        "Properties": {
            "PolicyName": "on-failure-destination",
            "Roles": [_ref("RulesExecutionRole")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublishFailedInvocations",
                        "Effect": "Allow",
                        "Action": ["sns:Publish"],
                        "Resource": _ref(ALARM_TOPIC),
                    }
                ],
            },
        },
    }


def _errors_alarm(rule: Rule, condition: str | None) -> dict[str, Any]:
    """An alarm on the function's ``Errors``: every invocation that failed, so could not judge
    everything (docs/reliability.md, "When a rule cannot judge")."""
    resource: dict[str, Any] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": f"{function_name(rule)}-errors",
            "AlarmDescription": (
                f"Config rule {rule.name} failed an invocation: some resources were not judged or could not be "
                "evaluated (see the function's log)."
            ),
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": _ref(f"{logical_id(rule.name)}Function")}],
            "Statistic": "Sum",
            "Period": ALARM_PERIOD_S,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": {"Fn::If": [ALARM_TOPIC_GIVEN, [_ref(ALARM_TOPIC)], _ref("AWS::NoValue")]},
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def _invoke_config(rule: Rule, condition: str | None) -> dict[str, Any]:
    """The asynchronous-invocation settings, chosen (:data:`ASYNC_RETRIES`), not Lambda's defaults."""
    resource: dict[str, Any] = {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": _ref(f"{logical_id(rule.name)}Function"),
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": ASYNC_RETRIES,
            "MaximumEventAgeInSeconds": ASYNC_MAX_EVENT_AGE_S,
            "DestinationConfig": {
                "Fn::If": [
                    ALARM_TOPIC_GIVEN,
                    # Lambda checks the role may publish when the destination is set: listing the
                    # policy beside the topic makes this wait for it (a Ref inside Fn::If may name
                    # a resource a condition leaves out; DependsOn may not).
                    {
                        "OnFailure": {
                            "Destination": {"Fn::Select": [0, [_ref(ALARM_TOPIC), _ref("OnFailureDestinationPolicy")]]}
                        }
                    },
                    _ref("AWS::NoValue"),
                ]
            },
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def _permission(rule: Rule, condition: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Fn::GetAtt": [f"{logical_id(rule.name)}Function", "Arn"]},
            "Action": "lambda:InvokeFunction",
            "Principal": "config.amazonaws.com",
            # Only AWS Config acting for this account may invoke it (rdk omits this, #488).
            "SourceAccount": _ref("AWS::AccountId"),
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def _parameters(rules: Sequence[Rule]) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "CodeBucketPrefix": {
            "Type": "String",
            "Description": "Prefix of the code buckets (templates/code-bucket.yaml): <prefix>-<region>.",
            "AllowedPattern": "^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$",
        },
        "ProfileLevel": {
            "Type": "String",
            "Description": "CIS profile level to evaluate: 1 (Level 1 controls) or 2 (Level 1 and Level 2).",
            "AllowedValues": ["1", "2"],
            "Default": "1",
        },
        "GlobalResourcesRegion": {
            "Type": "String",
            "Description": "The one region where rules on global resources (IAM, the account) are deployed.",
            "AllowedPattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$",
            "Default": "us-east-1",
        },
        # Passed to the conformance pack as is: how often every custom rule runs on its schedule.
        conformance.CUSTOM_RULE_FREQUENCY: conformance.pack_parameters([])[conformance.CUSTOM_RULE_FREQUENCY],
        LAYER_KEY_PARAMETER: {
            "Type": "String",
            "Description": "S3 key of the rdklib layer zip in the code bucket (./pack build writes it).",
        },
        ALARM_TOPIC: {
            "Type": "String",
            "Description": (
                "ARN of the SNS topic told when a rule's invocation fails (its Errors alarm and failed "
                "asynchronous invocations); empty: the alarms have no action."
            ),
            "AllowedPattern": "^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256})?$",
            "Default": "",
        },
        SIGNING_PARAMETER: {
            "Type": "String",
            "Default": "",
            "Description": (
                "Optional AWS Signer signing profile version ARN: when set, every rule function enforces code "
                "signing by it, and the code keys must name zips signed with it (docs/rollout.md). Empty: no signing."
            ),
            "AllowedPattern": (
                r"^(arn:aws[a-z-]*:signer:[a-z0-9-]+:[0-9]{12}:/signing-profiles/[A-Za-z0-9_]+/[A-Za-z0-9]+)?$"
            ),
        },
    }
    for version in VERSIONS:
        parameters[deploy_parameter(version)] = {
            "Type": "String",
            "Description": (
                f"Deploy the CIS {version.removeprefix('cis-')} conformance pack ({pack_name(version)}) and the "
                "functions of its custom rules: true or false."
            ),
            "AllowedValues": ["true", "false"],
            "Default": "true" if version == V120 else "false",
        }
    for rule in rules:
        parameters[code_key_parameter(rule.name)] = {
            "Type": "String",
            "Description": f"S3 key of the {rule.name} function zip in the code bucket.",
        }
    # Remediation settings (docs/remediation.md): automatic mode and the runbooks' values.
    parameters.update({name: p for name, p in runbooks.pack_parameters().items() if name in REMEDIATION_SETTINGS})
    # Rule parameters several rules share (trustedTopicAccounts), passed to the pack as they are.
    shared = conformance.pack_parameters(rules, lambda_arns=False)
    parameters.update({name: shared[name] for name in conformance.SHARED_RULE_PARAMETERS.values() if name in shared})
    return parameters


def _arn_variable(rule: Rule) -> str:
    return f"{logical_id(rule.name)}FunctionArn"


def _pack_body(rules: Sequence[Rule] | None = None) -> str:
    """The conformance pack (cispack.generate.conformance) with each custom rule's SourceIdentifier a
    ``${<Rule>FunctionArn}`` placeholder, which the member template's Fn::Sub resolves."""
    pack = conformance.build_pack(lambda_arn_for=lambda name: f"${{{logical_id(name)}FunctionArn}}", rules=rules)
    # A conformance pack has no pseudo parameters to name the partition with; this stack has:
    # its Fn::Sub writes the partition of the account it runs in (aws-cn, aws-us-gov, ...).
    body = conformance.render(pack).replace("arn:aws:", "arn:${AWS::Partition}:")
    stray = (
        set(re.findall(r"\$\{([^}]*)\}", body))
        - {f"{logical_id(r.name)}FunctionArn" for r in custom_rules_of(rules)}
        - {"AWS::Partition"}
    )
    if stray:
        raise ValueError(f"the conformance pack body holds ${{...}} that Fn::Sub would resolve: {sorted(stray)}")
    return body


def custom_rules_of(rules: Sequence[Rule] | None) -> list[Rule]:
    return [rule for rule in rules if rule.is_custom] if rules is not None else custom_rules()


# --- one conformance pack per CIS version -------------------------------------------------------


def deploy_parameter(version: str) -> str:
    """``cis-1.4.0`` -> ``DeployCis140``: the member template's switch for that version's pack."""
    return "DeployCis" + version.removeprefix("cis-").replace(".", "")


def version_condition(version: str) -> str:
    """``cis-1.4.0`` -> ``Cis140Selected``: the condition of that version's pack."""
    return deploy_parameter(version).removeprefix("Deploy") + "Selected"


def pack_name(version: str) -> str:
    """``cis-1.4.0`` -> ``cis-aws-foundations-v1-4-0`` (v1.2.0: :data:`CONFORMANCE_PACK_NAME`)."""
    return "cis-aws-foundations-v" + version.removeprefix("cis-").replace(".", "-")


def pack_resource_id(version: str) -> str:
    """The v1.2.0 pack keeps its logical ID ``ConformancePack``; the others ``ConformancePackCis140``..."""
    return "ConformancePack" + ("" if version == V120 else deploy_parameter(version).removeprefix("Deploy"))


def benchmark_parameters(selected: Iterable[str]) -> dict[str, str]:
    """Every version's switch: ``"true"`` for the ``selected`` versions, ``"false"`` for the others."""
    chosen = set(selected)
    unknown = sorted(chosen - set(VERSIONS))
    if unknown:
        raise ValueError(f"Unknown CIS version {unknown[0]!r}: expected one of {', '.join(VERSIONS)}.")
    return {deploy_parameter(version): "true" if version in chosen else "false" for version in VERSIONS}


def versions_of(rule: Rule, benches: Sequence[Benchmark] | None = None) -> list[str]:
    """The versions whose pack holds the rule, oldest first."""
    chosen = later_benchmarks() if benches is None else benches
    later = [bench.name for bench in chosen if rule.name in bench.rule_names]
    return [V120, *later] if rule.in_v120_pack else later


def rule_condition(rule: Rule) -> str:
    """The condition of a custom rule's function (and its log group, permission, invoke
    configuration and alarm): some selected version's pack holds the rule (and, for a rule on
    global resources, this is the global-resources region)."""
    return f"{logical_id(rule.name)}Deployed"


def _rule_condition_definition(rule: Rule, benches: Sequence[Benchmark]) -> dict[str, Any]:
    used = versions_of(rule, benches)
    if not used:
        raise ValueError(f"custom rule {rule.name} is in no CIS version's pack: map it to a recommendation")
    if len(used) == 1:  # Fn::Or takes two conditions or more
        selected: dict[str, Any] = {"Fn::Equals": [_ref(deploy_parameter(used[0])), "true"]}
    else:
        selected = {"Fn::Or": [{"Condition": version_condition(version)} for version in used]}
    if not rule.is_global:
        return selected
    return {"Fn::And": [selected, {"Condition": GLOBAL_CONDITION}]}


def _function_arn(rule: Rule) -> dict[str, Any]:
    """The rule function's ARN for a pack that holds the rule. Fn::Select picks the ARN; listing
    the permission beside it makes the pack wait for it (a Ref is an implicit dependency), so
    Config's first invocation of a new rule cannot come before its permission. DependsOn cannot
    name a resource that a condition leaves out; a Ref inside Fn::If can.

    A pack's condition implies its regional rules' conditions; a global rule's function exists
    only in the global-resources region, and elsewhere the pack gets :data:`NOT_DEPLOYED` (and
    ``GlobalResourcesProfile`` ``none``, so it creates no rule that would use it)."""
    logical = logical_id(rule.name)
    arn = {"Fn::Select": [0, [{"Fn::GetAtt": [f"{logical}Function", "Arn"]}, _ref(f"{logical}Permission")]]}
    return {"Fn::If": [rule_condition(rule), arn, NOT_DEPLOYED]} if rule.is_global else arn


def later_pack_key(bench: Benchmark, every: dict[str, Rule] | None = None) -> str:
    """Where the version's pack (``conformance-packs/cis-<version>.yaml``) is stored in each
    region's code bucket: content-addressed, as :func:`cispack.dist.distribution.template_key`."""
    return template_key(version_packs.pack_text(bench, every), bench.name)


def pack_bodies(rules: Sequence[Rule] | None = None, every: dict[str, Rule] | None = None) -> dict[str, str]:
    """Every pack body the member template reads from the code buckets, by key name: each later
    version's pack, and the v1.2.0 pack when it no longer fits inline (:func:`pack_goes_by_s3`)."""
    folders = every if every is not None else {rule.name: rule for rule in load_rules(every_folder=True)}
    bodies = {bench.name: version_packs.pack_text(bench, folders) for bench in later_benchmarks()}
    if pack_goes_by_s3(rules):
        bodies["conformance-pack"] = s3_pack_body(rules)
    return bodies


def upload_pack_bodies(regions: Sequence[str], bucket_prefix: str, session: Any) -> list[Upload]:
    """Store :func:`pack_bodies` in every region's code bucket (``./pack upload`` and the local
    rollout do, beside the code): a conformance pack reads ``TemplateS3Uri`` from its own region."""
    bodies = pack_bodies()
    return [
        put_template(body, region, bucket_prefix, session, name) for region in regions for name, body in bodies.items()
    ]


def _later_pack(bench: Benchmark, every: dict[str, Rule]) -> dict[str, Any]:
    """The version's pack, read from the region's code bucket, given this stack's function ARNs
    and the parameters the v1.2.0 pack gets (those the version's pack declares)."""
    declared = version_packs.build_version_pack(bench, every)["Parameters"]
    custom = [every[name] for name in bench.rule_names if every[name].is_custom]
    arns = [
        {"ParameterName": conformance.lambda_arn_parameter(rule.name), "ParameterValue": _function_arn(rule)}
        for rule in custom
    ]
    shared = [p for p in _shared_pack_parameters() if p["ParameterName"] in declared]
    return {
        "Type": "AWS::Config::ConformancePack",
        "Condition": version_condition(bench.name),
        "Properties": {
            "ConformancePackName": pack_name(bench.name),
            "TemplateS3Uri": _sub(f"s3://${{CodeBucketPrefix}}-${{AWS::Region}}/{later_pack_key(bench, every)}"),
            "ConformancePackInputParameters": [*arns, *shared],
        },
    }


def _profile_parameters() -> list[dict[str, Any]]:
    """What every version's pack gets from this template first: the profile, the global-resources
    answer and the custom rules' schedule."""
    return [
        {"ParameterName": conformance.PROFILE_LEVEL, "ParameterValue": _ref("ProfileLevel")},
        {
            # The profile in the one region that evaluates global resources, "none" elsewhere.
            "ParameterName": conformance.GLOBAL_RESOURCES_PROFILE,
            "ParameterValue": {"Fn::If": [GLOBAL_CONDITION, _ref("ProfileLevel"), conformance.NO_GLOBAL_RESOURCES]},
        },
        {"ParameterName": conformance.CUSTOM_RULE_FREQUENCY, "ParameterValue": _ref(conformance.CUSTOM_RULE_FREQUENCY)},
    ]


def _passed_on(names: Iterable[str]) -> list[dict[str, Any]]:
    """This template's parameters ``names``, handed to a pack under the same names."""
    return [{"ParameterName": name, "ParameterValue": _ref(name)} for name in names]


def _shared_pack_parameters() -> list[dict[str, Any]]:
    """What every version's pack gets from this template besides the ARNs: the profile, the
    global-resources answer, the custom rules' schedule and the rule parameters several rules
    share."""
    return [*_profile_parameters(), *_passed_on(conformance.SHARED_RULE_PARAMETERS.values())]


#: What Fn::Sub may add to the inline body per custom rule: a function ARN (up to about 140
#: characters) where its ``${<Rule>FunctionArn}`` placeholder stood.
ARN_ALLOWANCE = 120


def pack_goes_by_s3(rules: Sequence[Rule] | None = None) -> bool:
    """Whether the pack's body, its ARNs substituted, could pass the 51,200 bytes of an inline
    ``TemplateBody``: then the member template passes it by ``TemplateS3Uri`` (up to 300 KB)."""
    grown = len(_pack_body(rules).encode()) + ARN_ALLOWANCE * len(custom_rules_of(rules))
    return grown > conformance.MAX_BODY_BYTES


def s3_pack_body(rules: Sequence[Rule] | None = None) -> str:
    """The pack body the member template reads from S3: the standalone pack, whose Lambda ARNs are
    pack parameters (``<Rule>LambdaArn``), which the member template passes in."""
    body = conformance.render(conformance.build_pack(rules=rules))
    if len(body.encode()) > conformance.MAX_S3_TEMPLATE_BYTES:
        raise ValueError(f"the conformance pack is over the {conformance.MAX_S3_TEMPLATE_BYTES} bytes S3 allows")
    return body


def s3_pack_key(rules: Sequence[Rule] | None = None) -> str:
    """Where :func:`s3_pack_body` is stored in each region's code bucket: content-addressed, as
    :func:`cispack.dist.distribution.template_key` names templates."""
    return template_key(s3_pack_body(rules), "conformance-pack")


def _conformance_pack(custom: Sequence[Rule], all_rules: Sequence[Rule] | None) -> dict[str, Any]:
    """The pack, its body's Lambda ARNs substituted with this stack's functions (global rules'
    functions exist only in the global-resources region; elsewhere the pack leaves them out).
    Inline while the body fits the 51,200 bytes of ``TemplateBody``; otherwise read from the
    region's code bucket (``TemplateS3Uri``), the ARNs passed as the pack's parameters."""
    by_s3 = pack_goes_by_s3(all_rules)
    variables = {_arn_variable(rule): _function_arn(rule) for rule in custom}
    template: dict[str, Any] = {"TemplateBody": {"Fn::Sub": [_pack_body(all_rules), variables]}}
    arn_parameters: list[dict[str, Any]] = []
    if by_s3:
        template = {"TemplateS3Uri": _sub(f"s3://${{CodeBucketPrefix}}-${{AWS::Region}}/{s3_pack_key(all_rules)}")}
        arn_parameters = [
            {
                "ParameterName": conformance.lambda_arn_parameter(rule.name),
                "ParameterValue": variables[_arn_variable(rule)],
            }
            for rule in custom
        ]
    return {
        "Type": "AWS::Config::ConformancePack",
        "Condition": version_condition(V120),
        "Properties": {
            "ConformancePackName": CONFORMANCE_PACK_NAME,
            **template,
            "ConformancePackInputParameters": [
                *arn_parameters,
                *_profile_parameters(),
                *_passed_on(REMEDIATION_SETTINGS),
                *_passed_on(conformance.SHARED_RULE_PARAMETERS.values()),
            ],
        },
        # AWS Config looks a remediation's document up when the pack creates it.
        "DependsOn": [runbooks.document_resource_id(runbook) for runbook in runbooks.own_runbooks()],
    }


def every_rule(every: Sequence[Rule] | None = None) -> list[Rule]:
    """Every rule folder (``every``, default those of rules/), the rules of later versions included."""
    return list(every) if every is not None else load_rules(every_folder=True)


def generate(rules: Sequence[Rule] | None = None, every: Sequence[Rule] | None = None) -> dict[str, Any]:
    """The member template as a document. ``rules``: the v1.2.0 pack's (default those of
    rules/); ``every``: every rule folder (default those of rules/), whose custom rules get a
    function each, under the condition that a selected version's pack holds them."""
    v120_custom = custom_rules_of(rules)
    folders = every_rule(every)
    by_name = {rule.name: rule for rule in folders}
    custom = [rule for rule in folders if rule.is_custom]
    benches = later_benchmarks()
    resources: dict[str, Any] = {
        "RdklibLayer": {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {
                "LayerName": LAYER_NAME,
                "Description": "rdklib for the CIS AWS Foundations v1.2.0 Config rules (built by ./pack build).",
                "CompatibleRuntimes": [LAMBDA_RUNTIME],
                "LicenseInfo": "Apache-2.0",
                "Content": {"S3Bucket": _sub("${CodeBucketPrefix}-${AWS::Region}"), "S3Key": _ref(LAYER_KEY_PARAMETER)},
            },
        },
        "RulesExecutionRole": execution_role(custom),
        "OnFailureDestinationPolicy": _on_failure_policy(),
        # Lambda takes a code signing configuration of its own account and region only, hence one here.
        "CodeSigningConfig": {
            "Type": "AWS::Lambda::CodeSigningConfig",
            "Condition": SIGNING_CONDITION,
            "Properties": {
                "Description": "Only code signed by the pack's signing profile runs as a CIS rule function.",
                "AllowedPublishers": {"SigningProfileVersionArns": [_ref(SIGNING_PARAMETER)]},
                "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
            },
        },
    }
    for rule in custom:
        condition = rule_condition(rule)
        logical = logical_id(rule.name)
        log_group = log_group_resource(rule)
        if condition:
            log_group["Condition"] = condition
        resources[f"{logical}LogGroup"] = log_group
        resources[f"{logical}Function"] = _function(rule, condition)
        resources[f"{logical}Permission"] = _permission(rule, condition)
        resources[f"{logical}InvokeConfig"] = _invoke_config(rule, condition)
        resources[f"{logical}ErrorsAlarm"] = _errors_alarm(rule, condition)
    # The runbooks' key and alarm topic only where the trail and the 3.x alarms are remediated.
    resources.update(runbooks.resources(also=GLOBAL_CONDITION))
    resources[pack_resource_id(V120)] = _conformance_pack(v120_custom, rules)
    for bench in benches:
        resources[pack_resource_id(bench.name)] = _later_pack(bench, by_name)
    outputs: dict[str, Any] = {
        "RulesExecutionRoleArn": {
            "Description": "The execution role of this region's rule functions.",
            "Value": {"Fn::GetAtt": ["RulesExecutionRole", "Arn"]},
        }
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "CIS AWS Foundations Benchmark v1.2.0 (and v1.4.0, v3.0.0, v5.0.0, v6.0.0) - AWS Config rules pack, "
            "member account and region: custom rule functions, their execution role and permissions, the "
            "remediation runbooks and their role, and the conformance pack of each chosen CIS version."
        ),
        "Parameters": _parameters(custom),
        "Conditions": {
            GLOBAL_CONDITION: {"Fn::Equals": [_ref("AWS::Region"), _ref("GlobalResourcesRegion")]},
            **{version_condition(v): {"Fn::Equals": [_ref(deploy_parameter(v)), "true"]} for v in VERSIONS},
            **{rule_condition(rule): _rule_condition_definition(rule, benches) for rule in custom},
            ALARM_TOPIC_GIVEN: {"Fn::Not": [{"Fn::Equals": [_ref(ALARM_TOPIC), ""]}]},
            SIGNING_CONDITION: {"Fn::Not": [{"Fn::Equals": [_ref(SIGNING_PARAMETER), ""]}]},
            **runbooks.default_conditions(also=GLOBAL_CONDITION),
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def render(document: dict[str, Any]) -> str:
    return HEADER + yaml_text.dump(document)


def parameter_values(
    manifest: Manifest,
    bucket_prefix: str,
    profile_level: str,
    global_resources_region: str,
    rules: Sequence[Rule] | None = None,
    frequency: str = conformance.DEFAULT_FREQUENCY,
    alarm_topic: str = "",
) -> dict[str, str]:
    """The member template's parameter values for a build: code keys from its manifest, the
    custom rules' schedule (``CustomRuleFrequency``) and the operators' topic (``AlarmTopicArn``)."""
    values = {
        "CodeBucketPrefix": bucket_prefix,
        "ProfileLevel": profile_level,
        "GlobalResourcesRegion": global_resources_region,
        conformance.CUSTOM_RULE_FREQUENCY: frequency,
        LAYER_KEY_PARAMETER: manifest.layer.key,
    }
    for rule in rules if rules is not None else custom_rules(every_folder=True):
        values[code_key_parameter(rule.name)] = manifest.rule_key(rule.name)
    if alarm_topic:
        values[ALARM_TOPIC] = alarm_topic
    return values

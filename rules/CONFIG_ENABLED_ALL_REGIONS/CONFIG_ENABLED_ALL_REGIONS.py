"""CIS 2.5 — Ensure AWS Config is enabled in all regions (Level 1, scored).

Trigger: periodic. Reports on: ``AWS::::Account`` (this account).
Parameters: ``excludedRegions`` — comma-separated region names not to check (default: none),
e.g. regions an SCP denies, where every Config call would fail with AccessDenied;
``staleAfterHours`` (every rule, ``cis_rule``).

Deploy in one region (rule set ``global-resources``): the rule itself asks every region enabled
for the account (``DescribeRegions``, restricted to the partition it runs in) for its
configuration recorders (``DescribeConfigurationRecorders``; service-linked recorders, which
record only for another AWS service, are ignored) and their status
(``DescribeConfigurationRecorderStatus``). Neither call is paginated. The regions are read at
most four at a time (``cis_parallel``); the verdict is the one a serial walk would give.

A region passes when one of its recorders records all supported resource types
(``allSupported`` true and no ``exclusionByResourceTypes``), is recording, and its ``lastStatus``
is not ``Failure``. The benchmark's audit asks for ``SUCCESS``; ``PENDING`` is accepted as well
(the contract's "did not last fail"): AWS reports it right after a recorder starts and between
deliveries, and moto reports nothing else for a started recorder. The account also needs one
passing region that records global (IAM) resource types (``includeGlobalResourceTypes``).

An excluded region that exists in the partition but is not enabled for this account is ignored
(one parameter value can serve accounts that enabled different opt-in regions). A name that is
no region of the partition at all (a typo such as ``us-est-1``) is an error: it would otherwise
silently leave the intended region checked.

Scenarios:
1. Every enabled region has a passing recorder, one records global types: COMPLIANT.
2. No recorder anywhere (a new account): NON_COMPLIANT, naming the regions.
3. Some regions without a recorder, with a partial recording group, stopped, or failed:
   NON_COMPLIANT, the annotation grouping regions by reason (up to four named per reason, fewer when
   the annotation would pass 256 characters, only counted when even one name each does not fit).
4. Every region passes but none records global resource types: NON_COMPLIANT.
5. A recorder whose last status is PENDING: passes.
6. Regions in ``excludedRegions`` are not checked; a value that is not a region name:
   InvalidParametersError naming the parameter; a region unknown to the partition: NON_COMPLIANT
   ``Could not evaluate: excludedRegions names ...``, and the invocation fails.
7. GovCloud, China and not-enabled opt-in regions (which moto lists) are not checked.
8. AccessDenied in any region or on DescribeRegions: NON_COMPLIANT ``Could not evaluate: ...``
   naming the call (and the region), and the invocation fails.
9. Throttling after retries, or the Lambda's remaining time running short: no verdict (the
   account's needs every region) unless the last one is older than ``staleAfterHours``
   (NON_COMPLIANT ``Could not evaluate: not evaluated since ...``); the invocation fails.
"""

from botocore.exceptions import ClientError

from cis_parallel import map_in_order
from cis_regions import ACTIONS as REGION_ACTIONS
from cis_regions import REGION_DESCRIPTION, REGION_PATTERN, enabled_regions, partition_regions
from cis_rule import (
    ACCOUNT,
    MAX_ANNOTATION,
    CisRule,
    EvaluationError,
    ListParameter,
    account_id,
    compliant,
    event_region,
    failure_text,
    handle,
    is_transient,
    join_names,
    non_compliant,
)

NO_RECORDER = "no recorder"
PARTIAL = "not all resource types recorded"
STOPPED = "recorder stopped"
FAILED = "last status FAILURE"
REASONS = (NO_RECORDER, PARTIAL, STOPPED, FAILED)


def _named(regions, limit):
    """Up to ``limit`` regions by name and how many more; with no limit (0), only how many, but a
    region alone by its name."""
    if limit or len(regions) == 1:
        return join_names(regions, limit or 1)
    return f"{len(regions)} regions"


def _records_all_types(recorder):
    group = recorder.get("recordingGroup") or {}
    excluded = (group.get("exclusionByResourceTypes") or {}).get("resourceTypes")
    return group.get("allSupported") is True and not excluded


def judge_region(recorders, statuses):
    """(reason the region fails or None, whether a passing recorder records global types)."""
    status_by_name = {status.get("name"): status for status in statuses}
    # A service-linked recorder records only what another AWS service asked for.
    own = [recorder for recorder in recorders if not recorder.get("servicePrincipal")]
    if not own:
        return NO_RECORDER, False
    reason = PARTIAL
    for recorder in own:
        if not _records_all_types(recorder):
            continue
        status = status_by_name.get(recorder.get("name"), {})
        if status.get("recording") is not True:
            reason = STOPPED
        elif str(status.get("lastStatus", "")).upper() == "FAILURE":
            reason = FAILED
        else:
            return None, (recorder.get("recordingGroup") or {}).get("includeGlobalResourceTypes") is True
    return reason, False


class CONFIG_ENABLED_ALL_REGIONS(CisRule):
    PARAMETERS = {
        "excludedRegions": ListParameter(item_pattern=REGION_PATTERN, item_description=REGION_DESCRIPTION),
    }
    ACTIONS = (*REGION_ACTIONS, "config:DescribeConfigurationRecorderStatus", "config:DescribeConfigurationRecorders")
    RESOURCE_TYPE = ACCOUNT

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        here = event_region(event)
        ec2 = client_factory.build_client("ec2", here)
        excluded = set(valid_rule_parameters["excludedRegions"])
        if excluded:
            unknown = sorted(excluded - set(partition_regions(ec2, here)))
            if unknown:
                raise EvaluationError(
                    f"excludedRegions names {join_names(unknown)}, which "
                    f"{'is not a region' if len(unknown) == 1 else 'are not regions'} of this partition."
                )
        checked = [region for region in enabled_regions(ec2, here) if region not in excluded]
        clients = {region: client_factory.build_client("config", region) for region in checked}

        def read_region(region):
            config = clients[region]
            try:
                recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
                statuses = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
            except ClientError as err:
                if is_transient(err):
                    raise
                # The account's verdict names the region it could not read (Could not evaluate).
                raise EvaluationError(f"{failure_text(err)} in {region}") from err
            return judge_region(recorders, statuses)

        failing = {reason: [] for reason in REASONS}
        global_regions = []
        judged = map_in_order(read_region, checked, "regions read")
        for region, (reason, records_global) in zip(checked, judged, strict=True):
            if reason is not None:
                failing[reason].append(region)
            elif records_global:
                global_regions.append(region)

        account = account_id(event)
        failed = sum(len(regions) for regions in failing.values())
        no_global = "no region records global resource types"
        if failed:
            # Name up to four regions per reason, fewer when that keeps every reason within the
            # 256 characters of an annotation, and only count them when even one name each is too long.
            for limit in (4, 2, 1, 0):
                groups = [f"{reason} in {_named(regions, limit)}" for reason, regions in failing.items() if regions]
                text = f"AWS Config is incomplete in {failed} of {len(checked)} checked regions: {'; '.join(groups)}"
                if not global_regions:
                    text += f"; and {no_global}"
                if len(text) < MAX_ANNOTATION:
                    break
            return [non_compliant(account, ACCOUNT, text + ".")]
        everywhere = f"AWS Config records all resource types in all {len(checked)} checked regions"
        if not global_regions:
            return [non_compliant(account, ACCOUNT, f"{everywhere}, but {no_global}.")]
        return [
            compliant(
                account,
                ACCOUNT,
                f"{everywhere}, and global resource types in {join_names(global_regions, limit=4)}.",
            )
        ]


def lambda_handler(event, context):
    return handle(CONFIG_ENABLED_ALL_REGIONS(), event, context)

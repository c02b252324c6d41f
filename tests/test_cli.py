"""Every command answers bad input before it acts: one sentence on one line, naming the command and
the offending input, a non-zero exit code and no traceback (``--debug`` lets the traceback through).

Run in process (``cispack.cli.main.main``), without AWS: the cases that need an AWS answer get it
from moto (a missing code bucket) or from a closed local port (an endpoint that cannot be reached).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from moto import mock_aws

from cispack.cli import cmd_rollout
from cispack.cli.main import main
from cispack.dist.distribution import template_key
from cispack.generate import member_template
from cispack.rollout.stackset import template_defaults

PREFIX = "pfx-code"
BROKEN = "BROKEN_RULE"


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere: no environment keys, no files, no instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@pytest.fixture
def fake_keys(no_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build as ./pack build writes it, with tiny stand-in zips (nothing here runs them)."""
    from cispack.catalog.rules import custom_rules

    folder = tmp_path_factory.mktemp("dist")

    def entry(name: str, kind: str) -> dict[str, str]:
        (folder / f"{name}.zip").write_bytes(name.encode())
        return {"name": name, "kind": kind, "file": f"{name}.zip", "sha256": hashlib.sha256(name.encode()).hexdigest()}

    manifest = {
        "runtime": "python3.12",
        "rdklib_version": "0.3.10",
        "layer": entry("rdklib-layer", "layer"),
        "rules": [entry(rule.name, "rule") for rule in custom_rules(every_folder=True)],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def committed_member_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip regenerating the member template (3-4 s); tests/test_templates.py checks it is fresh."""
    body = member_template.MEMBER_TEMPLATE.read_text(encoding="utf-8")
    monkeypatch.setattr(cmd_rollout, "_member_template", lambda: body)


def _rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    folder = tmp_path / "rules" / BROKEN
    folder.mkdir(parents=True)
    (folder / "parameters.json").write_text(text)
    monkeypatch.setattr("cispack.catalog.rules.RULES_DIR", tmp_path / "rules")


@pytest.fixture
def malformed_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _rules_dir(tmp_path, monkeypatch, '{"Version": "1.0", "Parameters": {"RuleName": "BROKEN_RULE",}}')


@pytest.fixture
def rule_without_control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"Version": "1.0", "Parameters": {"RuleName": BROKEN, "RuleSets": ["cis-level1", "global-resources"]}}
    _rules_dir(tmp_path, monkeypatch, json.dumps(document))


@pytest.fixture
def unknown_control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"Version": "1.0", "Parameters": {"RuleName": BROKEN, "RuleSets": ["cis-1.2.0:9.9"]}}
    _rules_dir(tmp_path, monkeypatch, json.dumps(document))


@pytest.fixture
def moto(fake_keys: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def closed_endpoint(fake_keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


ROLLOUT = ["rollout", "--ou", "ou-abcd-11111111", "--bucket-prefix", PREFIX]
DRY = [*ROLLOUT, "--dry-run", "--regions", "us-east-1"]
COST = ["cost", "--accounts", "5"]
UPLOAD = ["upload", "--regions", "us-east-1", "--bucket-prefix", PREFIX]

# (case, fixtures, argv, words the one-line answer must hold: the command and the offending input)
CASES: list[tuple[str, tuple[str, ...], list[str], tuple[str, ...]]] = [
    # The cases.
    ("rollout without credentials", ("no_aws", "dist"), [*ROLLOUT, "--regions", "us-east-1"], ("credentials",)),
    (
        "rollout with an unknown profile",
        ("no_aws", "dist"),
        [*ROLLOUT, "--regions", "us-east-1", "--profile", "nosuch"],
        ("nosuch",),
    ),
    (
        "rollout without a code bucket",
        ("moto", "dist", "committed_member_template"),
        [*ROLLOUT, "--regions", "us-east-1"],
        (f"{PREFIX}-us-east-1",),
    ),
    ("upload without credentials", ("no_aws", "dist"), UPLOAD, ("credentials",)),
    ("upload with an unknown profile", ("no_aws", "dist"), [*UPLOAD, "--profile", "nosuch"], ("nosuch",)),
    ("upload without a code bucket", ("moto", "dist"), UPLOAD, (f"{PREFIX}-us-east-1",)),
    ("upload to an endpoint that cannot be reached", ("closed_endpoint", "dist"), UPLOAD, ("127.0.0.1:9",)),
    ("faults of a rule that does not exist", (), ["faults", "NO_SUCH_RULE"], ("NO_SUCH_RULE",)),
    ("faults of a managed rule", (), ["faults", "IAM_PASSWORD_POLICY"], ("IAM_PASSWORD_POLICY",)),
    (
        "generate with a malformed parameters.json",
        ("malformed_rule",),
        ["generate"],
        (f"rules/{BROKEN}/parameters.json", "line 1"),
    ),
    (
        "generate --check with a malformed parameters.json",
        ("malformed_rule",),
        ["generate", "--check"],
        (f"rules/{BROKEN}/parameters.json",),
    ),
    (
        "build with a malformed parameters.json",
        ("malformed_rule",),
        ["build", "--dist", "/nonexistent/never-built"],
        (f"rules/{BROKEN}/parameters.json",),
    ),
    (
        "cost with a malformed parameters.json",
        ("malformed_rule",),
        [*COST, "--region-count", "2"],
        (f"rules/{BROKEN}/parameters.json",),
    ),
    (
        "rollout --dry-run with a malformed parameters.json",
        ("no_aws", "dist", "committed_member_template", "malformed_rule"),
        DRY,
        (f"rules/{BROKEN}/parameters.json",),
    ),
    (
        "a RuleSets entry without its control",
        ("rule_without_control",),
        [*COST, "--region-count", "2"],
        (f"rules/{BROKEN}/parameters.json", "RuleSets"),
    ),
    (
        "a RuleSets entry naming no CIS v1.2.0 control",
        ("unknown_control",),
        [*COST, "--region-count", "2"],
        ("cis-1.2.0:9.9",),
    ),
    (
        "rollout --local with a misspelt region",
        (),
        ["rollout", "--local", "--regions", "us-east1"],
        ("us-east1", "us-east-1"),
    ),
    ("demo --keep where nothing can be written", (), ["demo", "--keep", "/proc/nope"], ("/proc/nope",)),
    (
        "cost for a negative number of accounts",
        (),
        ["cost", "--accounts", "-5", "--region-count", "4"],
        ("--accounts", "-5"),
    ),
    ("cost for no region", (), [*COST, "--region-count", "0"], ("--region-count", "0")),
    (
        "cost with --regions as a count (its old meaning)",
        (),
        [*COST, "--regions", "0"],
        ("--regions 0", "--region-count"),
    ),
    (
        "cost with a negative number of buckets",
        (),
        [*COST, "--region-count", "4", "--buckets", "-1"],
        ("--buckets", "-1"),
    ),
    (
        "rollout --dry-run to an unknown region",
        (),
        ["rollout", "--dry-run", "--regions", "mars-1", "--ou", "notanou", "--max-concurrent-percentage", "250"],
        ("mars-1",),
    ),
    (
        "rollout --dry-run to an OU that is not an OU ID",
        (),
        [*DRY[:-2], "--regions", "us-east-1", "--ou", "notanou"],
        ("notanou",),
    ),
    (
        "rollout at 250 percent",
        (),
        [*DRY, "--max-concurrent-percentage", "250"],
        ("--max-concurrent-percentage", "250"),
    ),
    (
        "a percentage and a count together",
        (),
        [*DRY, "--max-concurrent-percentage", "25", "--max-concurrent-count", "3"],
        ("--max-concurrent-percentage", "--max-concurrent-count"),
    ),
    (
        "--dry-run and --local together",
        (),
        ["rollout", "--dry-run", "--local", "--regions", "us-east-1"],
        ("--dry-run", "--local"),
    ),
    (
        "report on a region that does not exist",
        ("fake_keys",),
        ["report", "--region", "xx-nowhere-9"],
        ("xx-nowhere-9",),
    ),
    # More of the same kind.
    ("rollout to no region", (), [*ROLLOUT, "--regions", ","], ("--regions",)),
    (
        "rollout of an unknown CIS version",
        (),
        [*DRY, "--benchmark", "cis-1.2.0,cis-2.0.0"],
        ("--benchmark", "cis-2.0.0 is not one of cis-1.2.0, cis-1.4.0, cis-3.0.0, cis-5.0.0, cis-6.0.0"),
    ),
    ("rollout of no CIS version", (), [*DRY, "--benchmark", ","], ("--benchmark", "names no CIS version")),
    ("rollout of a CIS version twice", (), [*DRY, "--benchmark", "cis-3.0.0,cis-3.0.0"], ("cis-3.0.0 twice",)),
    ("report on an unknown CIS version", (), ["report", "--sample", "12", "--benchmark", "cis-2.0.0"], ("cis-2.0.0",)),
    ("rollout to a region twice", (), [*ROLLOUT, "--regions", "us-east-1,us-east-1"], ("us-east-1",)),
    ("rollout with the root spelt wrong", (), [*DRY, "--ou", "r-x"], ("r-x",)),
    (
        "rollout with a bucket prefix S3 refuses",
        (),
        ["rollout", "--dry-run", "--regions", "us-east-1", "--bucket-prefix", "My_Bucket"],
        ("My_Bucket",),
    ),
    ("rollout with a misspelt home region", (), [*DRY, "--home-region", "eu-west"], ("eu-west",)),
    (
        "rollout with a global region outside its regions",
        (),
        [*DRY, "--global-resources-region", "eu-west-1"],
        ("eu-west-1",),
    ),
    ("failure tolerance of 101 percent", (), [*DRY, "--failure-tolerance-percentage", "101"], ("101",)),
    ("a negative failure tolerance count", (), [*DRY, "--failure-tolerance-count", "-1"], ("-1",)),
    ("no concurrent deployment at all", (), [*DRY, "--max-concurrent-count", "0"], ("--max-concurrent-count", "0")),
    (
        "two failure tolerances",
        (),
        [*DRY, "--failure-tolerance-percentage", "5", "--failure-tolerance-count", "1"],
        ("--failure-tolerance-count",),
    ),
    ("--accounts without --local", (), [*DRY, "--accounts", "2"], ("--accounts", "--local")),
    (
        "--local with no account",
        (),
        ["rollout", "--local", "--regions", "us-east-1", "--accounts", "0"],
        ("--accounts", "0"),
    ),
    (
        "--local with accounts leaving",
        (),
        ["rollout", "--local", "--regions", "us-east-1", "--joining", "-1"],
        ("--joining", "-1"),
    ),
    ("--local with an OU", (), ["rollout", "--local", "--regions", "us-east-1", "--ou", "ou-abcd-11111111"], ("--ou",)),
    ("automatic remediation yes", (), [*DRY, "--automatic-remediation", "yes"], ("yes", "true")),
    ("a parameter without a value", (), [*DRY, "--parameter", "AlarmTopic"], ("AlarmTopic",)),
    (
        "a parameter the template does not have",
        ("no_aws", "dist", "committed_member_template"),
        [*DRY, "--parameter", "Nope=1"],
        ("Nope",),
    ),
    (
        "a parameter value the template refuses",
        ("no_aws", "dist", "committed_member_template"),
        [*DRY, "--parameter", "GlobalResourcesRegion=Mars"],
        ("Mars",),
    ),
    (
        "rollout from a folder without a build",
        ("no_aws",),
        [*DRY, "--dist", "/nonexistent/dist"],
        ("/nonexistent/dist",),
    ),
    (
        "upload from a folder without a build",
        ("fake_keys",),
        [*UPLOAD, "--dist", "/nonexistent/dist"],
        ("/nonexistent/dist",),
    ),
    (
        "upload to an unknown region",
        (),
        ["upload", "--regions", "eu-nowhere-1", "--bucket-prefix", PREFIX],
        ("eu-nowhere-1",),
    ),
    ("cost at profile level 3", (), [*COST, "--region-count", "2", "--profile-level", "3"], ("3",)),
    ("cost with a negative change rate", (), [*COST, "--region-count", "2", "--changes", "-2"], ("--changes", "-2")),
    (
        "cost with a change rate that is not a number",
        (),
        [*COST, "--region-count", "2", "--changes", "often"],
        ("often",),
    ),
    (
        "cost with a number of route tables that is not a number",
        (),
        [*COST, "--region-count", "2", "--route-tables", "many"],
        ("many",),
    ),
    ("cost at an unknown frequency", (), [*COST, "--region-count", "2", "--frequency", "Hourly"], ("Hourly",)),
    ("cost without its required flags", (), ["cost"], ("--accounts",)),
    (
        "generate from a folder without rules",
        (),
        ["generate", "--check", "--rules-dir", "/nonexistent/rules"],
        ("/nonexistent/rules",),
    ),
    ("demo --keep naming a file", ("a_file",), ["demo", "--keep", "{a_file}"], ("a-file",)),
    ("an unknown command", (), ["deploy"], ("deploy",)),
    ("report on two regions, one unknown", ("fake_keys",), ["report", "--region", "us-east-1,moon-1"], ("moon-1",)),
]


@pytest.mark.parametrize(("case", "fixtures", "argv", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_sentence(
    case: str,
    fixtures: tuple[str, ...],
    argv: list[str],
    words: tuple[str, ...],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    values = {name: request.getfixturevalue(name) for name in fixtures}
    argv = [arg.format(**values) if "{" in arg else arg for arg in argv]
    if "dist" in values and "--dist" not in argv:
        argv = [*argv, "--dist", str(values["dist"])]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0, f"{case}: exit code 0 for bad input"
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.endswith(" ...")]
    assert len(lines) == 1, f"{case}: not one line: {err!r}"
    command = argv[0] if argv[0] not in {"deploy"} else ""
    assert lines[0].startswith((f"./pack {command}".rstrip() + ":", f"{command}:")), lines[0]
    assert lines[0].endswith("."), lines[0]
    for word in words:
        assert word in lines[0], f"{case}: {word!r} missing from {lines[0]!r}"


def test_report_refuses_an_unknown_region_at_once(fake_keys: None, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    assert main(["report", "--region", "xx-nowhere-9"]) == 2
    assert time.perf_counter() - started < 5  # no call to an endpoint that cannot exist (25 s before)
    assert "xx-nowhere-9 is not a region" in capsys.readouterr().err


def test_debug_shows_the_traceback(no_aws: None, dist: Path) -> None:
    with pytest.raises(NoCredentialsError):
        main([*UPLOAD, "--dist", str(dist), "--debug"])
    with pytest.raises(NoCredentialsError):
        main(["--debug", *UPLOAD, "--dist", str(dist)])


def existing_stack_set(parameters: dict[str, str]) -> None:
    """The pack's StackSet as an earlier rollout left it: a template declaring ``parameters``, set to their values."""
    declared = "".join(f"  {name}: {{Type: String}}\n" for name in parameters)
    boto3.client("cloudformation", region_name="us-east-1").create_stack_set(
        StackSetName="cis-aws-foundations-config-pack",
        TemplateBody=f"Parameters:\n{declared}Resources:\n  Topic: {{Type: AWS::SNS::Topic}}\n",
        Parameters=[{"ParameterKey": name, "ParameterValue": value} for name, value in parameters.items()],
    )


def test_rollout_dry_run_shows_the_parameter_diff_of_the_stack_set(
    moto: None, dist: Path, committed_member_template: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """With credentials the dry run reads the StackSet (read-only) and shows each parameter
    before and after: set, kept or changed."""
    existing_stack_set({"AlarmTopic": "security-team", "ProfileLevel": "2"})
    assert main([*DRY, "--dist", str(dist), "--profile-level", "1"]) == 0
    out = capsys.readouterr().out
    assert "updates the StackSet" in out
    assert "  AlarmTopic = 'security-team'  (kept)" in out
    assert "  ProfileLevel: '2' -> '1'" in out
    assert "nothing is changed" in out
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    described = cfn.describe_stack_set(StackSetName="cis-aws-foundations-config-pack")["StackSet"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {
        "AlarmTopic": "security-team",
        "ProfileLevel": "2",
    }


def _stack_set_parameters() -> dict[str, str]:
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    described = cfn.describe_stack_set(StackSetName="cis-aws-foundations-config-pack")["StackSet"]
    return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}


def test_a_parameter_the_user_set_survives_the_next_rollout(
    moto: None, dist: Path, committed_member_template: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user sets AlarmTopic with ./pack rollout and AccessLogsBucket on the StackSet itself
    (console or CLI); later rollouts without those flags keep both, a rollout that names a value
    changes only that one, and one whose --regions leave out the kept global-resources region is
    refused before it changes anything (its IAM and account rules would be created nowhere)."""
    session = boto3.Session(region_name="us-east-1")
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    # An OU without accounts: the StackSet's parameters are the point, not its instances.
    ou = org.create_organizational_unit(ParentId=root, Name="empty")["OrganizationalUnit"]["Id"]
    session.client("s3").create_bucket(Bucket=f"{PREFIX}-us-east-1")
    rollout = ["rollout", "--ou", ou, "--regions", "us-east-1", "--bucket-prefix", PREFIX, "--dist", str(dist)]

    assert main([*rollout, "--alarm-topic", "security-team", "--profile-level", "2"]) == 0
    assert "StackSet cis-aws-foundations-config-pack created" in capsys.readouterr().out
    first = _stack_set_parameters()
    assert (first["AlarmTopic"], first["ProfileLevel"], first["GlobalResourcesRegion"]) == (
        "security-team",
        "2",
        "us-east-1",
    )

    cfn = session.client("cloudformation")
    cfn.update_stack_set(
        StackSetName="cis-aws-foundations-config-pack",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": k, "UsePreviousValue": True} for k in first if k != "AccessLogsBucket"]
        + [{"ParameterKey": "AccessLogsBucket", "ParameterValue": "org-access-logs"}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )

    assert main(rollout) == 0
    out = capsys.readouterr().out
    assert "StackSet cis-aws-foundations-config-pack updated" in out
    assert "  AlarmTopic = 'security-team'  (kept)" in out
    second = _stack_set_parameters()
    assert second["AlarmTopic"] == "security-team"
    assert second["AccessLogsBucket"] == "org-access-logs"
    assert second["ProfileLevel"] == "2"
    assert second == {**first, "AccessLogsBucket": "org-access-logs"}

    assert main([*rollout, "--automatic-remediation", "true"]) == 0
    third = _stack_set_parameters()
    assert third == {**second, "AutomaticRemediation": "true"}

    # The kept global-resources region must stay among --regions: refused before any change.
    capsys.readouterr()
    elsewhere = [arg if arg != "us-east-1" else "eu-west-1" for arg in rollout]
    assert main([*elsewhere, "--home-region", "us-east-1", "--alarm-topic", "other-team"]) == 1
    err = capsys.readouterr().err
    assert "the global-resources region us-east-1 (kept from the StackSet) is not among the regions eu-west-1" in err
    assert _stack_set_parameters() == third


def test_build_prints_a_summary_and_json_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cispack.dist import distribution

    built: list[Path] = []

    def fake_build(dest: Path, rules: Any = None) -> Any:
        built.append(dest)
        dest.mkdir(parents=True, exist_ok=True)
        return distribution.Manifest(
            "0.3.10",
            distribution.Artifact("rdklib-layer", "layer", dest / "rdklib-layer.zip", "a" * 64),
            (distribution.Artifact("RULE", "rule", dest / "RULE.zip", "b" * 64),),
        )

    monkeypatch.setattr(distribution, "build", fake_build)
    monkeypatch.setattr("cispack.generate.stale_files", lambda *a: [])
    (tmp_path / "rdklib-layer.zip").write_bytes(b"layer")
    assert main(["build", "--dist", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "built 1 rule zip and the rdklib 0.3.10 layer (5 bytes)" in out
    assert main(["build", "--dist", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layer"]["name"] == "rdklib-layer"


def test_generate_check_says_so_on_success(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cispack.cli import cmd_generate

    monkeypatch.setattr(cmd_generate, "generated_files", lambda rules_dir=None: {})
    assert main(["generate", "--check"]) == 0
    assert capsys.readouterr().out == "all 0 generated files are up to date\n"


RDK_OUTPUT = """Running local test!
Testing IAM_ROOT_ACCOUNT_UNUSED
Looking for tests in /repo/rules/IAM_ROOT_ACCOUNT_UNUSED
IAM_ROOT_ACCOUNT_UNUSED_test.py
<unittest.suite.TestSuite tests=[<unittest.suite.TestSuite tests=[]>]>
Debug!
test_access_denied (IAM_ROOT_ACCOUNT_UNUSED_test.IamRootAccountUnusedTest.test_access_denied)
access denied ... ok
test_never_used (IAM_ROOT_ACCOUNT_UNUSED_test.IamRootAccountUnusedTest.test_never_used)
never used ... FAIL

======================================================================
FAIL: test_never_used (IAM_ROOT_ACCOUNT_UNUSED_test.IamRootAccountUnusedTest.test_never_used)
----------------------------------------------------------------------
AssertionError: 'COMPLIANT' != 'NON_COMPLIANT'

----------------------------------------------------------------------
Ran 2 tests in 0.1s

FAILED (failures=1)
"""


def test_rdk_test_local_output_keeps_the_rules_the_failures_and_the_totals() -> None:
    from cispack.cli.output import rdk_test_summary

    assert rdk_test_summary(RDK_OUTPUT) == [
        "Testing IAM_ROOT_ACCOUNT_UNUSED",
        "never used ... FAIL",
        "",
        "======================================================================",
        "FAIL: test_never_used (IAM_ROOT_ACCOUNT_UNUSED_test.IamRootAccountUnusedTest.test_never_used)",
        "----------------------------------------------------------------------",
        "AssertionError: 'COMPLIANT' != 'NON_COMPLIANT'",
        "",
        "----------------------------------------------------------------------",
        "Ran 2 tests in 0.1s",
        "",
        "FAILED (failures=1)",
    ]


def test_the_demo_counts_rules_and_evaluations_apart() -> None:
    from cispack.catalog.rules import custom_rules
    from cispack.local.demo import RuleOutcome, verdict_summary

    first, second, third = custom_rules()[:3]
    outcomes = [
        RuleOutcome(first, [{"ComplianceType": "COMPLIANT"}, {"ComplianceType": "NON_COMPLIANT"}]),
        RuleOutcome(second, [{"ComplianceType": "COMPLIANT"}]),
        RuleOutcome(third, [], error="rdk deploy created no Lambda for this rule"),
    ]
    assert verdict_summary(outcomes) == (
        "3 custom rules evaluated: 3 evaluations (2 COMPLIANT, 1 NON_COMPLIANT); 1 rule in error."
    )
    assert verdict_summary(outcomes[2:]) == "1 custom rule evaluated: no evaluations; 1 rule in error."


def test_upload_prints_a_line_per_region(moto: None, dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=f"{PREFIX}-us-east-1")
    zips = len(json.loads((dist / "manifest.json").read_text())["rules"]) + 1
    # And the later versions' packs, which the member template reads by TemplateS3Uri in each region.
    templates = member_template.pack_bodies()
    assert len(templates) == 4
    assert main([*UPLOAD, "--dist", str(dist)]) == 0
    out = capsys.readouterr().out
    assert out == f"us-east-1: s3://{PREFIX}-us-east-1: {zips + len(templates)} uploaded, 0 already there\n"
    assert main([*UPLOAD, "--dist", str(dist), "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {entry["uploaded"] for entry in entries} == {False}
    keys = {entry["key"] for entry in entries}
    assert {template_key(body, name) for name, body in templates.items()} <= keys


def _dry_run_parameters(argv: list[str], dist: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The create and update calls' parameters of a dry run without credentials (--json)."""
    assert main([*DRY, "--dist", str(dist), "--json", *argv]) == 0
    calls = {call["operation"]: call["params"] for call in json.loads(capsys.readouterr().out)}
    create = {p["ParameterKey"]: p["ParameterValue"] for p in calls["create_stack_set"]["Parameters"]}
    update = {p["ParameterKey"]: p.get("ParameterValue", "previous") for p in calls["update_stack_set"]["Parameters"]}
    return {"create": create, "update": update}


SWITCHES = ("DeployCis120", "DeployCis140", "DeployCis300", "DeployCis500", "DeployCis600")


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ("cis-1.2.0,cis-3.0.0", ("true", "false", "true", "false", "false")),
        ("cis-5.0.0", ("false", "false", "false", "true", "false")),
        (" cis-6.0.0 , cis-1.4.0 ", ("false", "true", "false", "false", "true")),
    ],
)
def test_rollout_benchmark_sets_every_versions_switch(
    no_aws: None,
    dist: Path,
    committed_member_template: None,
    capsys: pytest.CaptureFixture[str],
    chosen: str,
    expected: tuple[str, ...],
) -> None:
    parameters = _dry_run_parameters(["--benchmark", chosen], dist, capsys)
    for call in ("create", "update"):
        assert tuple(parameters[call][name] for name in SWITCHES) == expected, call


def test_rollout_without_benchmark_keeps_the_stack_sets_choice(
    no_aws: None, dist: Path, committed_member_template: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A create takes the template's defaults (v1.2.0 alone); an update keeps what the StackSet has."""
    parameters = _dry_run_parameters([], dist, capsys)
    assert not set(SWITCHES) & set(parameters["create"])
    assert {name: parameters["update"][name] for name in SWITCHES} == dict.fromkeys(SWITCHES, "previous")
    defaults = template_defaults(member_template.MEMBER_TEMPLATE.read_text(encoding="utf-8"))
    assert [defaults[name] for name in SWITCHES] == ["true", "false", "false", "false", "false"]


def test_rollout_dry_run_shows_the_chosen_versions(
    moto: None, dist: Path, committed_member_template: None, capsys: pytest.CaptureFixture[str]
) -> None:
    existing_stack_set({"DeployCis120": "true", "DeployCis300": "false"})
    assert main([*DRY, "--dist", str(dist), "--benchmark", "cis-1.2.0,cis-3.0.0"]) == 0
    out = capsys.readouterr().out
    assert "  DeployCis120 = 'true'  (kept)" in out
    assert "  DeployCis300: 'false' -> 'true'" in out
    assert "  DeployCis600 = 'false'  (new)" in out

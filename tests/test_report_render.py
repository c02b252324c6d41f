"""The scorecard's formats: text, JSON (which reads back), CSV (audit evidence) and the
self-contained HTML page; the command's offline sources (--from, --sample) and its PDF refusal
without Chromium. tests/test_report_browser.py opens the page in a real browser."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from cispack.cli.main import main
from cispack.report.links import partition, resource_url, rule_url
from cispack.report.model import Row, Verdict, scorecard
from cispack.report.page import to_html
from cispack.report.render import CSV_COLUMNS, ScorecardFileError, from_json, render, text, to_csv, to_json
from cispack.report.samples import SAMPLE_TIME, sample


@pytest.fixture(scope="module")
def one():
    return scorecard(sample(1))


@pytest.fixture(scope="module")
def twelve():
    return scorecard(sample(12))


@pytest.fixture(scope="module")
def many():
    return scorecard(sample(200))


def test_text(one, many):
    lines = text(one).splitlines()
    assert lines[0] == "CIS Amazon Web Services Foundations Benchmark v1.2.0: scorecard"
    assert lines[2].startswith("Profile: Level 2 (includes Level 1); 49 controls; 1 account; ")
    assert lines[3].startswith(f"Score {one.score.text()}: {one.score.passed} passed of ")
    assert lines[4].startswith(f"Scored-only score {one.scored_score.text()}: ")
    assert lines[4].endswith("(Not Scored left out: 1.15, 1.17, 1.18, 1.19, 1.21, 4.4).")
    for result in one.controls:
        scored = "yes" if result.control.scored else "no"
        assert any(
            line.startswith(f"{result.control.id:<8}{result.control.level:<4}{scored:<7}{result.verdict.value}")
            for line in lines
        )
    assert "Lowest account scores" in text(many) and "Lowest account scores" not in text(one)
    assert "  - Sample data: every account, resource and annotation is made up." in lines


def test_text_says_in_how_many_accounts_a_control_fails(many):
    lines = text(many).splitlines()
    for result in many.controls:
        failing = sum(1 for c in result.cells.values() if c.verdict in (Verdict.NON_COMPLIANT, Verdict.ERROR))
        (line,) = [x for x in lines if x.startswith(f"{result.control.id:<8}")]
        assert f" {failing}/200  " in line


def test_scored_only_score_leaves_not_scored_controls_out(twelve):
    scored = [r for r in twelve.controls if r.control.scored]
    passed = sum(1 for r in scored if r.verdict == Verdict.COMPLIANT)
    failed = sum(1 for r in scored if r.verdict in (Verdict.NON_COMPLIANT, Verdict.ERROR))
    assert (twelve.scored_score.passed, twelve.scored_score.failed) == (passed, failed)
    not_scored = [r for r in twelve.controls if not r.control.scored]
    assert any(r.verdict == Verdict.NON_COMPLIANT for r in not_scored), "the sample fails a Not Scored control"


def test_json_carries_every_evaluation_and_cell(many):
    document = json.loads(to_json(many))
    assert len(document["evaluations"]) == len(many.rows) > 0
    assert set(document["evaluations"][0]) == set(CSV_COLUMNS)
    assert len(document["accounts"]) == 200 and len(document["account_scores"]) == 200
    control = document["controls"][0]
    assert control["id"] == "1.1" and set(control["accounts"]) == set(many.accounts)
    assert control["failing_accounts"] == many.failing_accounts(many.controls[0])
    assert document["score"]["passed"] == many.score.passed
    assert document["scored_score"]["passed"] == many.scored_score.passed


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "html"])
def test_json_reads_back_to_the_same_report_in_every_format(twelve, fmt):
    again = from_json(to_json(twelve))
    assert render(again, fmt) == render(twelve, fmt)
    assert render(again.at_level(1), fmt) == render(scorecard(sample(12), 1), fmt)


GOOD = json.loads(to_json(scorecard(sample(1))))


def broken(change):
    document = json.loads(json.dumps(GOOD))
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("case", "body", "message"),
    [
        ("not-json", "{", "the file is not JSON (line 1, column 2)."),
        ("another-json", '{"a": 1}', "the file is not a scorecard of ./pack report"),
        ("no-controls", broken(lambda d: d.pop("controls")), "the scorecard has no 'controls' where one is expected."),
        ("unknown-control", broken(lambda d: d["controls"][0].update(id="9.9")), "control '9.9' is not a CIS v1.2.0"),
        ("unknown-verdict", broken(lambda d: d["controls"][0].update(verdict="fine")), "the scorecard holds a value"),
        ("bad-time", broken(lambda d: d.update(read_at="yesterday")), "read_at is not a time like"),
        ("level-3", broken(lambda d: d.update(level=3)), "the scorecard's level is 3, not 1 or 2."),
        (
            "account-missing",
            broken(lambda d: d["controls"][0]["accounts"].clear()),
            "control 1.1 does not have a verdict for every account.",
        ),
        ("list-not-dict", broken(lambda d: d.update(controls=[1])), "the scorecard's structure is not the one"),
    ],
)
def test_a_bad_scorecard_file_is_one_sentence(case, body, message):
    with pytest.raises(ScorecardFileError) as refused:
        from_json(body)
    said = str(refused.value)
    assert said.startswith(message) and said.endswith(".") and "\n" not in said and "Traceback" not in said


def test_csv_is_one_row_per_evaluated_resource_and_control(one):
    rows = list(csv.reader(io.StringIO(to_csv(one))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(one.rows)
    failing = [r for r in rows[1:] if r[6] == "NON_COMPLIANT"]
    assert failing and all(r[7].endswith(".") for r in failing)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[8]) for r in rows[1:])


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


CONSOLES = ("https://console.aws.amazon.com/", "https://docs.aws.amazon.com/")


def test_html_fetches_nothing_and_links_only_to_aws(twelve):
    page = to_html(twelve)
    parser = Tags()
    parser.feed(page)
    assert not [t for t, a in parser.tags if t in ("link", "img", "iframe", "object", "embed") or "src" in a]
    assert "url(" not in page and "@import" not in page
    hrefs = [a["href"] or "" for t, a in parser.tags if t == "a"]
    assert hrefs and all(h.startswith("#") or h.startswith(CONSOLES) for h in hrefs)
    ids = {a["id"] for _, a in parser.tags if a.get("id")}
    assert all(h[1:] in ids for h in hrefs if h.startswith("#")), "every link inside the page has its target"


def test_html_escapes_what_aws_config_reported(twelve):
    row = replace(twelve.rows[0], annotation='Policy <script>alert("x")</script> & co.', resource_id="a<b")
    page = to_html(replace(twelve, rows=(row, *twelve.rows[1:])))
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co." in page
    assert "a&lt;b" in page and "a%3Cb" in page


def test_html_every_table_has_a_caption_and_every_cell_a_verdict_in_words(twelve):
    page = to_html(twelve)
    assert page.count("<table") == page.count("<caption>") > 49
    matrix = page[page.index('<table id="matrix"') : page.index("</table>", page.index('<table id="matrix"'))]
    cells = re.findall(r'<td class="v-[a-z]+" data-account="\d{12}">([^<]*)</td>', matrix)
    assert len(cells) == 12 * 49 and all(cell.strip() for cell in cells)
    assert " title=" not in page, "no reason hides in a tooltip"


def test_html_drill_down_holds_passing_evidence_and_links(twelve):
    page = to_html(twelve)
    passing = [r for r in twelve.rows if r.compliance == "COMPLIANT" and r.annotation]
    text = html.unescape(page)
    assert passing and all(f"PASS: {r.annotation}" in text for r in passing)
    assert page.count('<details class="control') == 49
    assert "runbook CisPack-SetPasswordPolicy (Systems Manager console)" in page
    assert "https://docs.aws.amazon.com/config/latest/developerguide/iam-password-policy.html" in page
    for result in twelve.controls:
        assert f"failing in {twelve.failing_accounts(result)} of 12 accounts" in page


@pytest.mark.parametrize(
    ("region", "resource_type", "resource_id", "url"),
    [
        ("us-east-1", "AWS::S3::Bucket", "logs", "https://console.aws.amazon.com/s3/buckets/logs?region=us-east-1"),
        (
            "cn-north-1",
            "AWS::EC2::SecurityGroup",
            "sg-1",
            "https://console.amazonaws.cn/ec2/home?region=cn-north-1#SecurityGroup:groupId=sg-1",
        ),
        (
            "us-gov-west-1",
            "AWS::IAM::User",
            "AIDAX",
            "https://console.amazonaws-us-gov.com/config/home?region=us-gov-west-1#/resources/details"
            "?resourceType=AWS%3A%3AIAM%3A%3AUser&resourceId=AIDAX",
        ),
        (
            "eu-west-1",
            "AWS::::Account",
            "123456789012",
            "https://console.aws.amazon.com/config/home?region=eu-west-1#/rules/details?configRuleName=RULE",
        ),
    ],
)
def test_console_links_follow_the_partition(region, resource_type, resource_id, url):
    assert resource_url(region, resource_type, resource_id, "RULE") == url
    assert rule_url(region, "RULE").startswith(url.split("/")[0] + "//" + url.split("/")[2] + "/config/home")
    assert partition(region) in ("aws", "aws-cn", "aws-us-gov")


def test_render_refuses_an_unknown_format(one):
    with pytest.raises(ValueError, match="format must be one of"):
        render(one, "pdf")


# The command, offline.


def test_sample_and_from_render_offline(tmp_path, capsys):
    written = tmp_path / "scorecard.json"
    assert main(["report", "--sample", "12", "--format", "json", "--out", str(written)]) == 0
    capsys.readouterr()
    for fmt in ("text", "csv", "html"):
        assert main(["report", "--from", str(written), "--format", fmt]) == 0
        assert capsys.readouterr().out == render(scorecard(sample(12)), fmt)
    assert main(["report", "--from", str(written), "--level", "1"]) == 0
    assert capsys.readouterr().out == text(scorecard(sample(12), 1))


@pytest.mark.parametrize(
    ("case", "argv", "said"),
    [
        ("missing-file", ["--from", "nowhere.json"], "report: cannot read nowhere.json: No such file or directory.\n"),
        (
            "pdf-to-stdout",
            ["--sample", "12", "--format", "pdf"],
            "report: --format pdf writes a file: pass --out FILE.\n",
        ),
        (
            "pdf-without-chromium",
            ["--sample", "12", "--format", "pdf", "--out", "x.pdf"],
            "report: PDF needs Chromium or Google Chrome, and none is installed (Debian: apt-get install chromium; "
            "or set CHROMIUM to its path).\n",
        ),
        (
            "pack-without-chromium",
            ["--sample", "12", "--evidence-pack", "pack"],
            "report: PDF needs Chromium or Google Chrome, and none is installed (Debian: apt-get install chromium; "
            "or set CHROMIUM to its path).\n",
        ),
    ],
)
def test_command_refusals_are_one_sentence(case, argv, said, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHROMIUM", "no-such-browser")
    assert main(["report", *argv]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", said)
    assert not (tmp_path / "pack").exists() and not (tmp_path / "x.pdf").exists()


def test_level_2_of_a_level_1_file_is_refused(tmp_path, capsys):
    written = tmp_path / "level1.json"
    written.write_text(to_json(scorecard(sample(1), 1)))
    assert main(["report", "--from", str(written), "--level", "2"]) == 2
    assert capsys.readouterr().err == f"report: {written} holds Level 1 controls only: it cannot show Level 2.\n"


def test_sample_time_is_fixed():
    assert scorecard(sample(12)).read_at == SAMPLE_TIME
    assert isinstance(scorecard(sample(12)).rows[0], Row)

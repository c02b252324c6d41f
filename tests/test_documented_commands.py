"""Every ``./pack`` command the README, the contributing guide and docs/ show is one the command
line accepts: a command in a code block parses as written (its inputs checked as ``./pack`` checks
them), a command quoted in the text names a command and flags that exist, and the cheap ones run."""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from cispack import ROOT
from cispack.cli.main import build_parser, main

DOCUMENTS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
# What the documents write for a value the reader supplies.
PLACEHOLDERS = {"$PREFIX": "cis-pack-code-111111111111"}
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
# A command is complete unless it elides (…, ...) or shows syntax ([--check], <NAME>, RULE...).
ELIDED = re.compile(r"\.\.\.|…|[\[<]")
# Commands that run in well under a second and need no AWS.
CHEAP = ("cost",)
# Commands the `./pack` script runs itself, before Python (its options go to uv).
SCRIPT_COMMANDS = ("lock",)


def _blocks(text: str) -> list[str]:
    """Each ``./pack`` line of the fenced code blocks, continuation lines joined, comment cut."""
    found = []
    for block in FENCE.findall(text):
        for raw in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"^\$ ", "", raw.strip())
            if line.startswith("./pack "):
                found.extend(part.strip() for part in re.split(r"&&", line.split(" #")[0]))
    return found


def _quoted(text: str) -> list[str]:
    """Each ``./pack`` command quoted inline in the text (an inline quote may wrap lines)."""
    prose = FENCE.sub("", text)
    return [" ".join(span.split()) for span in re.findall(r"`(\./pack [^`]+)`", prose)]


def _commands() -> list[tuple[str, str, bool]]:
    """(document, command, whether it is a complete command of a code block)."""
    commands = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        commands += [(name, command, not ELIDED.search(command)) for command in _blocks(text)]
        commands += [(name, command, False) for command in _quoted(text)]
    return sorted(set(commands))


COMMANDS = _commands()


def _argv(command: str) -> list[str]:
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    return shlex.split(command)[1:]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_documents_show_commands() -> None:
    complete = [command for _, command, whole in COMMANDS if whole]
    assert len(complete) >= 15
    assert any(command.startswith("./pack rollout --dry-run") for command in complete)
    assert any(command.startswith("./pack cost") for command in complete)


@pytest.mark.parametrize(("document", "command", "complete"), COMMANDS, ids=[f"{d}: {c}"[:90] for d, c, _ in COMMANDS])
def test_a_documented_command_is_accepted(document: str, command: str, complete: bool) -> None:
    parser = build_parser()
    argv = _argv(command)
    if argv and argv[0] in SCRIPT_COMMANDS:
        assert f'if [ "${{1:-}}" = {argv[0]} ]' in (ROOT / "pack").read_text(encoding="utf-8"), command
        return
    if complete:
        parser.parse_args(argv)  # a refused input exits with code 2 and fails the test
        return
    subcommands = _subparsers(parser)
    words = [word for word in argv if not ELIDED.search(word)]
    if not words or words[0].startswith("-"):
        assert all(word in parser._option_string_actions for word in words if word.startswith("-")), command
        return
    assert words[0] in subcommands, f"{document}: {command}: no command {words[0]}"
    options = subcommands[words[0]]._option_string_actions
    for word in words[1:]:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{document}: {command}: {words[0]} has no {word}"


@pytest.mark.parametrize(
    "command",
    sorted({c for _, c, whole in COMMANDS if whole and c.split()[1] in CHEAP}),
)
def test_a_cheap_documented_command_runs(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_argv(command))
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Total at" in printed.out


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for name in _subparsers(build_parser()):
        assert name in listed


def test_the_readme_guide_goes_from_prerequisites_to_the_aggregator_scorecard() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = text[text.index("## Your organisation in 30 minutes") :]
    guide = guide[: guide.index("\n## ", 1)]
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", guide)
    assert links[0] == "docs/rollout.md" and "prerequisites" in guide.split("\n")[3].lower()
    assert {"docs/rollout.md", "docs/remediation.md", "docs/scorecard.md"} <= set(links)
    assert all((ROOT / link).exists() for link in links)
    assert guide.rstrip().endswith("--format html --out scorecard.html`.")
    assert "--aggregator cis-aws-foundations-organization" in " ".join(guide.split())

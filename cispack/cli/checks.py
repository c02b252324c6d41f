"""What every command checks before it acts, and how it says what is wrong.

Each check is an argparse ``type`` (or a helper a command calls after parsing): it raises
:class:`argparse.ArgumentTypeError` (or :class:`CliError`) with a message that names the input and
what to give instead. :class:`Parser` turns argparse's own errors into one sentence
``./pack <command>: <what is wrong>: <what to do>.`` on one line, without the usage block.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NoReturn

#: AWS Organizations' own patterns (CreateStackInstances' DeploymentTargets, ListChildren...).
OU_PATTERN = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
ROOT_PATTERN = re.compile(r"r-[0-9a-z]{4,32}")


class CliError(Exception):
    """Input a command refuses; the message is one sentence naming the input and what to do
    (``main`` prefixes the command)."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one sentence on one line (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        # "argument --accounts: -5 is not..." -> "--accounts -5 is not..."
        message = re.sub(r"^argument ([^:]+): ", r"\1 ", message)
        message = re.sub(
            r"invalid choice: '?([^']*)'? \(choose from (.*)\)",
            lambda m: f"{m.group(1)} is not one of {m.group(2).replace(chr(39), '')}: give one of them",
            message,
        ).rstrip(".")
        hint = f"; {self.prog} --help lists them" if message.startswith("the following arguments") else ""
        self.exit(2, f"{self.prog}: {message}{hint}.\n")


def say_error(command: str, message: str) -> None:
    print(f"{command}: {message.rstrip('.')}.", file=sys.stderr)


# -- numbers -------------------------------------------------------------------------------------
def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number: give {what}") from None


def count(text: str) -> int:
    """A count of at least 1 (accounts, regions, concurrent deployments...)."""
    value = _integer(text, "a whole number of 1 or more")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a count: give a whole number of 1 or more")
    return value


def quantity(text: str) -> int:
    """A number of things that may be none (buckets, route tables, tolerated failures)."""
    value = _integer(text, "a whole number of 0 or more")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: give a whole number of 0 or more")
    return value


def rate(text: str) -> float:
    """A non-negative rate (changes a month)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a number: give a number of 0 or more") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of 0 or more: give one such as 5")
    return value


def percentage(text: str) -> int:
    """A percentage of 1 to 100 (how many deployments at once)."""
    value = _integer(text, "a whole number from 1 to 100")
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 1 to 100: give one such as 25")
    return value


def tolerance(text: str) -> int:
    """A percentage of 0 to 100 (failures tolerated; 0 stops at the first)."""
    value = _integer(text, "a whole number from 0 to 100")
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 0 to 100: give one such as 10")
    return value


# -- AWS names -----------------------------------------------------------------------------------
@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's bundled partition data."""
    import botocore.session

    partitions = botocore.session.get_session().get_data("partitions")["partitions"]
    return frozenset(name for partition in partitions for name in partition["regions"] if not name.endswith("-global"))


def region(text: str) -> str:
    """One region name that botocore's partition data knows."""
    name = text.strip()
    if name in known_regions():
        return name
    import botocore
    import botocore.session

    close = sorted(r for r in known_regions() if r.replace("-", "") == name.replace("-", "").lower())
    hint = f"give {close[0]} if that is the one meant" if close else "give a name such as us-east-1 or eu-west-1"
    partitions = botocore.session.get_session().get_data("partitions")["partitions"]
    if not close and any(re.fullmatch(p["regionRegex"].strip("^$"), name) for p in partitions):
        hint += " (or, for a region newer than this botocore, upgrade boto3)"
    raise argparse.ArgumentTypeError(
        f"{text or '(empty)'} is not a region botocore {botocore.__version__} knows: {hint}"
    )


def regions(text: str) -> list[str]:
    """Comma-separated region names, at least one, each known, none twice."""
    names = [r.strip() for r in text.split(",") if r.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no region: give e.g. us-east-1,eu-west-1")
    checked = [region(name) for name in names]
    twice = sorted({name for name in checked if checked.count(name) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"{text} names {', '.join(twice)} twice: give each region once")
    return checked


def benchmark(text: str) -> str:
    """One CIS version the pack checks (``./pack report --benchmark``): cis-1.2.0, cis-1.4.0, ..."""
    from cispack.catalog.versions import VERSIONS

    if text not in VERSIONS:
        raise argparse.ArgumentTypeError(f"{text} is not one of {', '.join(VERSIONS)}: give one of them")
    return text


def benchmarks(text: str) -> tuple[str, ...]:
    """Comma-separated CIS versions (``./pack rollout --benchmark``), at least one, each known, none twice."""
    from cispack.catalog.versions import VERSIONS

    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            f"{text!r} names no CIS version: give one or more of {', '.join(VERSIONS)}, separated by commas"
        )
    unknown = [name for name in names if name not in VERSIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"{unknown[0]} is not one of {', '.join(VERSIONS)}: give one or more of them, separated by commas"
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"{text} names {', '.join(twice)} twice: give each version once")
    return tuple(names)


def organizational_unit(text: str) -> str:
    """An OU ID (ou-xxxx-xxxxxxxx) or the organisation's root (r-xxxx)."""
    if OU_PATTERN.fullmatch(text) or ROOT_PATTERN.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text} is not an OU ID: give one such as ou-abcd-11111111 (or the root, r-abcd); "
        "aws organizations list-organizational-units-for-parent lists them"
    )


def bucket_prefix(text: str) -> str:
    """The code buckets' prefix, as templates/code-bucket.yaml and the member template accept it."""
    if re.fullmatch(r"[a-z0-9][a-z0-9-]{1,40}[a-z0-9]", text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text} is not a code-bucket prefix: give 3 to 42 lower-case letters, digits or hyphens, "
        "e.g. cis-pack-code-111111111111"
    )


def writable_folder(text: str) -> Path:
    """A folder that exists or can be created (it is created here), and can be written to."""
    import os

    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file: name a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as refused:
        reason = refused.strerror or type(refused).__name__
        raise argparse.ArgumentTypeError(
            f"{text} cannot be created ({reason.lower()}): name a folder you can write to"
        ) from None
    if not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text} is not writable: name a folder you can write to")
    return path


def argparse_error(check: Callable[[str], object], text: str) -> str:
    """The message ``check`` gives for ``text`` (for a command that checks after parsing)."""
    try:
        check(text)
    except argparse.ArgumentTypeError as bad:
        return str(bad)
    return f"{text} is accepted"


def refuse_together(args: argparse.Namespace, *pairs: tuple[str, str]) -> None:
    """Refuse two flags given together (their ``dest`` names); the message names both."""
    for first, second in pairs:
        if getattr(args, first, None) not in (None, False) and getattr(args, second, None) not in (None, False):
            one, other = (f"--{name.replace('_', '-')}" for name in (first, second))
            raise CliError(f"{one} and {other} cannot be used together: give one of them")

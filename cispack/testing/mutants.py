"""Mutation testing of the rules' code: ``./pack mutants [MODULE...]``.

Each module of :data:`PLAN` (``tests/mutants.toml``) is mutated by mutmut, one small change at a
time (``all`` to ``any``, ``>=`` to ``>``, a string or a number altered, a statement dropped), and
each change runs against that module's own tests; a change no test notices is a *survivor*: a bug
the suite would let through. Some survivors change nothing a caller can observe (an *equivalent*
mutant); the same file lists them, each with the reason, and the score leaves them out:
``score = killed / (mutants - equivalent)``. A mutant mutmut did not run (an interrupted pass)
counts as not killed, has a column of its own in the table, and fails the command.

**Layout.** mutmut names a mutated function after its file's path (``rulelib/cis_x.py`` would be
``rulelib.cis_x``) and only counts a test's call when the running module carries that name, while
the rules and their tests import ``cis_x`` (``rulelib/`` is on ``sys.path``; each rule folder holds
a symlink to it). So every module runs in a workspace of its own, ``build/mutants/<MODULE>/``:
the module under ``src/`` (a prefix mutmut drops from the name), a copy of ``rulelib/`` and
``rules/`` without it (the symlinks to it removed, so every import of it finds the mutated copy),
``tests/``, and a ``setup.cfg`` whose pytest ``pythonpath`` puts ``src`` first. Nothing in the
repository itself is modified. mutmut runs there with one worker (``--max-children 1``).
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cispack import ROOT, RULELIB_DIR, RULES_DIR

PLAN = ROOT / "tests" / "mutants.toml"
WORK = ROOT / "build" / "mutants"
# mutmut's outcomes (``mutmut results --all true``) that count as a caught mutant.
KILLED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
NOT_RUN = frozenset({"not checked", "skipped", "check was interrupted by user"})
# How many times its tests' usual time (plus a second) a mutant may run before it counts as caught
# by timeout (mutmut's own default is 15).
TIMEOUT_MULTIPLIER = 4


@dataclass(frozen=True)
class Module:
    """A module to mutate and the tests (pytest arguments) that are its own."""

    name: str
    tests: tuple[str, ...]

    @property
    def source(self) -> Path:
        if (RULELIB_DIR / f"{self.name}.py").exists():
            return RULELIB_DIR / f"{self.name}.py"
        return RULES_DIR / self.name / f"{self.name}.py"


@dataclass(frozen=True)
class Equivalent:
    """A mutant that changes nothing observable: in ``function`` of ``module``, the lines
    ``before`` (stripped, joined by newlines) become ``after``."""

    module: str
    function: str
    before: str
    after: str
    why: str

    def matches(self, module: str, function: str, before: str, after: str) -> bool:
        return (self.module, self.function, self.before, self.after) == (module, function, before, after)


@dataclass
class Score:
    module: str
    mutants: int = 0
    killed: int = 0
    equivalent: int = 0
    not_run: int = 0
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant name, diff)

    @property
    def score(self) -> float:
        """killed / (mutants - equivalent). A mutant mutmut did not run counts as not killed: an
        interrupted pass never scores higher than a complete one (and :func:`main` fails it)."""
        judged = self.mutants - self.equivalent
        return 100.0 * self.killed / judged if judged else 100.0


def load_plan(path: Path = PLAN) -> tuple[dict[str, Module], list[Equivalent]]:
    """The modules (in the file's order) and the documented equivalent mutants."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    modules = {name: Module(name, tuple(spec["tests"])) for name, spec in data.get("modules", {}).items()}
    equivalents = [
        Equivalent(e["module"], e["function"], e["before"].strip(), e["after"].strip(), e["why"])
        for e in data.get("equivalent", [])
    ]
    for e in equivalents:
        if e.module not in modules:
            raise ValueError(
                f"{path.name}: an equivalent mutant names {e.module!r}, which is not a module of the plan."
            )
    return modules, equivalents


# --- Inside a mutant's test process ----------------------------------------------------------


def under_mutation() -> bool:
    """Whether this process runs tests for mutmut (it names the active mutant in the environment)."""
    return "MUTANT_UNDER_TEST" in os.environ


# --- The workspace ------------------------------------------------------------------------


def _pytest_section() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    return dict(parser["tool:pytest"])


def stage(module: Module, work: Path) -> None:
    """Lay out ``work`` for ``module`` (see the module docstring)."""
    if work.exists():
        shutil.rmtree(work)
    (work / "src").mkdir(parents=True)
    shutil.copy2(module.source, work / "src" / f"{module.name}.py")
    _stage_tests(module, work)


def _stage_tests(module: Module, work: Path) -> None:
    """Everything but the mutated module: ``rulelib/``, ``rules/``, ``tests/`` and the configuration."""
    for old in ("rulelib", "rules", "tests"):
        if (work / old).exists():
            shutil.rmtree(work / old)
    target = f"{module.name}.py"
    skip = shutil.ignore_patterns(target, "__pycache__", "*.pyc", "*_test.py.orig")
    shutil.copytree(RULELIB_DIR, work / "rulelib", ignore=skip)
    # symlinks=True keeps rules/<R>/cis_x.py -> ../../rulelib/cis_x.py pointing inside the workspace.
    shutil.copytree(RULES_DIR, work / "rules", symlinks=True, ignore=skip)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    pytest_options = _pytest_section()
    pytest_options["pythonpath"] = "src rulelib ."
    config = configparser.ConfigParser(interpolation=None)
    config["tool:pytest"] = pytest_options
    config["mutmut"] = {
        "source_paths": "src",
        "also_copy": "\nrulelib\nrules",
        "pytest_add_cli_args_test_selection": "\n" + "\n".join(module.tests),
        "use_git_change_detection": "false",
        # A mutant that loops runs until mutmut stops it: after (its tests' usual time + 1 s) times
        # this, not mutmut's 15, so a search stuck in a loop costs a minute, not five.
        "timeout_multiplier": str(TIMEOUT_MULTIPLIER),
    }
    with (work / "setup.cfg").open("w", encoding="utf-8") as handle:
        config.write(handle)


# --- Running mutmut and reading its answers --------------------------------------------------


def _mutmut(work: Path, *args: str, log: Path | None = None) -> str:
    # ``python -m mutmut``: the interpreter running the pack is the one whose packages the tests need.
    argv = [sys.executable, "-m", "mutmut", *args]
    if log is None:
        done = subprocess.run(argv, cwd=work, capture_output=True, text=True, check=False)
        output = done.stdout + done.stderr
    else:
        with log.open("w", encoding="utf-8") as handle:
            done = subprocess.run(argv, cwd=work, stdout=handle, stderr=subprocess.STDOUT, text=True, check=False)
        output = log.read_text(encoding="utf-8", errors="replace")
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise RuntimeError(f"mutmut {' '.join(args)} failed in {work} (exit {done.returncode}):\n{tail}")
    return output


# One process prints every survivor's diff (``mutmut show`` would start one per mutant).
_DIFFS_SCRIPT = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in json.load(sys.stdin)}))
"""


def _diffs(work: Path, names: Sequence[str]) -> dict[str, str]:
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _DIFFS_SCRIPT],
        cwd=work,
        input=json.dumps(list(names)),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reading the mutants' diffs failed in {work}:\n{done.stderr[-2000:]}")
    diffs: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return diffs


RESULT_LINE = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")


def parse_results(text: str) -> dict[str, str]:
    return {m["name"]: m["status"] for m in map(RESULT_LINE.match, text.splitlines()) if m}


def changed_lines(diff: str) -> tuple[str, str]:
    """The removed and the added lines of a mutant's unified diff, each stripped, newline-joined."""
    lines = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    removed = "\n".join(line[1:].strip() for line in lines if line.startswith("-"))
    added = "\n".join(line[1:].strip() for line in lines if line.startswith("+"))
    return removed, added


def function_of(mutant: str) -> str:
    """``cis_x.xǁClassǁmethod__mutmut_3`` -> ``Class.method``; ``cis_x.x_f__mutmut_1`` -> ``f``."""
    mangled = mutant.partition("__mutmut_")[0].rpartition(".")[2]
    if mangled.startswith("x_"):
        return mangled[2:]
    return ".".join(part for part in mangled.split("ǁ")[1:])


def score_module(
    module: Module, statuses: dict[str, str], diff_of: Callable[[str], str], equivalents: Iterable[Equivalent]
) -> Score:
    """Count the outcomes; a survivor whose change a documented equivalent describes is equivalent."""
    mine = [e for e in equivalents if e.module == module.name]
    score = Score(module.name, mutants=len(statuses))
    for name, status in sorted(statuses.items(), key=lambda item: _mutant_order(item[0])):
        if status in KILLED:
            score.killed += 1
        elif status in NOT_RUN:
            score.not_run += 1
        else:
            diff = diff_of(name)
            before, after = changed_lines(diff)
            if any(e.matches(module.name, function_of(name), before, after) for e in mine):
                score.equivalent += 1
            else:
                score.survivors.append((name, f"{status}\n{diff}"))
    return score


def _mutant_order(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number)


def unselectable(collected: str) -> list[str]:
    """The test ids of ``pytest --collect-only -q`` output that mutmut cannot select back: mutmut
    3.8 doubles a backslash when it asks pytest for one test, pytest finds none and exits 4, and
    every mutant only that test covers counts as killed although no test ran."""
    return [line for line in collected.splitlines() if "::" in line and "\\" in line]


def _refuse_unselectable(module: Module, work: Path) -> None:
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", *module.tests]
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"The tests of {module.name} do not collect (pytest exit {done.returncode}):\n{done.stdout}")
    bad = unselectable(done.stdout)
    if bad:
        raise RuntimeError(
            f"{len(bad)} test ids of {module.name} hold a backslash, which mutmut cannot select back (their"
            f" mutants would count as killed with no test run), the first: {bad[0]}; give those cases ids without one."
        )


def run_module(module: Module, equivalents: Sequence[Equivalent], work_root: Path = WORK) -> Score:
    work = work_root / module.name
    stage(module, work)
    _refuse_unselectable(module, work)
    print(f"{module.name}: mutating {module.source.relative_to(ROOT)} against {' '.join(module.tests)}", flush=True)
    _mutmut(work, "run", "--max-children", "1", log=work / "mutmut-run.log")
    return _score_workspace(module, work, equivalents)


def rerun_module(module: Module, equivalents: Sequence[Equivalent], work_root: Path = WORK) -> Score:
    """Run again, against the current tests, the mutants the module's last pass did not kill
    (survivors and equivalents, when the tests changed since; mutants not run; timeouts); its
    other kills stand. For the tests written after a
    pass: the module itself must be unchanged since, or every mutant would need running again."""
    work = work_root / module.name
    staged = work / "src" / f"{module.name}.py"
    if not (work / "mutants").is_dir() or not staged.is_file():
        raise RuntimeError(f"{module.name} has no earlier pass to resume; run `./pack mutants {module.name}` first.")
    if staged.read_bytes() != module.source.read_bytes():
        raise RuntimeError(
            f"{module.source.relative_to(ROOT)} changed since its last pass; "
            f"run a complete pass: `./pack mutants {module.name}`."
        )
    same_tests = _tests_digest(module, work) == _tests_digest(module, ROOT)
    _stage_tests(module, work)
    _refuse_unselectable(module, work)
    statuses = parse_results(_mutmut(work, "results", "--all", "true"))
    # A timeout is run again too: mutmut forgets it when the allowed time changes. A survivor is
    # run again only when the tests changed: the same tests would let it survive again.
    rerun = NOT_RUN | {"timeout"} if same_tests else NOT_RUN | {"timeout"} | (set(statuses.values()) - KILLED)
    again = sorted((name for name, status in statuses.items() if status in rerun), key=_mutant_order)
    print(f"{module.name}: running the {len(again)} mutants its last pass did not kill again", flush=True)
    if again:
        _mutmut(work, "run", "--max-children", "1", *again, log=work / "mutmut-again.log")
    return _score_workspace(module, work, equivalents)


def _tests_digest(module: Module, root: Path) -> str:
    """One hash of the module's planned test files under ``root`` and of ``tests/conftest.py``."""
    files: set[Path] = {root / "tests" / "conftest.py"}
    for argument in module.tests:
        named = root / argument.split("::")[0]
        if named.is_dir():
            files.update(found for found in named.rglob("*") if found.is_file())
        else:
            files.add(named)
    digest = hashlib.sha256()
    for path in sorted(f for f in files if "__pycache__" not in f.parts):
        content = path.read_bytes() if path.is_file() else b"(missing)"
        digest.update(str(path.relative_to(root)).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def _score_workspace(module: Module, work: Path, equivalents: Sequence[Equivalent]) -> Score:
    statuses = parse_results(_mutmut(work, "results", "--all", "true"))
    if not statuses:
        raise RuntimeError(f"mutmut made no mutant of {module.name} (see {work / 'mutmut-run.log'}).")
    diffs = _diffs(work, [name for name, status in statuses.items() if status not in KILLED | NOT_RUN])
    return score_module(module, statuses, diffs.__getitem__, equivalents)


def format_table(scores: Sequence[Score]) -> list[str]:
    lines = [
        "| Module | Mutants | Killed | Equivalent | Survived | Not run | Score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| `{s.module}` | {s.mutants} | {s.killed} | {s.equivalent} | {len(s.survivors)} | {s.not_run}"
            f" | {s.score:.1f} % |"
        )
    return lines


def main(names: Sequence[str], goal: float = 90.0, again: bool = False) -> int:
    modules, equivalents = load_plan()
    unknown = [name for name in names if name not in modules]
    if unknown:
        print(
            f"Unknown module {', '.join(unknown)}; the modules of {PLAN.relative_to(ROOT)} are: {', '.join(modules)}."
        )
        return 2
    scores = []
    for name in names or list(modules):
        try:
            score = (rerun_module if again else run_module)(modules[name], equivalents)
        except RuntimeError as err:  # mutmut failed (its clean run, its stats): its own words, then stop
            print(err)
            return 1
        scores.append(score)
        for mutant, text in score.survivors:
            print(f"\nsurvived: {mutant} ({text})")
        print(f"{name}: {score.killed} of {score.mutants - score.equivalent} killed ({score.score:.1f} %)", flush=True)
        if score.not_run:
            print(f"{name}: {score.not_run} of {score.mutants} mutants were not run; the pass is incomplete.")
    print()
    for line in format_table(scores):
        print(line)
    return 0 if passed(scores, goal) else 1


def passed(scores: Iterable[Score], goal: float = 90.0) -> bool:
    """Every module reached the goal, and mutmut ran every one of its mutants."""
    return all(s.score >= goal and not s.not_run for s in scores)

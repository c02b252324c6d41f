"""``./pack mutants``: the plan it reads (tests/mutants.toml) and how it scores mutmut's answers.
The mutation pass itself is not run here (it takes minutes per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cis_filter_pattern
import cis_pattern_coverage
import cis_regular
from cispack import ROOT
from cispack.testing import mutants as mutants_tool
from cispack.testing.caches import forget_remembered_answers
from cispack.testing.mutants import (
    Equivalent,
    Module,
    Score,
    changed_lines,
    format_table,
    function_of,
    load_plan,
    parse_results,
    passed,
    score_module,
)


def test_every_planned_module_and_test_exists():
    modules, equivalents = load_plan()
    assert modules, "the plan names no module"
    for module in modules.values():
        assert module.source.is_file(), module.name
        assert module.tests, f"{module.name} has no tests"
        for test in module.tests:
            assert (ROOT / test.split("::")[0]).exists(), f"{module.name}: {test}"
    for e in equivalents:
        assert e.why.strip() and e.before != e.after, e


def test_an_equivalent_of_an_unknown_module_is_refused(tmp_path: Path):
    plan = tmp_path / "mutants.toml"
    plan.write_text(
        '[modules.cis_a]\ntests = ["tests"]\n[[equivalent]]\nmodule = "cis_b"\nfunction = "f"\n'
        'before = "x"\nafter = "y"\nwhy = "z"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="names 'cis_b', which is not a module of the plan"):
        load_plan(plan)


RESULTS = """\
    cis_a.x_f__mutmut_1: killed
    cis_a.x_f__mutmut_2: survived
    cis_a.xǁJudgeǁ__call____mutmut_10: no tests
    cis_a.x_f__mutmut_3: timeout
    cis_a.x_g__mutmut_1: survived
    cis_a.x_g__mutmut_2: not checked
"""

DIFFS = {
    "cis_a.x_f__mutmut_2": (
        "--- src/cis_a.py\n+++ src/cis_a.py\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x >= 8\n+    return x > 8"
    ),
    "cis_a.x_g__mutmut_1": "--- a\n+++ a\n@@ -1 +1 @@\n-    a = 1\n+    a = 2",
    "cis_a.xǁJudgeǁ__call____mutmut_10": "--- a\n+++ a\n-    return []\n+    return None",
}


def test_mutmut_results_are_read_line_by_line():
    statuses = parse_results(RESULTS)
    assert statuses["cis_a.xǁJudgeǁ__call____mutmut_10"] == "no tests"
    assert len(statuses) == 6


@pytest.mark.parametrize(
    ("mutant", "function"),
    [
        ("cis_a.x_f__mutmut_2", "f"),
        ("cis_a.xǁJudgeǁ__call____mutmut_10", "Judge.__call__"),
        ("m.x__join__mutmut_1", "_join"),
    ],
)
def test_function_of_a_mutant(mutant, function):
    assert function_of(mutant) == function


def test_changed_lines_leave_out_the_headers_and_the_indentation():
    assert changed_lines(DIFFS["cis_a.x_f__mutmut_2"]) == ("return x >= 8", "return x > 8")


def test_score_leaves_out_documented_equivalents_but_not_unrun_mutants():
    equivalent = Equivalent("cis_a", "g", "a = 1", "a = 2", "a is never read")
    other_module = Equivalent("cis_b", "f", "return x >= 8", "return x > 8", "another module's")
    score = score_module(
        Module("cis_a", ("tests",)), parse_results(RESULTS), DIFFS.__getitem__, [equivalent, other_module]
    )
    assert (score.mutants, score.killed, score.equivalent, score.not_run) == (6, 2, 1, 1)
    assert [name for name, _ in score.survivors] == ["cis_a.x_f__mutmut_2", "cis_a.xǁJudgeǁ__call____mutmut_10"]
    # 2 killed of the 5 that are not equivalent: the mutant mutmut never ran is not left out.
    assert score.score == 40.0
    assert format_table([score])[0] == "| Module | Mutants | Killed | Equivalent | Survived | Not run | Score |"
    assert format_table([score])[-1] == "| `cis_a` | 6 | 2 | 1 | 2 | 1 | 40.0 % |"


@pytest.mark.parametrize(
    ("killed", "not_run", "passes"),
    [
        pytest.param(95, 0, True, id="complete pass over the goal"),
        pytest.param(89, 0, False, id="complete pass under the goal"),
        pytest.param(95, 1, False, id="one mutant not run fails even over the goal"),
    ],
)
def test_the_command_fails_an_incomplete_pass(killed: int, not_run: int, passes: bool):
    score = Score("cis_a", mutants=100, killed=killed, not_run=not_run)
    assert passed([score]) is passes


def test_an_interrupted_pass_prints_its_unrun_mutants_and_exits_1(monkeypatch, capsys):
    interrupted = Score("cis_a", mutants=10, killed=9, not_run=1)
    monkeypatch.setattr(mutants_tool, "load_plan", lambda: ({"cis_a": Module("cis_a", ("tests",))}, []))
    monkeypatch.setattr(mutants_tool, "run_module", lambda module, equivalents: interrupted)
    assert mutants_tool.main(["cis_a"]) == 1
    out = capsys.readouterr().out
    assert "cis_a: 1 of 10 mutants were not run; the pass is incomplete." in out
    assert out.rstrip().endswith("| `cis_a` | 10 | 9 | 0 | 0 | 1 | 90.0 % |")


def test_test_ids_mutmut_cannot_select_back_are_found():
    # pytest writes a non-ASCII or control character of a parameter as an escape: mutmut 3.8 would
    # then ask for an id pytest does not know, and count every mutant the test covers as killed.
    collected = "\n".join(
        [
            "tests/test_a.py::test_kept[plain ascii]",
            "tests/test_a.py::test_escaped[Bucket caf\\xe9 is public]",
            "tests/test_a.py::test_newline[Root  used\\n today.]",
            "",
            "3 tests collected in 0.01s",
        ]
    )
    assert mutants_tool.unselectable(collected) == [
        "tests/test_a.py::test_escaped[Bucket caf\\xe9 is public]",
        "tests/test_a.py::test_newline[Root  used\\n today.]",
    ]


def test_a_module_whose_tests_mutmut_cannot_select_back_is_refused_before_the_pass(tmp_path: Path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_names.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('name', ['plain', 'caf\\u00e9'])\n"
        "def test_name(name):\n"
        "    assert name\n",
        encoding="utf-8",
    )
    refused = r"^1 test ids of cis_a hold a backslash, .* the first: tests/test_names.py::test_name\[caf\\xe9\]"
    with pytest.raises(RuntimeError, match=refused):
        mutants_tool._refuse_unselectable(Module("cis_a", ("tests/test_names.py",)), tmp_path)


def test_every_planned_test_id_can_be_selected_back():
    modules, _ = load_plan()
    ids = [test for module in modules.values() for test in module.tests]
    assert not mutants_tool.unselectable("\n".join(i for i in ids if "::" in i))


def test_remembered_parses_and_decisions_are_forgotten_before_a_mutant_s_test():
    # A parse and a coverage decision remembered by the clean run would be handed to the mutant.
    cis_filter_pattern.parse('{ $.eventName = "ConsoleLogin" }')
    cis_pattern_coverage.covers((cis_filter_pattern.parse("{ $.a = 1 }"),), ("{ $.a = 1 }",))
    assert cis_filter_pattern._parse_cached.cache_info().currsize > 0
    assert cis_pattern_coverage._DECIDED
    emptied = forget_remembered_answers([cis_filter_pattern, cis_pattern_coverage])
    assert cis_filter_pattern._parse_cached.cache_info().currsize == 0
    assert cis_pattern_coverage._accepted.cache_info().currsize == 0
    assert not cis_pattern_coverage._DECIDED
    assert emptied >= 3


def test_every_loaded_rule_module_s_caches_are_forgotten_by_default():
    cis_regular.search("a+b")
    assert cis_regular.search.cache_info().currsize > 0
    forget_remembered_answers()
    assert cis_regular.search.cache_info().currsize == 0


def test_tests_run_by_mutmut_are_told_apart_from_a_normal_run(monkeypatch):
    monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
    assert not mutants_tool.under_mutation()
    monkeypatch.setenv("MUTANT_UNDER_TEST", "cis_rule.x_account_id__mutmut_1")
    assert mutants_tool.under_mutation()


def test_survivors_cannot_be_run_again_without_an_earlier_pass(tmp_path: Path):
    module = Module("cis_regions", ("tests/test_regions.py",))
    with pytest.raises(RuntimeError) as error:
        mutants_tool.rerun_module(module, [], work_root=tmp_path)
    assert str(error.value) == "cis_regions has no earlier pass to resume; run `./pack mutants cis_regions` first."


def test_survivors_are_not_run_again_once_the_module_itself_changed(tmp_path: Path):
    # The mutants of the last pass were made from other code: every one needs running again.
    module = Module("cis_regions", ("tests/test_regions.py",))
    (tmp_path / "cis_regions" / "mutants").mkdir(parents=True)
    (tmp_path / "cis_regions" / "src").mkdir()
    (tmp_path / "cis_regions" / "src" / "cis_regions.py").write_text("REGIONS = ()\n", encoding="utf-8")
    with pytest.raises(RuntimeError) as error:
        mutants_tool.rerun_module(module, [], work_root=tmp_path)
    assert str(error.value) == (
        "rulelib/cis_regions.py changed since its last pass; run a complete pass: `./pack mutants cis_regions`."
    )


def test_the_survivors_option_resumes_each_module_instead_of_a_new_pass(monkeypatch, capsys):
    resumed = Score("cis_a", mutants=10, killed=10)
    monkeypatch.setattr(mutants_tool, "load_plan", lambda: ({"cis_a": Module("cis_a", ("tests",))}, []))
    monkeypatch.setattr(mutants_tool, "run_module", lambda module, equivalents: pytest.fail("a new pass"))
    monkeypatch.setattr(mutants_tool, "rerun_module", lambda module, equivalents: resumed)
    assert mutants_tool.main(["cis_a"], again=True) == 0
    assert capsys.readouterr().out.rstrip().endswith("| `cis_a` | 10 | 10 | 0 | 0 | 0 | 100.0 % |")


def test_a_workspace_runs_the_module_s_own_tests_and_stops_a_looping_mutant_early(tmp_path: Path):
    import configparser

    module = Module("cis_regions", ("tests/test_regions.py", "rules/IAM_ROOT_ACCOUNT_UNUSED"))
    mutants_tool.stage(module, tmp_path / "cis_regions")
    work = tmp_path / "cis_regions"
    config = configparser.ConfigParser(interpolation=None)
    config.read(work / "setup.cfg", encoding="utf-8")
    assert config["mutmut"]["pytest_add_cli_args_test_selection"].split() == list(module.tests)
    assert float(config["mutmut"]["timeout_multiplier"]) == mutants_tool.TIMEOUT_MULTIPLIER < 15
    assert config["tool:pytest"]["pythonpath"].split()[0] == "src"
    assert (work / "src" / "cis_regions.py").is_file()
    assert not (work / "rulelib" / "cis_regions.py").exists()


@pytest.mark.parametrize(
    ("tests_changed", "run_again"),
    [
        (False, ["cis_regions.x_f__mutmut_3", "cis_regions.x_g__mutmut_2"]),
        (
            True,
            [
                "cis_regions.x_f__mutmut_2",
                "cis_regions.x_f__mutmut_3",
                "cis_regions.x_g__mutmut_1",
                "cis_regions.x_g__mutmut_2",
                "cis_regions.xǁJudgeǁ__call____mutmut_10",
            ],
        ),
    ],
    ids=["same_tests_only_what_was_not_run_and_timeouts", "new_tests_survivors_too"],
)
def test_survivors_are_run_again_only_when_the_tests_changed(tmp_path: Path, monkeypatch, tests_changed, run_again):
    module = Module("cis_regions", ("tests/test_mutants_plan.py",))
    mutants_tool.stage(module, tmp_path / "cis_regions")
    (tmp_path / "cis_regions" / "mutants").mkdir()
    if tests_changed:
        (tmp_path / "cis_regions" / "tests" / "test_mutants_plan.py").write_text("# older\n", encoding="utf-8")
    calls: list[tuple[str, ...]] = []

    def mutmut(work: Path, *args: str, log: Path | None = None) -> str:
        calls.append(args)
        return RESULTS.replace("cis_a", "cis_regions")

    monkeypatch.setattr(mutants_tool, "_mutmut", mutmut)
    monkeypatch.setattr(mutants_tool, "_refuse_unselectable", lambda module, work: None)
    monkeypatch.setattr(mutants_tool, "_diffs", lambda work, names: dict.fromkeys(names, ""))
    mutants_tool.rerun_module(module, [], work_root=tmp_path)
    [run] = [args for args in calls if args[0] == "run"]
    assert sorted(run[3:]) == sorted(run_again)

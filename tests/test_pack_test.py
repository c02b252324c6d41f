"""``./pack test`` runs the one-process checks side by side, one per core, with pytest beside them
from the start, prints each whole and in order with the seconds it took, and fails when any step
fails."""

from __future__ import annotations

import sys

from cispack.cli.main import Step, cores, run_steps

PY = sys.executable


def python(code: str) -> tuple[str, ...]:
    return (PY, "-c", code)


def test_steps_run_side_by_side_and_print_in_the_order_given(tmp_path, capfd):
    flag = tmp_path / "second-started"
    # The first step finishes only once the second has started: one after the other, it never would.
    first = python(
        "import pathlib, sys, time\n"
        f"flag = pathlib.Path({str(flag)!r})\n"
        "for _ in range(600):\n"
        "    if flag.exists(): print('first saw the second'); sys.exit(0)\n"
        "    time.sleep(0.05)\n"
        "sys.exit('the second step never ran beside the first')"
    )
    second = python(f"import pathlib; pathlib.Path({str(flag)!r}).touch(); print('second done')")
    outcomes = run_steps([Step("first", first), Step("second", second)], [], workers=2)
    assert [(o.step.title, o.passed) for o in outcomes] == [("first", True), ("second", True)]
    out = capfd.readouterr().out
    assert out.index("first saw the second") < out.index("=== second") < out.index("second done")
    assert "--- first: passed in " in out and "--- second: passed in " in out


def test_pytest_runs_beside_the_one_process_checks_from_the_start(tmp_path, capfd):
    flag = tmp_path / "tests-started"
    # The lint step finishes only once the test step has started: were the tests to wait for the
    # one-process checks, it never would.
    lint = python(
        "import pathlib, sys, time\n"
        f"flag = pathlib.Path({str(flag)!r})\n"
        "for _ in range(600):\n"
        "    if flag.exists(): print('lint saw the tests'); sys.exit(0)\n"
        "    time.sleep(0.05)\n"
        "sys.exit('the tests never ran beside the lint')"
    )
    tests = python(f"import pathlib; pathlib.Path({str(flag)!r}).touch(); print('3 passed')")
    outcomes = run_steps([Step("lint", lint)], [Step("tests", tests)], workers=1)
    assert [(o.step.title, o.passed) for o in outcomes] == [("lint", True), ("tests", True)]
    out = capfd.readouterr().out
    assert out.index("lint saw the tests") < out.index("=== tests") < out.index("3 passed")


def test_a_failing_step_is_reported_and_the_rest_still_run(capfd):
    outcomes = run_steps(
        [Step("lint", python("print('E501 line too long'); raise SystemExit(1)")), Step("types", python("pass"))],
        [Step("tests", python("print('3 passed')"))],
        workers=1,
    )
    assert [(o.step.title, o.passed) for o in outcomes] == [("lint", False), ("types", True), ("tests", True)]
    out = capfd.readouterr().out
    assert "E501 line too long" in out and "--- lint: FAILED in " in out
    assert "3 passed" in out and "--- tests: passed in " in out


def test_cores_counts_what_this_process_may_use():
    assert cores() >= 1

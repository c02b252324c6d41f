"""The catalogue pins the facts taken from the CIS v1.2.0 benchmark text: 49 recommendations,
their profile levels and whether they are scored. A change to any of them must be deliberate."""

from __future__ import annotations

from cispack.catalog.contract import BY_NAME, CONTRACT, PROCESS_CHECK_CONTROLS
from cispack.catalog.process_checks import PROCESS_CHECKS
from cispack.catalog.recommendations import BY_ID, CONTROLS

LEVEL_2 = {"1.14", "1.19", "2.2", "2.7", "2.8", "2.9", "3.6", "3.7", "3.9", "3.10", "3.11", "4.3", "4.4"}
NOT_SCORED = {"1.15", "1.17", "1.18", "1.19", "1.21", "4.4"}
PER_SECTION = {1: 22, 2: 9, 3: 14, 4: 4}


def test_49_recommendations_in_benchmark_order() -> None:
    assert len(CONTROLS) == len(BY_ID) == 49
    assert [c.sort_key for c in CONTROLS] == sorted(c.sort_key for c in CONTROLS)
    assert {s: sum(1 for c in CONTROLS if c.section == s) for s in PER_SECTION} == PER_SECTION


def test_levels_and_scoring_as_the_benchmark_states_them() -> None:
    assert {c.id for c in CONTROLS if c.level == 2} == LEVEL_2
    assert {c.id for c in CONTROLS if not c.scored} == NOT_SCORED
    assert BY_ID["1.1"].title == 'Avoid the use of the "root" account'
    assert BY_ID["4.4"].title == 'Ensure routing tables for VPC peering are "least access"'


def test_the_interface_covers_every_recommendation_once() -> None:
    covered = [control for entry in CONTRACT for control in entry.controls] + sorted(PROCESS_CHECK_CONTROLS)
    assert sorted(covered) == sorted(BY_ID)
    assert {check.control for check in PROCESS_CHECKS} == PROCESS_CHECK_CONTROLS
    assert BY_NAME["IAM_PASSWORD_POLICY"].controls == tuple(f"1.{n}" for n in range(5, 12))

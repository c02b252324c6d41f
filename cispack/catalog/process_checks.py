"""The two recommendations no API can decide (CIS 1.15 and 1.17): ``AWS_CONFIG_PROCESS_CHECK``
rules of the conformance pack, whose compliance a reviewer records."""

from __future__ import annotations

from dataclasses import dataclass

from cispack.catalog.recommendations import CONTROLS, Control


@dataclass(frozen=True)
class ProcessCheck:
    """A control no API can decide: an ``AWS_CONFIG_PROCESS_CHECK`` that a reviewer records."""

    name: str
    control: str
    description: str

    @property
    def controls(self) -> tuple[Control, ...]:
        return tuple(c for c in CONTROLS if c.id == self.control)


# Audit steps from the benchmark text, cut to AWS Config's 256-character description. The full
# procedure, with the put-external-evaluation command, is in docs/conformance-pack.md.
PROCESS_CHECKS: tuple[ProcessCheck, ...] = (
    ProcessCheck(
        "SECURITY_CHALLENGE_QUESTIONS_REGISTERED",
        "1.15",
        "CIS 1.15 manual check: signed in as root, open My Account and verify that Configure Security Challenge "
        "Questions holds three questions. Record it with Edit compliance on this rule or aws configservice "
        "put-external-evaluation.",
    ),
    ProcessCheck(
        "ACCOUNT_CONTACT_DETAILS_CURRENT",
        "1.17",
        "CIS 1.17 manual check: in Billing, My Account, verify that Account Settings and Contact Information are "
        "current and reach several people (mail alias, hunt group). Record it with Edit compliance on this rule or "
        "aws configservice put-external-evaluation.",
    ),
)

"""The 49 recommendations of the CIS Amazon Web Services Foundations Benchmark v1.2.0.

Titles, profile levels and scored status as the benchmark text states them (its section
headings and "Profile Applicability"); ``tests/test_catalog.py`` pins them. Level 2 includes Level 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    level: int
    scored: bool

    @property
    def section(self) -> int:
        return int(self.id.split(".")[0])

    @property
    def sort_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.id.split("."))


def _c(id_: str, level: int, scored: bool, title: str) -> Control:
    return Control(id_, title, level, scored)


CONTROLS: tuple[Control, ...] = (
    _c("1.1", 1, True, 'Avoid the use of the "root" account'),
    _c(
        "1.2",
        1,
        True,
        "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password",
    ),
    _c("1.3", 1, True, "Ensure credentials unused for 90 days or greater are disabled"),
    _c("1.4", 1, True, "Ensure access keys are rotated every 90 days or less"),
    _c("1.5", 1, True, "Ensure IAM password policy requires at least one uppercase letter"),
    _c("1.6", 1, True, "Ensure IAM password policy require at least one lowercase letter"),
    _c("1.7", 1, True, "Ensure IAM password policy require at least one symbol"),
    _c("1.8", 1, True, "Ensure IAM password policy require at least one number"),
    _c("1.9", 1, True, "Ensure IAM password policy requires minimum length of 14 or greater"),
    _c("1.10", 1, True, "Ensure IAM password policy prevents password reuse"),
    _c("1.11", 1, True, "Ensure IAM password policy expires passwords within 90 days or less"),
    _c("1.12", 1, True, "Ensure no root account access key exists"),
    _c("1.13", 1, True, 'Ensure MFA is enabled for the "root" account'),
    _c("1.14", 2, True, 'Ensure hardware MFA is enabled for the "root" account'),
    _c("1.15", 1, False, "Ensure security questions are registered in the AWS account"),
    _c("1.16", 1, True, "Ensure IAM policies are attached only to groups or roles"),
    _c("1.17", 1, False, "Maintain current contact details"),
    _c("1.18", 1, False, "Ensure security contact information is registered"),
    _c("1.19", 2, False, "Ensure IAM instance roles are used for AWS resource access from instances"),
    _c("1.20", 1, True, "Ensure a support role has been created to manage incidents with AWS Support"),
    _c(
        "1.21",
        1,
        False,
        "Do not setup access keys during initial user setup for all IAM users that have a console password",
    ),
    _c("1.22", 1, True, 'Ensure IAM policies that allow full "*:*" administrative privileges are not created'),
    _c("2.1", 1, True, "Ensure CloudTrail is enabled in all regions"),
    _c("2.2", 2, True, "Ensure CloudTrail log file validation is enabled"),
    _c("2.3", 1, True, "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible"),
    _c("2.4", 1, True, "Ensure CloudTrail trails are integrated with CloudWatch Logs"),
    _c("2.5", 1, True, "Ensure AWS Config is enabled in all regions"),
    _c("2.6", 1, True, "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"),
    _c("2.7", 2, True, "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"),
    _c("2.8", 2, True, "Ensure rotation for customer created CMKs is enabled"),
    _c("2.9", 2, True, "Ensure VPC flow logging is enabled in all VPCs"),
    _c("3.1", 1, True, "Ensure a log metric filter and alarm exist for unauthorized API calls"),
    _c("3.2", 1, True, "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA"),
    _c("3.3", 1, True, 'Ensure a log metric filter and alarm exist for usage of "root" account'),
    _c("3.4", 1, True, "Ensure a log metric filter and alarm exist for IAM policy changes"),
    _c("3.5", 1, True, "Ensure a log metric filter and alarm exist for CloudTrail configuration changes"),
    _c("3.6", 2, True, "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures"),
    _c(
        "3.7",
        2,
        True,
        "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs",
    ),
    _c("3.8", 1, True, "Ensure a log metric filter and alarm exist for S3 bucket policy changes"),
    _c("3.9", 2, True, "Ensure a log metric filter and alarm exist for AWS Config configuration changes"),
    _c("3.10", 2, True, "Ensure a log metric filter and alarm exist for security group changes"),
    _c(
        "3.11", 2, True, "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)"
    ),
    _c("3.12", 1, True, "Ensure a log metric filter and alarm exist for changes to network gateways"),
    _c("3.13", 1, True, "Ensure a log metric filter and alarm exist for route table changes"),
    _c("3.14", 1, True, "Ensure a log metric filter and alarm exist for VPC changes"),
    _c("4.1", 1, True, "Ensure no security groups allow ingress from 0.0.0.0/0 to port 22"),
    _c("4.2", 1, True, "Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389"),
    _c("4.3", 2, True, "Ensure the default security group of every VPC restricts all traffic"),
    _c("4.4", 2, False, 'Ensure routing tables for VPC peering are "least access"'),
)

BY_ID: dict[str, Control] = {control.id: control for control in CONTROLS}

"""Run one rule's handler the way AWS Lambda would, for the local demo (moto cannot execute
Lambda code): ``python -I -S -m``-free invocation with ``sys.path`` = the unpacked zip, then a
folder with only boto3 and rdklib, then the repository (for the local Config seam alone).

Usage: ``python lambda_runner.py <unpacked-zip> <lambda-site> <repo> <rule-name> <event.json>``;
prints the handler's return value as JSON on the last line.
"""

from __future__ import annotations

import importlib
import json
import os
import sys


def main() -> int:
    unpacked, site, repo, rule_name, event_file = sys.argv[1:6]
    sys.path[:0] = [unpacked, site, repo]
    with open(event_file) as handle:
        payload = json.load(handle)
    from cispack.local.config import ComplianceLedger, LocalEndpointAccountPrefix, MotoCredentialReport

    ComplianceLedger(current_rule=rule_name).install()
    MotoCredentialReport(root_row=payload.get("root_row")).install()
    if os.environ.get("AWS_ENDPOINT_URL"):
        LocalEndpointAccountPrefix(os.environ["AWS_ENDPOINT_URL"]).install()
    module = importlib.import_module(rule_name)
    if not str(getattr(module, "__file__", "")).startswith(unpacked):
        raise SystemExit(f"{rule_name} was not imported from its deployment package")
    from cis_rule import RuleFailed

    try:
        result = module.lambda_handler(payload["event"], None)
    except RuleFailed as failed:  # the invocation failed, as AWS Config would see it: report rdklib's error
        result = failed.response
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The CLI's one error boundary: the failures a user can mend (credentials, profiles, buckets,
endpoints, a rule file, a failed StackSet operation) as one sentence naming the input and what to
do. ``main`` prefixes the command; ``--debug`` lets the traceback through instead. Anything not
listed here is a defect of the pack and keeps its traceback."""

from __future__ import annotations

import argparse

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from cispack.catalog.rules import RuleFileError
from cispack.rollout.stackset import RolloutError

EXPLAINED = (BotoCoreError, ClientError, RuleFileError, RolloutError)

CREDENTIALS_HELP = "pass --profile NAME, set AWS_PROFILE, or run aws configure"
# Codes that mean "these credentials are not good here", whatever the operation.
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)


def _profile(args: argparse.Namespace) -> str:
    name = getattr(args, "profile", None)
    return f"profile {name}" if name else "the default credential chain (no --profile)"


def _client_error(error: ClientError, args: argparse.Namespace) -> str:
    detail = error.response.get("Error", {})
    code = str(detail.get("Code") or "an error")
    message = str(detail.get("Message") or "no message").rstrip(".")
    operation = error.operation_name
    if code == "NoSuchBucket":
        bucket = detail.get("BucketName") or "the code bucket"
        prefix = getattr(args, "bucket_prefix", None)
        given = f" (--bucket-prefix {prefix})" if prefix else ""
        return (
            f"the bucket {bucket}{given} does not exist: deploy templates/code-bucket.yaml in that region "
            "first (docs/rollout.md, step 1) or correct the prefix"
        )
    if code in CREDENTIAL_CODES:
        return f"AWS did not accept the credentials of {_profile(args)} ({code}: {message}): {CREDENTIALS_HELP}"
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return (
            f"AWS refused {operation} to {_profile(args)} ({message}): use credentials of the management or "
            "delegated-administrator account allowed to call it"
        )
    return f"AWS refused {operation}: {code} ({message}); check the inputs it names"


def explain(error: BaseException, args: argparse.Namespace) -> str:
    """One sentence (without the command) for an error of :data:`EXPLAINED`."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return f"no usable AWS credentials in {_profile(args)}: {CREDENTIALS_HELP}"
    if isinstance(error, ProfileNotFound):
        return (
            f"--profile {error.kwargs.get('profile')} is not a profile in ~/.aws/config or ~/.aws/credentials: "
            "aws configure list-profiles lists them"
        )
    if isinstance(error, CredentialRetrievalError):
        return (
            f"the credentials of {_profile(args)} could not be read ({error}): "
            f"log in again (aws sso login) or {CREDENTIALS_HELP}"
        )
    if isinstance(error, NoRegionError):
        return "no region: pass --regions (or --region) or set AWS_REGION"
    if isinstance(error, ConnectionError):
        return f"could not reach AWS ({error}): check the region names, the network and any AWS_ENDPOINT_URL"
    if isinstance(error, ClientError):
        return _client_error(error, args)
    if isinstance(error, RuleFileError | RolloutError):
        return str(error).rstrip(".")
    return f"{str(error).rstrip('.')}: check the inputs and credentials"

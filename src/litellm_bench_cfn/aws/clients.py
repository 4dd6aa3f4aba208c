"""boto3 clients from explicit arguments or the standard environment, and AWS errors as one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from ..exit_codes import EXIT_BAD_INPUT, EXIT_CHECK_FAILED


class AwsError(Exception):
    """One-line message for the user and the exit code the CLI returns."""

    def __init__(self, message: str, exit_code: int = EXIT_CHECK_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class AwsTarget:
    """Where calls go. None means: what boto3 finds in the environment (AWS_REGION, AWS_PROFILE,
    AWS_ENDPOINT_URL, ~/.aws/config)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    read_timeout_s: float = 60.0
    """Seconds one API call may wait for its answer."""

    def session(self) -> boto3.Session:
        try:
            return boto3.Session(profile_name=self.profile, region_name=self.region)
        except ProfileNotFound as exc:
            raise AwsError(f"{exc}; check --profile or AWS_PROFILE", EXIT_BAD_INPUT) from None

    def resolved_region(self) -> str:
        region = self.session().region_name
        if not region:
            raise AwsError("no AWS region: pass --region or set AWS_REGION", EXIT_BAD_INPUT)
        return str(region)

    def client(self, service: str) -> Any:
        config = Config(
            connect_timeout=10, read_timeout=self.read_timeout_s, retries={"max_attempts": 3, "mode": "standard"}
        )
        try:
            return self.session().client(service, endpoint_url=self.endpoint_url or None, config=config)
        except NoRegionError:
            raise AwsError("no AWS region: pass --region or set AWS_REGION", EXIT_BAD_INPUT) from None


def describe_error(exc: BaseException) -> AwsError:
    """Translate a botocore exception into the one line the CLI prints."""
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return AwsError(
            "no AWS credentials found: configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID)",
            EXIT_BAD_INPUT,
        )
    if isinstance(exc, ProfileNotFound):
        return AwsError(f"{exc}; check --profile or AWS_PROFILE", EXIT_BAD_INPUT)
    if isinstance(exc, NoRegionError):
        return AwsError("no AWS region: pass --region or set AWS_REGION", EXIT_BAD_INPUT)
    if isinstance(exc, EndpointConnectionError):
        return AwsError(f"cannot reach AWS: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", str(exc))
        if code in {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException"}:
            return AwsError(f"AWS rejected the credentials ({code}): {message}", EXIT_BAD_INPUT)
        return AwsError(f"{exc.operation_name} failed ({code}): {message}")
    if isinstance(exc, BotoCoreError):
        return AwsError(f"AWS call failed: {exc}")
    raise exc

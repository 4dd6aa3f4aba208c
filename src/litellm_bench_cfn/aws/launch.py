"""Console quick-create links: one click from a published template to a filled-in create page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

CONSOLE = "https://console.aws.amazon.com/cloudformation/home"
DEFAULT_STACK_NAME = "litellm-bench"

_S3_HOST = re.compile(
    r"^(?:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.)?s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$"
)


class LaunchUrlError(ValueError):
    pass


def check_s3_url(url: str) -> str:
    """The console only takes templates from S3 over HTTPS: https://BUCKET.s3.REGION.amazonaws.com/KEY."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not _S3_HOST.match(parts.hostname or "") or parts.path in ("", "/"):
        raise LaunchUrlError(
            f"{url!r} is not an S3 object URL; the console needs https://BUCKET.s3.REGION.amazonaws.com/KEY "
            "(publish the template first: litellm-bench-cfn publish --bucket BUCKET)"
        )
    return url


def object_url(bucket: str, key: str, region: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{quote(key)}"


def quick_create_url(
    template_url: str,
    region: str,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
) -> str:
    """`.../home?region=R#/stacks/create/review?templateURL=...&stackName=...&param_K=V`, values encoded."""
    check_s3_url(template_url)
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
        raise LaunchUrlError(f"{region!r} is not an AWS region name such as us-east-1")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack_name):
        raise LaunchUrlError(f"{stack_name!r} is not a valid stack name (letters, digits, '-'; starts with a letter)")
    query = [("templateURL", template_url), ("stackName", stack_name)]
    query += [(f"param_{k}", v) for k, v in sorted((parameters or {}).items())]
    fragment = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query)
    return f"{CONSOLE}?region={region}#/stacks/create/review?{fragment}"

"""Publish the rendered templates to S3 so the console (and `deploy.sh`) can launch them by URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .clients import AwsError
from .launch import DEFAULT_STACK_NAME, object_url, quick_create_url


@dataclass(frozen=True)
class Published:
    path: Path
    key: str
    url: str
    launch_url: str


def stack_name_for(template: Path) -> str:
    """cloudformation-ecs.yaml -> litellm-bench; cloudformation-ecs-small.yaml -> litellm-bench-small."""
    suffix = template.stem.removeprefix("cloudformation-ecs").strip("-")
    return f"{DEFAULT_STACK_NAME}-{suffix}" if suffix else DEFAULT_STACK_NAME


def publish_templates(s3: Any, bucket: str, region: str, templates_dir: Path, prefix: str = "") -> list[Published]:
    files = sorted(templates_dir.glob("*.yaml"))
    if not files:
        raise AwsError(f"{templates_dir}: no *.yaml templates to publish (run `litellm-bench-cfn render`)", 2)
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    published: list[Published] = []
    for path in files:
        key = f"{prefix}{path.name}"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType="application/x-yaml")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                raise AwsError(f"bucket {bucket!r} does not exist; create it: aws s3 mb s3://{bucket}") from None
            raise
        url = object_url(bucket, key, region)
        published.append(Published(path, key, url, quick_create_url(url, region, stack_name_for(path))))
    return published

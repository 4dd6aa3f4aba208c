"""The checkov checks this stack accepts failing, each with the reason, attached as resource Metadata.

One table so every skip has a written reason and the same reason reads the same everywhere;
`scripts/policy-check.sh` fails on any failing check that is not listed on its resource.
Reasons are short on purpose: they are rendered into the template, which must stay < 51,200 bytes.
"""

from __future__ import annotations

from typing import Any

REASONS: dict[str, str] = {
    "CKV_AWS_2": "Redirects to HTTPS when CertificateArn is set; HTTP is the benchmark default.",
    "CKV_AWS_103": "Redirects to HTTPS (TLS 1.2+) when CertificateArn is set.",
    "CKV_AWS_91": "Benchmark stack: access logs need an S3 bucket and cost per request.",
    "CKV_AWS_260": "Open only to the AllowedIngressCidr parameter; narrow it at launch.",
    "CKV_AWS_149": "Generated secret under the AWS-managed key; a CMK adds cost only.",
    "CKV_AWS_158": "No secrets are logged (LITELLM_LOG=ERROR); default encryption.",
    "CKV_AWS_157": "Multi-AZ is the spec option database.multi_az; off for the benchmark.",
    "CKV_AWS_118": "Performance Insights is on where supported; no extra monitoring role.",
    "CKV_AWS_26": "CloudWatch cannot publish to an SNS topic under the AWS-managed key.",
}


def skip(*check_ids: str) -> dict[str, Any]:
    """`Metadata` that makes checkov skip `check_ids`, with the reasons from REASONS."""
    return {"checkov": {"skip": [{"id": c, "comment": REASONS[c]} for c in sorted(check_ids)]}}

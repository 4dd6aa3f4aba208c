"""Optional features a console user switches on with a parameter: HTTPS and alarm e-mails.

Kept apart from parameters.py so that module stays the sizing surface; each option is a parameter
whose empty default means "off", plus the condition the resources it adds are created under.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Equals, Not, Parameter, Ref, Template

from ..spec import ACM_CERTIFICATE_ARN, EMAIL, BenchmarkSpec
from .parameters import add_console_parameter

HAS_CERTIFICATE = "HasCertificate"
HAS_ALARM_EMAIL = "HasAlarmEmail"

OPTIONS_GROUP = "HTTPS and alarms"


@dataclass(frozen=True)
class Options:
    certificate_arn: Parameter
    alarm_email: Parameter | None


def _optional(pattern: str) -> str:
    """`pattern` (anchored) or the empty string."""
    return f"^({pattern.strip('^$')})?$"


def add_options(template: Template, spec: BenchmarkSpec) -> Options:
    certificate = add_console_parameter(
        template,
        Parameter(
            "CertificateArn",
            Type="String",
            Default=spec.https.certificate_arn,
            AllowedPattern=_optional(ACM_CERTIFICATE_ARN),
            ConstraintDescription="empty, or an ACM certificate ARN in this region",
            Description="ACM certificate for an HTTPS listener on 443 (HTTP then redirects to HTTPS); "
            "empty = HTTP only.",
        ),
        OPTIONS_GROUP,
        "ACM certificate ARN (empty = HTTP only)",
    )
    template.add_condition(HAS_CERTIFICATE, Not(Equals(Ref(certificate), "")))
    email = None
    if spec.alarms.enabled:
        email = add_console_parameter(
            template,
            Parameter(
                "AlarmEmail",
                Type="String",
                Default=spec.alarms.email,
                AllowedPattern=_optional(EMAIL),
                ConstraintDescription="empty, or an e-mail address",
                Description="Address subscribed to the alarm topic (confirm the e-mail AWS sends); empty = none.",
            ),
            OPTIONS_GROUP,
            "E-mail for alarm notifications (empty = none)",
        )
        template.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(email), "")))
    return Options(certificate_arn=certificate, alarm_email=email)

"""Target-tracking autoscaling of the proxy service on average CPU (never on memory).

Only for profiles with `scaling.enabled` (dev, production). The benchmark holds a fixed fleet: target
tracking scales in after ~15 low one-minute datapoints, so an idle benchmark stack would shrink to
its minimum before a run and grow during it, and the result would not be "4 instances".
"""

from __future__ import annotations

from troposphere import GetAtt, Join, Ref, Template
from troposphere import applicationautoscaling as aas

from ..spec import ScalingSpec
from .compute import Compute
from .parameters import Parameters


def add_autoscaling(
    template: Template, spec: ScalingSpec, compute: Compute, params: Parameters
) -> aas.ScalingPolicy | None:
    if not spec.enabled or params.min_count is None or params.max_count is None:
        return None
    target = template.add_resource(
        aas.ScalableTarget(
            "ProxyScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join("/", ["service", Ref(compute.cluster), GetAtt(compute.service, "Name")]),
            MinCapacity=Ref(params.min_count),
            MaxCapacity=Ref(params.max_count),
        )
    )
    return template.add_resource(
        aas.ScalingPolicy(
            "ProxyCpuScalingPolicy",
            PolicyName="litellm-cpu-target-tracking",
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                TargetValue=spec.cpu_target_percent,
                ScaleInCooldown=spec.scale_in_cooldown_s,
                ScaleOutCooldown=spec.scale_out_cooldown_s,
                PredefinedMetricSpecification=aas.PredefinedMetricSpecification(
                    PredefinedMetricType="ECSServiceAverageCPUUtilization"
                ),
            ),
        )
    )

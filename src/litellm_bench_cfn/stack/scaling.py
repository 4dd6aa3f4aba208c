"""Target-tracking autoscaling of the proxy service on average CPU (never on memory).

Only for profiles with `scaling.enabled` (dev, production). The benchmark holds a fixed fleet: target
tracking scales in after ~15 low one-minute datapoints, so an idle benchmark stack would shrink to
its minimum before a run and grow during it, and the result would not be "4 instances".
"""

from __future__ import annotations

from troposphere import GetAtt, Join, Ref, Template
from troposphere import applicationautoscaling as aas

from ..spec import BenchmarkSpec, ScalingSpec
from .compute import Compute
from .load_balancer import LoadBalancer
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


REQUEST_SCALING_POLICY = "ProxyRequestCountScalingPolicy"


def add_request_count_scaling(
    template: Template, spec: BenchmarkSpec, balancer: LoadBalancer
) -> aas.ScalingPolicy | None:
    """A second target-tracking policy on ALB requests per task, beside CPU (high-throughput profile).

    Kubernetes' HPA target "83 requests/s per pod" becomes ALBRequestCountPerTarget, whose datapoint
    is the one-minute Sum of requests per target: 83/s is a target value of 4,980. With two policies
    Application Auto Scaling scales out on whichever asks for more tasks and in only when both agree,
    as the HPA takes the largest recommendation. The HPA's token-rate target (6.25 M tokens/s per pod)
    has no ALB or ECS metric and is left out; so is its memory target (LiteLLM's prod guide: never
    scale on memory)."""
    per_second = spec.high_throughput.requests_per_target_per_s
    if per_second is None:
        return None
    target = template.resources["ProxyScalableTarget"]
    return template.add_resource(
        aas.ScalingPolicy(
            REQUEST_SCALING_POLICY,
            PolicyName="litellm-requests-per-target-tracking",
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                TargetValue=round(per_second * 60),
                ScaleInCooldown=spec.scaling.scale_in_cooldown_s,
                ScaleOutCooldown=spec.scaling.scale_out_cooldown_s,
                PredefinedMetricSpecification=aas.PredefinedMetricSpecification(
                    PredefinedMetricType="ALBRequestCountPerTarget",
                    ResourceLabel=Join(
                        "/",
                        [
                            GetAtt(balancer.load_balancer, "LoadBalancerFullName"),
                            GetAtt(balancer.target_group, "TargetGroupFullName"),
                        ],
                    ),
                ),
            ),
        )
    )

"""Seed 003's alarms, their SNS topic and a CloudWatch dashboard of the benchmark's vital signs.

One definition table (`alarm_definitions`), one builder (`_alarm`): an alarm is a row, never a
copied block. Thresholds come from the spec (`alarms`); the dashboard body is compact JSON inside
one `Fn::Sub`, so the template stays under the 51,200-byte `--template-body` limit.

"Tasks stopping unexpectedly" is the Container Insights metric alarm RunningTaskCount < DesiredTaskCount
held for every evaluation period, not an EventBridge rule on "ECS Task State Change". Why: it is
an alarm like the others (one builder, visible on the dashboard and in the alarm list without a
subscriber); it needs no event pattern that tries to tell a crash from a scale-in or a deployment
by `stoppedReason` text; and Container Insights is already on for the cluster. What it does not
report is a single task that crashed and was replaced within the window: ECS healed that itself.
A crash loop, or tasks that cannot start (image, secret, migration failures), keep running below
desired and fire it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Sub, Template, cloudwatch, sns

from ..spec import BenchmarkSpec
from . import checkov
from .compute import Compute
from .database import Database
from .load_balancer import LoadBalancer
from .options import HAS_ALARM_EMAIL, Options

ALB, TG, DB, SVC = "alb", "tg", "db", "svc"
"""Dimension sets: the load balancer, its target group, the DB instance, the ECS service."""


@dataclass(frozen=True)
class Query:
    id: str
    namespace: str
    metric: str
    dimensions: str
    stat: str


@dataclass(frozen=True)
class AlarmDefinition:
    title: str
    description: str
    comparison: str
    threshold: float
    queries: tuple[Query, ...]
    expression: str | None = None
    """None: the single query is the alarm's metric; else metric math over the queries."""
    missing_data: str = "notBreaching"
    every_period: bool = False
    """Fire only when every evaluation period breaches (for conditions a deployment causes briefly)."""


def alarm_definitions(spec: BenchmarkSpec) -> tuple[AlarmDefinition, ...]:
    a = spec.alarms
    elb, rds, insights = "AWS/ApplicationELB", "AWS/RDS", "ECS/ContainerInsights"
    connections = a.db_connections_threshold(spec.database.max_connections)
    return (
        AlarmDefinition(
            "Http5xxRateAlarm",
            f"More than {a.http_5xx_percent:g}% of requests answered 5xx by the proxies.",
            "GreaterThanThreshold",
            a.http_5xx_percent,
            # The load balancer's own 502/503s (no healthy target) are HealthyHostsAlarm's.
            (Query("t", elb, "HTTPCode_Target_5XX_Count", ALB, "Sum"), Query("r", elb, "RequestCount", ALB, "Sum")),
            expression="100*FILL(t,0)/r",
        ),
        AlarmDefinition(
            "LatencyP95Alarm",
            f"p95 target response time above {a.p95_latency_ms} ms.",
            "GreaterThanThreshold",
            a.p95_latency_ms / 1000,
            (Query("m", elb, "TargetResponseTime", ALB, "p95"),),
        ),
        AlarmDefinition(
            "HealthyHostsAlarm",
            f"Fewer than {spec.min_healthy_hosts} healthy proxy tasks behind the load balancer.",
            "LessThanThreshold",
            spec.min_healthy_hosts,
            (Query("m", elb, "HealthyHostCount", TG, "Minimum"),),
            missing_data="breaching",
        ),
        AlarmDefinition(
            "DatabaseCpuAlarm",
            f"Database CPU above {a.db_cpu_percent:g}%.",
            "GreaterThanThreshold",
            a.db_cpu_percent,
            (Query("m", rds, "CPUUtilization", DB, "Average"),),
        ),
        AlarmDefinition(
            "DatabaseConnectionsAlarm",
            f"Database connections above {connections} ({a.db_connections_fraction:g} of max_connections "
            f"{spec.database.max_connections}).",
            "GreaterThanThreshold",
            connections,
            (Query("m", rds, "DatabaseConnections", DB, "Maximum"),),
        ),
        AlarmDefinition(
            "TasksBelowDesiredAlarm",
            "Proxy tasks running below the desired count in every period: tasks stop or cannot start.",
            "GreaterThanThreshold",
            0,
            (
                Query("d", insights, "DesiredTaskCount", SVC, "Average"),
                Query("r", insights, "RunningTaskCount", SVC, "Average"),
            ),
            expression="d-r",
            every_period=True,
        ),
    )


@dataclass(frozen=True)
class Monitoring:
    topic: sns.Topic
    alarms: tuple[cloudwatch.Alarm, ...]
    dashboard: cloudwatch.Dashboard


def _dimensions(balancer: LoadBalancer, database: Database, compute: Compute) -> dict[str, list[tuple[str, Any]]]:
    alb = ("LoadBalancer", GetAtt(balancer.load_balancer, "LoadBalancerFullName"))
    return {
        ALB: [alb],
        TG: [("TargetGroup", GetAtt(balancer.target_group, "TargetGroupFullName")), alb],
        DB: [("DBInstanceIdentifier", Ref(database.instance))],
        SVC: [("ClusterName", Ref(compute.cluster)), ("ServiceName", GetAtt(compute.service, "Name"))],
    }


def _alarm(
    definition: AlarmDefinition, spec: BenchmarkSpec, dims: dict[str, list[tuple[str, Any]]], topic: sns.Topic
) -> cloudwatch.Alarm:
    a = spec.alarms

    def dimensions(query: Query) -> list[cloudwatch.MetricDimension]:
        return [cloudwatch.MetricDimension(Name=n, Value=v) for n, v in dims[query.dimensions]]

    def statistic(stat: str) -> dict[str, str]:
        return {"ExtendedStatistic" if stat.startswith("p") else "Statistic": stat}

    if definition.expression is None:
        (query,) = definition.queries
        metric: dict[str, Any] = {
            "Namespace": query.namespace,
            "MetricName": query.metric,
            "Dimensions": dimensions(query),
            "Period": a.period_s,
            **statistic(query.stat),
        }
    else:
        metric = {
            "Metrics": [
                cloudwatch.MetricDataQuery(Id="e", Expression=definition.expression, ReturnData=True),
                *(
                    cloudwatch.MetricDataQuery(
                        Id=q.id,
                        ReturnData=False,
                        MetricStat=cloudwatch.MetricStat(
                            Metric=cloudwatch.Metric(
                                Namespace=q.namespace, MetricName=q.metric, Dimensions=dimensions(q)
                            ),
                            Period=a.period_s,
                            Stat=q.stat,
                        ),
                    )
                    for q in definition.queries
                ),
            ]
        }
    return cloudwatch.Alarm(
        definition.title,
        AlarmDescription=definition.description,
        ComparisonOperator=definition.comparison,
        Threshold=definition.threshold,
        EvaluationPeriods=a.evaluation_periods,
        DatapointsToAlarm=a.evaluation_periods if definition.every_period else a.datapoints_to_alarm,
        TreatMissingData=definition.missing_data,
        AlarmActions=[Ref(topic)],
        OKActions=[Ref(topic)],
        **metric,
    )


def dashboard_body(spec: BenchmarkSpec) -> str:
    """Compact dashboard JSON for `Fn::Sub` (${Alb}, ${Db}, ${Cluster}, ${Service}).

    Rows after the first use CloudWatch's shorthand: "." repeats the value above it, "..." all of them.
    """
    alb, db = ["LoadBalancer", "${Alb}"], ["DBInstanceIdentifier", "${Db}"]
    svc = ["ClusterName", "${Cluster}", "ServiceName", "${Service}"]

    def widget(title: str, *metrics: list[Any]) -> dict[str, Any]:
        properties = {"title": title, "region": "${AWS::Region}", "period": spec.alarms.period_s}
        return {"type": "metric", "width": 12, "properties": {**properties, "metrics": list(metrics)}}

    def same(metric: str, dimensions: list[str], *extra: Any) -> list[Any]:
        return [".", metric, *["."] * len(dimensions), *extra]

    widgets = [
        widget(
            "Requests per second",
            ["AWS/ApplicationELB", "RequestCount", *alb, {"id": "r", "stat": "Sum", "visible": False}],
            same("HTTPCode_Target_5XX_Count", alb, {"id": "e", "stat": "Sum", "visible": False}),
            [{"expression": "r/PERIOD(r)", "label": "RPS"}],
            [{"expression": "FILL(e,0)/PERIOD(r)", "label": "5xx/s"}],
        ),
        widget(
            "Target response time (s)",
            ["AWS/ApplicationELB", "TargetResponseTime", *alb, {"stat": "p50"}],
            ["...", {"stat": "p95"}],
            ["...", {"stat": "p99"}],
        ),
        widget("ECS CPU and memory (%)", ["AWS/ECS", "CPUUtilization", *svc], same("MemoryUtilization", svc)),
        widget("ECS tasks", ["ECS/ContainerInsights", "RunningTaskCount", *svc], same("DesiredTaskCount", svc)),
        widget(
            "RDS CPU (%) and connections",
            ["AWS/RDS", "CPUUtilization", *db],
            same("DatabaseConnections", db, {"yAxis": "right"}),
        ),
        widget("RDS IOPS", ["AWS/RDS", "ReadIOPS", *db], same("WriteIOPS", db)),
    ]
    return json.dumps({"widgets": widgets}, separators=(",", ":"), sort_keys=True)


def add_monitoring(
    template: Template,
    spec: BenchmarkSpec,
    options: Options,
    balancer: LoadBalancer,
    database: Database,
    compute: Compute,
) -> Monitoring | None:
    if not spec.alarms.enabled or options.alarm_email is None:
        return None
    # Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and
    # alarm notifications carry no secret (see the checkov skip on the resource).
    topic = template.add_resource(
        sns.Topic(
            "AlarmTopic",
            DisplayName=Sub("${AWS::StackName} LiteLLM alarms"),
            Metadata=checkov.skip("CKV_AWS_26"),
        )
    )
    template.add_resource(
        sns.SubscriptionResource(
            "AlarmEmailSubscription",
            Condition=HAS_ALARM_EMAIL,
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(options.alarm_email),
        )
    )
    dims = _dimensions(balancer, database, compute)
    alarms = tuple(template.add_resource(_alarm(d, spec, dims, topic)) for d in alarm_definitions(spec))
    dashboard = template.add_resource(
        cloudwatch.Dashboard(
            "Dashboard",
            DashboardBody=Sub(
                dashboard_body(spec),
                Alb=GetAtt(balancer.load_balancer, "LoadBalancerFullName"),
                Db=Ref(database.instance),
                Cluster=Ref(compute.cluster),
                Service=GetAtt(compute.service, "Name"),
            ),
        )
    )
    return Monitoring(topic=topic, alarms=alarms, dashboard=dashboard)

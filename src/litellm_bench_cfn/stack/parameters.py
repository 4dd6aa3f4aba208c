"""Template parameters: what a console user may change, with defaults and bounds from the spec.

Bounds are chosen so that every value a user can pick keeps the spec's rules true: the task and
worker maxima are the ones the DB connection budget was sized for, and the DB classes offered are
the ones that can hold the configured `max_connections`. Combinations that single-parameter bounds
cannot express (Fargate CPU/memory pairs, min <= desired <= max) are `Rules` (see rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter, Template

from .. import catalog
from ..spec import BenchmarkSpec


@dataclass(frozen=True)
class Parameters:
    desired_count: Parameter
    min_count: Parameter | None
    """None with a fixed fleet (scaling.enabled false): no autoscaling bounds to choose."""
    max_count: Parameter | None
    task_cpu: Parameter
    task_memory: Parameter
    workers: Parameter
    db_instance_class: Parameter
    allowed_ingress_cidr: Parameter
    benchmark_api_base: Parameter


AUTOSCALING_PARAMETERS = ("MinTaskCount", "MaxTaskCount")


def parameter_groups(autoscaling: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    bounds = AUTOSCALING_PARAMETERS if autoscaling else ()
    return (
        ("Proxy sizing", ("DesiredTaskCount", *bounds, "TaskCpu", "TaskMemory", "WorkersPerTask")),
        ("Database", ("DBInstanceClass",)),
        ("Network and access", ("AllowedIngressCidr",)),
        ("Load test", ("BenchmarkApiBase",)),
    )


def parameter_labels(autoscaling: bool) -> dict[str, str]:
    labels = dict(PARAMETER_LABELS)
    if not autoscaling:
        for name in AUTOSCALING_PARAMETERS:
            del labels[name]
        labels["DesiredTaskCount"] = "Proxy tasks (a fixed fleet: no autoscaling)"
    return labels


PARAMETER_LABELS: dict[str, str] = {
    "DesiredTaskCount": "Proxy tasks at launch",
    "MinTaskCount": "Autoscaling minimum tasks",
    "MaxTaskCount": "Autoscaling maximum tasks",
    "TaskCpu": "CPU units per task",
    "TaskMemory": "Memory per task (MiB)",
    "WorkersPerTask": "Proxy workers per task",
    "DBInstanceClass": "RDS instance class",
    "AllowedIngressCidr": "Who may reach the load balancer",
    "BenchmarkApiBase": "Fake OpenAI endpoint URL",
}


def add_parameters(template: Template, spec: BenchmarkSpec, benchmark_api_base_default: str) -> Parameters:
    max_tasks = spec.most_tasks
    count_bounds = {"Type": "Number", "MinValue": 1, "MaxValue": max_tasks}

    def add(title: str, **kwargs: object) -> Parameter:
        return template.add_parameter(Parameter(title, **kwargs))

    autoscaling = spec.scaling.enabled
    if autoscaling:
        desired_text = "Proxy tasks started at launch. Must lie within min/max tasks."
    else:
        desired_text = (
            f"Proxy tasks the service keeps running: a fixed fleet, no autoscaling (benchmark: "
            f"{spec.tasks.desired_count}). At most {max_tasks}: the DB connection pools are sized for "
            f"{spec.pool_tasks} tasks at once, a rolling deployment's replacements included."
        )
    if spec.fewest_tasks_for_bandwidth > 1:
        desired_text += f" At least {spec.fewest_tasks_for_bandwidth}: the benchmark's request bandwidth needs them."
    desired = add(
        "DesiredTaskCount",
        Default=spec.tasks.desired_count,
        Description=desired_text,
        **{**count_bounds, "MinValue": spec.fewest_tasks_for_bandwidth},
    )
    min_count = max_count = None
    if autoscaling:
        min_count = add(
            "MinTaskCount",
            Default=spec.scaling.min_tasks,
            Description="Fewest tasks autoscaling keeps.",
            **count_bounds,
        )
        max_count = add(
            "MaxTaskCount",
            Default=max_tasks,
            Description=f"Most tasks autoscaling starts (the DB connection pools are sized for {max_tasks}).",
            **count_bounds,
        )

    db_classes = sorted(
        name
        for name, cls in catalog.DB_INSTANCE_CLASSES.items()
        if cls.default_max_connections >= spec.database.max_connections
    )
    return Parameters(
        desired_count=desired,
        min_count=min_count,
        max_count=max_count,
        task_cpu=add(
            "TaskCpu",
            Type="Number",
            Default=spec.tasks.cpu,
            AllowedValues=sorted(catalog.FARGATE_MEMORY_BY_CPU),
            Description="Fargate CPU units per task; 1024 = 1 vCPU (benchmark: 4096).",
        ),
        task_memory=add(
            "TaskMemory",
            Type="Number",
            Default=spec.tasks.memory,
            MinValue=512,
            MaxValue=122880,
            Description="Fargate memory per task in MiB; must suit TaskCpu (benchmark: 8192).",
        ),
        workers=add(
            "WorkersPerTask",
            Type="Number",
            Default=spec.litellm.workers,
            MinValue=1,
            MaxValue=spec.litellm.workers,
            Description=f"LiteLLM worker processes per task, about one per vCPU (benchmark: 4; at most "
            f"{spec.litellm.workers}, the DB pools are sized for it).",
        ),
        db_instance_class=add(
            "DBInstanceClass",
            Type="String",
            Default=spec.database.instance_class,
            AllowedValues=db_classes,
            Description="RDS PostgreSQL class (benchmark: db.r6g.xlarge, 4 vCPU / 32 GiB).",
        ),
        allowed_ingress_cidr=add(
            "AllowedIngressCidr",
            Type="String",
            Default=spec.network.allowed_ingress_cidr,
            AllowedPattern=r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$",
            ConstraintDescription="an IPv4 CIDR such as 203.0.113.0/24",
            Description="IPv4 range allowed to reach the load balancer; narrow it to your own address.",
        ),
        benchmark_api_base=add(
            "BenchmarkApiBase",
            Type="String",
            Default=benchmark_api_base_default,
            AllowedPattern=r"^https?://.+",
            ConstraintDescription="an http:// or https:// URL",
            Description="Base URL of the fake OpenAI endpoint that the fake-openai-endpoint model calls.",
        ),
    )

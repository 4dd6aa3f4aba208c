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


SIZING_GROUP = "Proxy sizing"
DATABASE_GROUP = "Database"
NETWORK_GROUP = "Network and access"
LOAD_TEST_GROUP = "Load test"


def add_console_parameter(template: Template, parameter: Parameter, group: str, label: str) -> Parameter:
    """Adds the parameter with its console group and label, so the console names only what the template has."""
    template.add_parameter(parameter)
    template.add_parameter_to_group(parameter, group)
    template.set_parameter_label(parameter, label)
    return parameter


def add_parameters(template: Template, spec: BenchmarkSpec, benchmark_api_base_default: str) -> Parameters:
    max_tasks = spec.most_tasks
    count_bounds = {"Type": "Number", "MinValue": 1, "MaxValue": max_tasks}

    def add(title: str, group: str, label: str, **kwargs: object) -> Parameter:
        return add_console_parameter(template, Parameter(title, **kwargs), group, label)

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
        SIZING_GROUP,
        "Proxy tasks at launch" if autoscaling else "Proxy tasks (a fixed fleet: no autoscaling)",
        Default=spec.tasks.desired_count,
        Description=desired_text,
        **{**count_bounds, "MinValue": spec.fewest_tasks_for_bandwidth},
    )
    min_count = max_count = None
    if autoscaling:
        min_count = add(
            "MinTaskCount",
            SIZING_GROUP,
            "Autoscaling minimum tasks",
            Default=spec.scaling.min_tasks,
            Description="Fewest tasks autoscaling keeps.",
            **count_bounds,
        )
        max_count = add(
            "MaxTaskCount",
            SIZING_GROUP,
            "Autoscaling maximum tasks",
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
            SIZING_GROUP,
            "CPU units per task",
            Type="Number",
            Default=spec.tasks.cpu,
            AllowedValues=sorted(catalog.FARGATE_MEMORY_BY_CPU),
            Description="Fargate CPU units per task; 1024 = 1 vCPU (benchmark: 4096).",
        ),
        task_memory=add(
            "TaskMemory",
            SIZING_GROUP,
            "Memory per task (MiB)",
            Type="Number",
            Default=spec.tasks.memory,
            MinValue=512,
            MaxValue=122880,
            Description="Fargate memory per task in MiB; must suit TaskCpu (benchmark: 8192).",
        ),
        workers=add(
            "WorkersPerTask",
            SIZING_GROUP,
            "Proxy workers per task",
            Type="Number",
            Default=spec.litellm.workers,
            MinValue=1,
            MaxValue=spec.litellm.workers,
            Description=f"LiteLLM worker processes per task, about one per vCPU (benchmark: 4; at most "
            f"{spec.litellm.workers}, the DB pools are sized for it).",
        ),
        db_instance_class=add(
            "DBInstanceClass",
            DATABASE_GROUP,
            "RDS instance class",
            Type="String",
            Default=spec.database.instance_class,
            AllowedValues=db_classes,
            Description="RDS PostgreSQL class (benchmark: db.r6g.xlarge, 4 vCPU / 32 GiB).",
        ),
        allowed_ingress_cidr=add(
            "AllowedIngressCidr",
            NETWORK_GROUP,
            "Who may reach the load balancer",
            Type="String",
            Default=spec.network.allowed_ingress_cidr,
            AllowedPattern=r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$",
            ConstraintDescription="an IPv4 CIDR such as 203.0.113.0/24",
            Description="IPv4 range allowed to reach the load balancer; narrow it to your own address.",
        ),
        benchmark_api_base=add(
            "BenchmarkApiBase",
            LOAD_TEST_GROUP,
            "Fake OpenAI endpoint URL",
            Type="String",
            Default=benchmark_api_base_default,
            AllowedPattern=r"^https?://.+",
            ConstraintDescription="an http:// or https:// URL",
            Description="Base URL of the fake OpenAI endpoint that the fake-openai-endpoint model calls.",
        ),
    )
